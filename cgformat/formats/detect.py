"""Which format a source or target is: by the name given (``--from``/``--to``), by a file name's extension,
or by a stream's first bytes (standard input, bytes, a stream: they have no name to go by)."""

from __future__ import annotations

from pathlib import PurePath
from typing import BinaryIO

from ..errors import UnsupportedFormat

__all__ = ["READ_FORMATS", "WRITE_FORMATS", "check_format", "format_by_name", "format_from_content",
           "format_from_name"]

READ_FORMATS = ("csv", "xlsx", "xls", "xml")
WRITE_FORMATS = ("csv", "xlsx", "xml")
_SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls",
             ".xml": "xml"}
_XLSX_MAGIC = b"PK\x03\x04"                          # a zip container
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"      # an OLE2 compound file (BIFF8)


def format_from_name(name: str | PurePath) -> str:
    """The format a file name's extension stands for, or :class:`UnsupportedFormat`."""
    suffix = PurePath(name).suffix.lower()
    try:
        return _SUFFIXES[suffix]
    except KeyError:
        known = ", ".join(sorted(set(_SUFFIXES)))
        raise UnsupportedFormat(
            f"cannot tell the format of {str(name)!r} from its extension {suffix or '(none)'!r}; "
            f"use one of {known} or give fmt=csv|xlsx|xls|xml", options=("fmt",)) from None


def check_format(fmt: str, *, write: bool = False) -> str:
    """Normalise a format name and check it can be read (or written)."""
    key = fmt.lower().lstrip(".")
    allowed = WRITE_FORMATS if write else READ_FORMATS
    if key == "xls" and write:
        raise UnsupportedFormat("cgformat cannot write .xls (BIFF8): no maintained writer exists; "
                                "write xlsx instead (CG accepts it)")
    if key not in allowed:
        raise UnsupportedFormat(f"unsupported format {fmt!r}; choose one of: {', '.join(allowed)}"
                                + (" (CG never accepts JSON)" if key == "json" else ""))
    return key


def format_by_name(fmt: str | None, name: str | PurePath | None, *, write: bool = False) -> str | None:
    """The format given (``fmt``), else the one ``name``'s extension stands for; None when neither is given
    (a stream, whose content tells: :func:`format_from_content`)."""
    if fmt:
        return check_format(fmt, write=write)
    if name is not None:
        return check_format(format_from_name(name), write=write)
    return None


def format_from_content(stream: BinaryIO) -> str:
    """xlsx or xls by their signatures, xml when the text starts with a declaration or an element, else csv.
    The stream is left where it was."""
    at = stream.tell()
    head = stream.read(256)
    stream.seek(at)
    if head.startswith(_XLSX_MAGIC):
        return "xlsx"
    if head.startswith(_XLS_MAGIC):
        return "xls"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<?xml") or (text[:1] == b"<" and (text[1:2].isalpha() or text[1:2] in (b"_", b"!"))):
        return "xml"
    return "csv"
