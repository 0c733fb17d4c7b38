"""The format layer: one module per format, reached through a lazy registry.

Readers take a binary stream and give :class:`~cgformat.model.RecordBatch` values of all-text frames;
writers take frames and write bytes to a binary stream. Nothing here opens a path: :mod:`cgformat.files` does.
Which format a name or a stream is: :mod:`.detect`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Protocol

import polars as pl

from ..errors import UsageError
from ..model import RecordBatch, SourceInfo
from ._text import TextWriter, as_text
from .detect import READ_FORMATS, WRITE_FORMATS, check_format, format_from_content, format_from_name

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "READ_FORMATS",
    "WRITE_FORMATS",
    "ReadOptions",
    "Reader",
    "WriteOptions",
    "Writer",
    "check_format",
    "envelope_size",
    "format_from_content",
    "format_from_name",
    "open_reader",
    "open_writer",
    "record_sizes",
]

DEFAULT_BATCH_SIZE = 100_000
_MODULES = {"csv": "csv", "xlsx": "excel", "xls": "excel", "xml": "xml"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadOptions:
    """How to read a source; ``None`` means detect.

    ``sheet`` is a sheet's name, or its position counted from 1 (``sheet=2`` is the second sheet), as the
    ``sheets`` listing and every error message count them; 0 and negative positions name no sheet.
    """

    encoding: str | None = None          # csv: force an encoding (utf-8, utf-16, cp1252, latin-1 ...)
    delimiter: str | None = None         # csv: force a delimiter
    sheet: str | int | None = None       # excel: sheet name, or 1-based position (2: the second sheet)
    header_row: int | None = None        # csv, excel: 1-based line / sheet row of the header (rows above it
                                         # are no records: a title); None: the first non-empty one
    record_tag: str | None = None        # xml: the record element's tag (records/record and RECORDS/RECORD
                                         # are recognised by themselves)
    batch_size: int = DEFAULT_BATCH_SIZE # records per batch for streaming formats
    max_cells: int = 20_000_000          # excel: refuse sheets spanning more cells (protects memory)
    max_columns: int = 1_024             # any: refuse more columns than this (protects memory and time)
    max_field_bytes: int = 10_000_000    # any: refuse a value (or label) longer than this, in UTF-8 bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteOptions:
    """How to write a target."""

    bom: bool = False                    # csv: write a UTF-8 byte order mark
    delimiter: str = ","                 # csv
    xml_tags: tuple[str, ...] | None = None  # xml: element name per column (schema's tags), else labels
    root_tag: str = "records"            # xml
    record_tag: str = "record"           # xml
    sheet_name: str = "Sheet1"           # xlsx
    booleans: tuple[str, str] = ("true", "false")  # any: how a Boolean column's true and false are written


class Reader(Protocol):
    """An open source: its facts now, its records in batches."""

    info: SourceInfo

    def batches(self) -> Iterator[RecordBatch]:
        """Yield the records in order, in batches of at most ``ReadOptions.batch_size``."""
        ...


class Writer(Protocol):
    """An output being written: frames in, bytes out; ``close`` completes the file."""

    def write(self, frame: pl.DataFrame, *, records: pl.Series | None = None) -> None:
        """Append records (String columns in label order); ``records`` numbers them for error messages."""
        ...

    def close(self) -> None:
        """Finish the file (footer, zip directory); the sink itself stays open."""
        ...


def _module(fmt: str) -> object:
    return importlib.import_module(f"{__name__}.{_MODULES[fmt]}")


def open_reader(stream: BinaryIO, fmt: str, *, source: str, options: ReadOptions | None = None,
                read_ahead: int = 1, keep_raw: bool = False) -> Reader:
    """Open a binary stream as a reader of format ``fmt``; ``source`` names it in messages.

    ``read_ahead``: batches a background thread reads ahead of the one the caller holds (each one more
    batch in memory). ``keep_raw``: a CSV reader keeps each batch's bytes when they are what the CSV writer
    writes (:func:`cgformat.formats.csv.raw_segments`), for a split to copy.
    """
    fmt = check_format(fmt)
    mod = _module(fmt)
    options = options or ReadOptions()
    if options.header_row is not None:
        if fmt == "xml":
            raise UsageError("a header row is for CSV and Excel sources: an XML record names its fields itself")
        if options.header_row < 1:
            raise UsageError(f"the header row is counted from 1, not {options.header_row}")
    if isinstance(options.sheet, bool):
        # True is the int 1 to Python: it would quietly read the first sheet
        raise UsageError(f"sheet={options.sheet}: give a sheet's name or its position counted from 1",
                         options=("sheet",))
    if options.sheet is not None and fmt not in ("xlsx", "xls"):
        # a sheet named for a file that has none is a mistake (the wrong file?), not something to ignore
        raise UsageError(f"sheet= is for workbooks (xlsx, xls): {source} is {fmt}, which has no sheets",
                         options=("sheet",))
    from ._guards import GuardedReader, reader_failure

    try:
        extra = {"keep_raw": True} if keep_raw and fmt == "csv" else {}
        reader: Reader = mod.open_reader(stream, fmt=fmt, source=source,  # type: ignore[attr-defined]
                                         options=options, **extra)
    except Exception as error:
        raise reader_failure(error, fmt=fmt, source=source) from error
    return GuardedReader(reader, options, fmt=fmt, source=source, read_ahead=read_ahead)


def open_writer(sink: BinaryIO, fmt: str, labels: Sequence[str], *,
                options: WriteOptions | None = None) -> Writer:
    """Start writing format ``fmt`` with these header labels to a binary sink.

    The writer takes frames of any column types: each is written as text in CG's forms, or refused with a
    :class:`UsageError` naming the column (:mod:`cgformat.formats._text`).
    """
    fmt = check_format(fmt, write=True)
    mod = _module(fmt)
    options = options or WriteOptions()
    writer: Writer = mod.open_writer(sink, labels=tuple(labels), options=options)  # type: ignore[attr-defined]
    return TextWriter(writer, booleans=options.booleans)


def record_sizes(fmt: str, frame: pl.DataFrame, labels: Sequence[str], *,
                 options: WriteOptions | None = None) -> pl.Series:
    """Bytes each record adds to a file of format ``fmt`` (exact for csv and xml, an estimate for xlsx)."""
    fmt = check_format(fmt, write=True)
    frame = as_text(frame, booleans=(options or WriteOptions()).booleans)
    sizes: pl.Series = _module(fmt).record_sizes(frame, labels=tuple(labels),  # type: ignore[attr-defined]
                                                 options=options or WriteOptions())
    return sizes


def envelope_size(fmt: str, labels: Sequence[str], *, options: WriteOptions | None = None) -> int:
    """Bytes of a file of format ``fmt`` with no records (header, XML declaration and envelope ...)."""
    fmt = check_format(fmt, write=True)
    size: int = _module(fmt).envelope_size(labels=tuple(labels),  # type: ignore[attr-defined]
                                           options=options or WriteOptions())
    return size
