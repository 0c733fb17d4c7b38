"""XLSX written with xlsxwriter: every value a text cell.

Every value is a text cell (``t="inlineStr"``, what xlsxwriter writes in constant-memory mode), so
leading zeros, long numbers and ``=`` survive; "number stored as text" warnings are switched off;
row 1 holds the labels; a record of empty values keeps its first cell as empty text, so that it reads
back as a (reported) empty row and not as nothing. xlsxwriter builds the workbook (styles, relations,
properties ...); the sheet's cells are generated with polars expressions and streamed into its XML (a
Python call per cell, ``write_row``, is far slower: benchmark case csv-xlsx). Text is escaped as Excel
does: ``&<>`` as entities, control characters and a literal ``_xHHHH_`` as ``_xHHHH_`` escapes. A value
longer than Excel's 32,767 characters (UTF-16 units) or a record past row 1,048,576 raises
:class:`WriteError` naming the record and field. :func:`record_sizes` is an *estimate* of each record's
share of the compressed file (its XML size times the frame's compression ratio); :func:`envelope_size`
is exact (an empty workbook with the header row). ``split`` measures the parts it writes.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, BinaryIO

import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from ..errors import WriteError
from . import WriteOptions
from ._workbook import MAX_COLUMNS, MAX_ROWS

__all__ = ["MAX_CELL_CHARS", "XlsxWriter", "envelope_size", "open_writer", "record_sizes"]

MAX_CELL_CHARS = 32_767
_CREATED = datetime(2000, 1, 1, tzinfo=UTC)  # fixed, so equal input gives equal bytes




@lru_cache(maxsize=32)
def _skeleton(sheet_name: str) -> bytes:
    """An empty workbook from xlsxwriter: every part but the sheet's cells."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False, "in_memory": True})
    book.set_properties({"created": _CREATED})
    try:
        sheet = book.add_worksheet(sheet_name)
    except Exception as error:  # noqa: BLE001 - xlsxwriter's InvalidWorksheetName and friends
        raise WriteError(f"cannot name the sheet {sheet_name!r}: {error}") from None
    sheet.ignore_errors({"number_stored_as_text": "A1:XFD1048576"})
    book.close()
    return buffer.getvalue()


_SLICE = 25_000  # records turned into XML at a time: bounds memory, keeps polars busy
_ESCAPE_NEEDED = r"[\x00-\x08\x0B-\x1F\x{FFFE}\x{FFFF}]|_x[0-9A-Fa-f]{4}_"
_LITERAL_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")


def _excel_escape(value: str) -> str:
    value = _LITERAL_ESCAPE.sub("_x005F_", value)
    return _CONTROL_RE.sub(lambda m: f"_x{ord(m.group(0)):04X}_", value)


def _rows_xml(frame: pl.DataFrame, first_row: int, *, keep_empty: bool = False) -> pl.Series:
    """One ``<row>`` element per record, cells ``A..``, rows numbered from ``first_row``.

    An empty value is no cell, as Excel writes it, unless ``keep_empty`` (the header: so a blank last
    label still widens the sheet to every column) or it is the first of a record of empty values only.
    """
    width = frame.width
    values: dict[str, pl.Series] = {}
    for j, name in enumerate(frame.columns):
        column = frame[name].cast(pl.String).fill_null("")
        special = column.str.contains(_ESCAPE_NEEDED)
        if special.any():
            where = special.arg_true()
            column = column.scatter(where, pl.Series([_excel_escape(v) for v in column.gather(where)],
                                                     dtype=pl.String))
        values[f"v{j}"] = column
    number = pl.int_range(first_row, first_row + frame.height, dtype=pl.Int64).cast(pl.String)
    parts: list[pl.Expr] = [pl.lit('<row r="'), number, pl.lit(f'" spans="1:{width}">')]
    for j in range(width):
        value = pl.col(f"v{j}")
        cell = pl.concat_str([
            pl.lit(f'<c r="{xl_col_to_name(j)}'), number, pl.lit('" t="inlineStr"><is><t'),
            pl.when(value.str.contains(r"^\s|\s$")).then(pl.lit(' xml:space="preserve">')).otherwise(pl.lit(">")),
            value.str.replace_many(["&", "<", ">"], ["&amp;", "&lt;", "&gt;"]), pl.lit("</t></is></c>")])
        # a record of empty values keeps its first cell, as empty text: a row without cells is no row to
        # a reader, and a last one would vanish unreported
        empty = value == "" if j else (value == "") & ~pl.all_horizontal([pl.col(f"v{k}") == "" for k in range(width)])
        parts.append(cell if keep_empty else pl.when(empty).then(pl.lit("")).otherwise(cell))
    parts.append(pl.lit("</row>"))
    return pl.DataFrame(values).select(pl.concat_str(parts).alias("xml")).to_series()


