"""Private: the CSV writer (RFC 4180, UTF-8, LF line ends) and the exact bytes it writes for given records."""

from __future__ import annotations

from typing import BinaryIO

import polars as pl

from ..errors import UsageError, WriteError
from . import WriteOptions
from ._csvencoding import UTF8_BOM

__all__ = ["CsvWriter", "check_delimiter", "envelope_size", "open_writer", "record_sizes"]


def check_delimiter(delimiter: str) -> str:
    """``delimiter`` when it is one ASCII character other than a quote or line break; else a UsageError."""
    if len(delimiter) != 1 or not delimiter.isascii() or delimiter in "\"\r\n":
        raise UsageError(f"delimiter must be one ASCII character other than a quote or line break, "
                         f"not {delimiter!r}")
    return delimiter


def _quote(value: str, delimiter: str, *, lone: bool) -> str:
    if (lone and value == "") or delimiter in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _header_bytes(labels: tuple[str, ...], options: WriteOptions) -> bytes:
    delimiter = check_delimiter(options.delimiter)
    lone = len(labels) == 1
    line = delimiter.join(_quote(label, delimiter, lone=lone) for label in labels)
    if not line.strip():
        # a header of blank labels would make a whitespace-only file, which reads as empty: quote them
        line = delimiter.join('"' + label + '"' for label in labels)
    line += "\n"
    return (UTF8_BOM if options.bom else b"") + line.encode("utf-8")


def _prepare(frame: pl.DataFrame) -> pl.DataFrame:
    """All columns as non-null strings; for several columns, "" as null so polars writes it unquoted."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name) if dtype == pl.String else pl.col(name).cast(pl.String)
        col = col.fill_null("")
        if frame.width > 1:
            col = pl.when(col != "").then(col)
        exprs.append(col.alias(name))
    return frame.select(exprs)


class CsvWriter:
    """Writes a header row, then frames of records, as RFC 4180 UTF-8 CSV with LF line ends."""

    def __init__(self, sink: BinaryIO, *, labels: tuple[str, ...], options: WriteOptions) -> None:
        if not labels:
            raise UsageError("a CSV file needs at least one column")
        self._sink = sink
        self._labels = labels
        self._delimiter = check_delimiter(options.delimiter)
        self._closed = False
        self._write(_header_bytes(labels, options))

    def _write(self, data: bytes) -> None:
        try:
            self._sink.write(data)
        except OSError as exc:
            raise WriteError(f"cannot write the CSV output: {exc.strerror or exc}") from exc

    def write(self, frame: pl.DataFrame, *, records: pl.Series | None = None) -> None:
        """Append records (columns in label order; any column names)."""
        del records
        if self._closed:
            raise WriteError("the CSV writer is closed")
        if frame.width != len(self._labels):
            raise UsageError(f"the frame has {frame.width} columns, the header {len(self._labels)}")
        if not frame.height:
            return
        try:
            _prepare(frame).write_csv(self._sink, include_header=False, separator=self._delimiter,
                                      line_terminator="\n", quote_char='"', quote_style="necessary",
                                      null_value="")
        except OSError as exc:
            raise WriteError(f"cannot write the CSV output: {exc.strerror or exc}") from exc

    def close(self) -> None:
        """Finish the file (nothing is pending); the sink stays open."""
        self._closed = True


def open_writer(sink: BinaryIO, *, labels: tuple[str, ...], options: WriteOptions) -> CsvWriter:
    """Start a CSV file on a binary sink: the header row is written at once."""
    return CsvWriter(sink, labels=tuple(labels), options=options)


def record_sizes(frame: pl.DataFrame, *, labels: tuple[str, ...], options: WriteOptions) -> pl.Series:
    """Exact bytes each record adds to the file (values, quotes, delimiters and the LF), as Int64."""
    delimiter = check_delimiter(options.delimiter)
    if frame.width != len(labels):
        raise UsageError(f"the frame has {frame.width} columns, the header {len(labels)}")
    special = "[" + "".join("\\" + c if c in "\\^]-[" else c for c in {delimiter, '"'}) + "\\r\\n]"
    lone = frame.width == 1
    sizes = []
    for name, dtype in frame.schema.items():
        col = (pl.col(name) if dtype == pl.String else pl.col(name).cast(pl.String)).fill_null("")
        quoted = col.str.contains(special)
        if lone:
            quoted = quoted | (col == "")
        size = col.str.len_bytes().cast(pl.Int64) + pl.when(quoted).then(
            2 + col.str.count_matches('"', literal=True).cast(pl.Int64)).otherwise(0)
        sizes.append(size)
    total = pl.sum_horizontal(sizes) + (frame.width - 1) + 1
    return frame.select(total.cast(pl.Int64).alias("bytes")).to_series()


def envelope_size(*, labels: tuple[str, ...], options: WriteOptions) -> int:
    """Bytes of a CSV file with no records: the byte order mark (if asked for) and the header row."""
    return len(_header_bytes(tuple(labels), options))
