"""Options shared by several commands: how to read the input, custom parameter types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..formats import ReadOptions

F = TypeVar("F", bound=Callable[..., Any])

_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


class DelimiterType(click.ParamType):
    """A one-character delimiter; also accepts the names tab, comma, semicolon, pipe and ``\\t``."""

    name = "delimiter"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        text = _DELIMITER_NAMES.get(text.lower(), text)
        if len(text) != 1 or text in "\"\r\n":
            self.fail(f"{value!r} is not a single-character delimiter (or tab, comma, semicolon, pipe)",
                      param, ctx)
        return text


DELIMITER = DelimiterType()


def read_options(func: F) -> F:
    """Add the input options (--from, --sheet, --encoding, --delimiter, --record-tag) to a command."""
    opts = [
        click.option("--from", "from_fmt", type=click.Choice(["csv", "xlsx", "xls", "xml"]),
                     help="Input format (default: from the extension; needed for '-').", metavar="FORMAT"),
        click.option("--sheet", help="Excel sheet: its name, or its position counted from 1."),
        click.option("--encoding", help="CSV: force the input encoding (default: detect UTF-8, UTF-16, cp1252)."),
        click.option("--delimiter", type=DELIMITER, help="CSV: force the input delimiter (default: detect)."),
        click.option("--record-tag", help="XML: the record element's tag (records/record, RECORDS/RECORD "
                                          "are recognised by themselves)."),
    ]
    wrapped = func
    for opt in reversed(opts):
        wrapped = opt(wrapped)
    return wrapped


def make_read_options(*, sheet: str | None = None, encoding: str | None = None, delimiter: str | None = None,
                      record_tag: str | None = None, **_: Any) -> ReadOptions:
    """Build :class:`ReadOptions` from the values of :func:`read_options`.

    A ``--sheet`` of digits is a 1-based position unless a sheet has exactly that name (the excel reader
    resolves names first, see :func:`cgformat.formats.excel.resolve_sheet`).
    """
    return ReadOptions(encoding=encoding, delimiter=delimiter, sheet=sheet, record_tag=record_tag)