def _check_cells(frame: pl.DataFrame, labels: Sequence[str], records: pl.Series | None, done: int) -> None:
    for j, name in enumerate(frame.columns):
        column = frame[name].cast(pl.String).fill_null("")
        long = column.str.len_bytes() > MAX_CELL_CHARS
        if not long.any():
            continue
        for row in long.arg_true():
            value = str(column[int(row)])
            units = len(value.encode("utf-16-le")) // 2
            if units > MAX_CELL_CHARS:
                number = int(records[int(row)]) if records is not None else done + int(row) + 1
                where = "the header" if done < 0 else f"record {number}"
                raise WriteError(f"{where}, field {labels[j]!r}: {units:,} characters, more than an Excel "
                                 f"cell holds ({MAX_CELL_CHARS:,}); shorten it or write CSV")


class XlsxWriter:
    """Writes records to a binary sink as an XLSX workbook of text cells; ``close`` writes the zip."""

    def __init__(self, sink: BinaryIO, *, labels: tuple[str, ...], options: WriteOptions) -> None:
        if len(labels) > MAX_COLUMNS:
            raise WriteError(f"{len(labels):,} columns; an Excel sheet holds at most {MAX_COLUMNS:,}")
        self._sink = sink
        self._labels = labels
        self._options = options
        self._skeleton = _skeleton(options.sheet_name)
        self._rows = tempfile.SpooledTemporaryFile(max_size=32 << 20)  # noqa: SIM115 - closed in close()
        self._count = 0
        self._closed = False
        header = pl.DataFrame({f"h{j}": [label] for j, label in enumerate(labels)})
        _check_cells(header, labels, None, -1)
        if labels:
            self._append(header, 1, keep_empty=True)

    def _append(self, frame: pl.DataFrame, first_row: int, *, keep_empty: bool = False) -> None:
        xml = _rows_xml(frame, first_row, keep_empty=keep_empty)
        xml.to_frame().write_csv(self._rows, include_header=False, quote_style="never", line_terminator="")

    def write(self, frame: pl.DataFrame, *, records: pl.Series | None = None) -> None:
        """Append records (String columns in label order); ``records`` numbers them for error messages."""
        if self._closed:
            raise WriteError("the XLSX writer is closed")
        if frame.width != len(self._labels):
            raise WriteError(f"a frame of {frame.width} columns given for {len(self._labels)} labels")
        if frame.height == 0:
            return
        room = MAX_ROWS - 1 - self._count
        if frame.height > room:
            record = int(records[room]) if records is not None else self._count + room + 1
            raise WriteError(f"record {record}: an Excel sheet holds at most {MAX_ROWS - 1:,} records "
                             f"under its header; split the file (cgformat split) or write CSV")
        _check_cells(frame, self._labels, records, self._count)
        for start in range(0, frame.height, _SLICE):
            part = frame.slice(start, _SLICE)
            self._append(part, self._count + 2)
            self._count += part.height

    def close(self) -> None:
        """Write the workbook (a zip) to the sink; the sink stays open."""
        if self._closed:
            return
        self._closed = True
        try:
            _assemble(self._sink, self._skeleton, self._rows, columns=len(self._labels),
                      last_row=self._count + 1)
        finally:
            self._rows.close()


