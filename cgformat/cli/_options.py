"""Options shared by several commands: how to read the input, custom parameter types."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import UsageError
from ..formats import ReadOptions

if TYPE_CHECKING:
    from ..schema import Schema

F = TypeVar("F", bound=Callable[..., Any])

_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


# ParamType is generic only in newer click: no type argument, so older click still imports this
class DelimiterType(click.ParamType):  # type: ignore[type-arg]
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
_DEFAULTS = ReadOptions()


def read_options(func: F) -> F:
    """Add the input options (--from, --sheet, --header-row, --encoding, --delimiter, --record-tag and the
    protective limits --max-cells, --max-columns, --max-field-bytes) to a command."""
    opts = [
        click.option("--from", "from_fmt", type=click.Choice(["csv", "xlsx", "xls", "xml"]),
                     help="Input format (default: from the extension; for '-', standard input, from the "
                          "content).", metavar="FORMAT"),
        click.option("--sheet", help="Excel sheet: its name, or its position counted from 1."),
        click.option("--header-row", type=click.IntRange(min=1), metavar="N",
                     help="CSV and Excel: the line (sheet row) the header is on, when rows above it hold a "
                          "title or notes; they are left out. Default: the first non-empty one."),
        click.option("--encoding", help="CSV: force the input encoding (default: detect UTF-8, UTF-16, cp1252)."),
        click.option("--delimiter", type=DELIMITER, help="CSV: force the input delimiter (default: detect)."),
        click.option("--record-tag", help="XML: the record element's tag (records/record, RECORDS/RECORD "
                                          "are recognised by themselves)."),
        click.option("--max-cells", type=click.IntRange(min=1), metavar="N",
                     help=f"Excel: refuse a sheet whose cells span more than N (rows x columns; protects "
                          f"memory, zip bombs). Default {_DEFAULTS.max_cells:,}."),
        click.option("--max-columns", type=click.IntRange(min=1), metavar="N",
                     help=f"Refuse an input with more than N columns. Default {_DEFAULTS.max_columns:,}."),
        click.option("--max-field-bytes", type=click.IntRange(min=1), metavar="N",
                     help=f"Refuse a value (or header label) longer than N bytes (UTF-8). Default "
                          f"{_DEFAULTS.max_field_bytes:,}."),
    ]
    wrapped = func
    for opt in reversed(opts):
        wrapped = opt(wrapped)
    return wrapped


def make_read_options(*, sheet: str | None = None, encoding: str | None = None, delimiter: str | None = None,
                      record_tag: str | None = None, max_cells: int | None = None, max_columns: int | None = None,
                      max_field_bytes: int | None = None, header_row: int | None = None,
                      **_: Any) -> ReadOptions:
    """Build :class:`ReadOptions` from the values of :func:`read_options`.

    A ``--sheet`` of digits is a 1-based position unless a sheet has exactly that name (the excel reader
    resolves names first, see :func:`cgformat.formats.excel.resolve_sheet`). The protective limits keep
    their defaults unless given.
    """
    return ReadOptions(encoding=encoding, delimiter=delimiter, sheet=sheet, record_tag=record_tag,
                       header_row=header_row,
                       max_cells=max_cells or _DEFAULTS.max_cells,
                       max_columns=max_columns or _DEFAULTS.max_columns,
                       max_field_bytes=max_field_bytes or _DEFAULTS.max_field_bytes)



def schema_options(func: F) -> F:
    """Add --type / --schema / --template: the ways to say what the records are."""
    from ..schema import list_schemas

    opts = [
        click.option("--type", "record_type", metavar="TYPE",
                     help="Record type: " + ", ".join(list_schemas()) + "."),
        click.option("--schema", "schema_path", type=click.Path(dir_okay=False), metavar="PATH",
                     help="Your own Table Schema JSON file instead of a built-in type."),
        click.option("--template", "template_path", type=click.Path(dir_okay=False), metavar="PATH",
                     help="The template CG lets you download (CSV, XLSX or XML): its columns, order and case "
                          "become the required header. With --type, that type's checks apply to its columns."),
    ]
    wrapped = func
    for opt in reversed(opts):
        wrapped = opt(wrapped)
    return wrapped


def load_schema_from_options(*, record_type: str | None, schema_path: str | None, template_path: str | None,
                             required: bool = False) -> Schema | None:
    """The schema the options name (``None`` when none was given and none is ``required``), with the
    settings' ``[columns]`` mapping."""
    from ..jobs.template import schema_from_template
    from ..schema import list_schemas, load_schema
    from ._settings import from_file, with_columns

    # what the command line names replaces what the settings file names when the two do not go together
    if schema_path and not from_file("schema_path"):
        record_type = None if from_file("record_type") else record_type
        template_path = None if from_file("template_path") else template_path
    elif (record_type and not from_file("record_type")) or (template_path and not from_file("template_path")):
        schema_path = None if from_file("schema_path") else schema_path
    if schema_path and (record_type or template_path):
        raise UsageError("give --schema alone: it replaces --type and --template")
    if template_path:
        base = load_schema(record_type) if record_type else None
        return with_columns(schema_from_template(template_path, base=base))
    if schema_path or record_type:
        return with_columns(load_schema(schema_path or record_type or ""))
    if required:
        raise UsageError("say what the records are: --type " + "|".join(list_schemas())
                         + ", --schema PATH (a Table Schema) or --template PATH (CG's downloaded template)")
    return None