def _assemble(sink: BinaryIO, skeleton: bytes, rows: Any, *, columns: int, last_row: int) -> None:
    """Copy xlsxwriter's empty workbook to ``sink``, the sheet's cells and dimension spliced in."""
    size = rows.tell()
    rows.seek(0)
    with zipfile.ZipFile(io.BytesIO(skeleton)) as source, \
            zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            part.compress_type = zipfile.ZIP_DEFLATED
            part.external_attr = info.external_attr
            data = source.read(info)
            if not info.filename.startswith("xl/worksheets/sheet"):
                target.writestr(part, data)
                continue
            head, found, tail = data.partition(b"<sheetData/>")
            if not found or b'<dimension ref="A1"/>' not in head:
                raise WriteError("unexpected worksheet layout from xlsxwriter; cannot add the cells")
            if size and columns:
                dimension = f'<dimension ref="A1:{xl_col_to_name(columns - 1)}{last_row}"/>'.encode()
                head = head.replace(b'<dimension ref="A1"/>', dimension, 1)
            with target.open(part, "w", force_zip64=size > (1 << 30)) as out:
                out.write(head)
                if size:
                    out.write(b"<sheetData>")
                    shutil.copyfileobj(rows, out, 1 << 20)
                    out.write(b"</sheetData>")
                else:
                    out.write(b"<sheetData/>")
                out.write(tail)


def open_writer(sink: BinaryIO, *, labels: tuple[str, ...], options: WriteOptions) -> XlsxWriter:
    """Start an XLSX workbook on ``sink`` with these labels as its header row."""
    return XlsxWriter(sink, labels=labels, options=options)


def envelope_size(*, labels: tuple[str, ...], options: WriteOptions) -> int:
    """Bytes of the workbook with only the header row (exact: it is written and measured)."""
    return _envelope(labels, options.sheet_name)


@lru_cache(maxsize=64)
def _envelope(labels: tuple[str, ...], sheet_name: str) -> int:
    buffer = io.BytesIO()
    writer = XlsxWriter(buffer, labels=labels, options=WriteOptions(sheet_name=sheet_name))
    writer.close()
    return len(buffer.getvalue())


def record_sizes(frame: pl.DataFrame, *, labels: tuple[str, ...], options: WriteOptions) -> pl.Series:
    """An *estimate* of the bytes each record adds to the XLSX file.

    Each record's share is its row XML size times the compression ratio of the frame's rows (measured
    by deflating up to ~4 MB of them, taken from up to 16 places in the frame). Parts planned with it
    land within a few per cent of the estimate; ``split`` measures what it writes.
    """
    del options
    if frame.width != len(labels):
        raise WriteError(f"a frame of {frame.width} columns given for {len(labels)} labels")
    if frame.height == 0:
        return pl.Series("bytes", [], dtype=pl.Int64)
    starts = range(0, frame.height, _SLICE)
    every = max(1, len(starts) // 16)
    budget = (4 << 20) // min(16, len(starts))
    lengths: list[pl.Series] = []
    sample: list[str] = []
    for k, start in enumerate(starts):
        xml = _rows_xml(frame.slice(start, _SLICE), start + 2)
        raw = xml.str.len_bytes().cast(pl.Int64)
        lengths.append(raw)
        if k % every == 0:
            taken = int((raw.cum_sum() <= budget).sum()) or 1
            sample.extend(xml.head(taken).to_list())
    data = "".join(sample).encode("utf-8")
    ratio = len(zlib.compress(data, 6)) / max(1, len(data))
    raw_all = pl.concat(lengths) if len(lengths) > 1 else lengths[0]
    return (raw_all.cast(pl.Float64) * ratio).ceil().cast(pl.Int64).alias("bytes")

