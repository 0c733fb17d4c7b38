"""Excel workbooks: XLSX and XLS read through fastexcel (calamine), XLSX written with xlsxwriter.

Reading
    fastexcel needs the whole file, so the stream is read into memory. The sheet is ``ReadOptions.sheet``
    (a name, or a 1-based position: see :func:`resolve_sheet`), else the only non-empty sheet; several
    non-empty sheets and no choice, or a sheet that does not exist, raise :class:`SheetError` (a usage
    error) listing the sheets with their positions and sizes. An XLSX sheet whose cells span more than
    ``ReadOptions.max_cells`` (rows x columns of the cells it really holds), that goes past Excel's
    1,048,576 rows or 16,384 columns, or whose parts inflate past the byte budget, raises
    :class:`LimitExceeded`: :class:`._workbook.Workbook` measures the package before fastexcel loads
    anything (a zip bomb or one far cell would otherwise exhaust memory); the declared ``<dimension>``
    is not trusted. A file that is not a workbook, is corrupt or is password-protected raises
    :class:`ReadError`, as does any failure (a panic included) inside fastexcel.

    The header is the first non-empty row of the sheet; ``labels`` are its cells as text. Columns are
    the sheet's used columns (columns left of the first used one are not read). Each later row is a
    record, except fully empty rows (``blank-row`` warning, not a record); ``lines`` are 1-based sheet
    row numbers. Every cell becomes text as Excel shows it:

    * text exactly as stored (leading zeros, spaces, ``=`` ...);
    * numbers as Excel's "General" format shows them, to Excel's 15 significant digits but never with
      an exponent: ``3.0`` -> ``3``, ``1e20`` -> ``100000000000000000000``, ``0.1+0.2`` -> ``0.3``,
      ``1/3`` -> ``0.333333333333333``, ``1e-20`` -> ``0.00000000000000000001``, the number
      12345678901234567890 -> ``12345678901234600000`` (Excel keeps 15 digits: such a number has
      lost its last digits in the workbook already; the same digits stored as text stay exact);
    * a number under a number format that only pads it is shown as the format shows it: ``00000``
      -> ``00042``, ``0.00`` -> ``3.50`` (XLSX and XLS); a format that would round it (``0.00`` on 0.125) or
      that cgformat does not apply (thousands separators, percent, currency, scientific, sections ...)
      leaves the General rendering, with a ``number-format`` warning naming the cells and the format;
    * dates and date-times ``YYYY-MM-DD HH:MM:SS`` (milliseconds, if the cell has them, as ``.fff``),
      ISO 8601 date cells (``t="d"``) included; times (a date cell below one day) ``HH:MM:SS``;
    * booleans ``TRUE`` / ``FALSE``; formulas their saved value; a formula without one (written by a
      program that does not calculate) reads as empty with a ``formula-no-value`` error naming the cell
      (XLSX; its row is a record, not an empty row); an XLS formula saved with empty text as its value
      (what a program that does not calculate saves) reads as empty with a ``formula-no-value`` warning;
      error values (``#DIV/0!``, ``#N/A`` ...) their text with a ``cell-error`` warning (XLSX only; in XLS
      they read as empty); empty cells ``""``. XLS cells are checked by a scan of the file's records
      (:mod:`._biff`); a file it cannot follow gets a ``number-format`` warning saying they were not checked.

Writing (XLSX)
    Every value is a text cell (``t="inlineStr"``, what xlsxwriter writes in constant-memory mode), so
    leading zeros, long numbers and ``=`` survive; "number stored as text" warnings are switched off;
    row 1 holds the labels. xlsxwriter builds the workbook (styles, relations, properties ...); the
    sheet's cells are generated with polars expressions and streamed into its XML, since a Python call
    per cell (``write_row``) costs about ten times more. Text is escaped as Excel does: ``&<>`` as
    entities, control characters and a literal ``_xHHHH_`` as ``_xHHHH_`` escapes. A value longer than
    Excel's 32,767 characters (UTF-16 units) or a record past row 1,048,576 raises :class:`WriteError`
    naming the record and field. :func:`record_sizes` is an *estimate* of each record's share of the
    compressed file (its XML size times the frame's compression ratio); :func:`envelope_size` is exact
    (an empty workbook with the header row). ``split`` measures the parts it writes.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, BinaryIO

import fastexcel
import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from ..errors import LimitExceeded, ReadError, SheetError, WriteError
from ..model import Issue, IssueCode, RecordBatch, Severity, SourceInfo, unique_columns
from . import ReadOptions, WriteOptions
from ._biff import scan_xls
from ._common import HINT_ROWS, label_issues, title_row_hint
from ._workbook import MAX_COLUMNS, MAX_ROWS, CellScan, NumberFormat, Workbook

__all__ = ["ExcelReader", "SheetInfo", "XlsxWriter", "envelope_size", "list_sheets", "open_reader",
           "open_writer", "record_sizes", "resolve_sheet"]

MAX_CELL_CHARS = 32_767
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_NUMBER_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"
_RENDERED = r"^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$"     # a number as fastexcel renders it
_DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
_LONG_WHOLE = r"^-?[0-9]{16,}$"
_DAY_US = 86_400_000_000
_SYSTEMS_APART = 1_462   # days from 1899-12-30 (serial 0 of the 1900 system, past February 1900) to 1904-01-01
_CREATED = datetime(2000, 1, 1, tzinfo=UTC)  # fixed, so equal input gives equal bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class SheetInfo:
    """A sheet of a workbook: ``index`` is 0-based; ``rows`` counts sheet rows up to the last used one,
    ``columns`` the used columns."""

    name: str
    index: int
    rows: int
    columns: int
    visible: bool

    def to_dict(self) -> dict[str, object]:
        """The sheet as JSON-ready data (``position`` is 1-based)."""
        return {"name": self.name, "index": self.index, "position": self.index + 1, "rows": self.rows,
                "columns": self.columns, "visible": self.visible}

    @property
    def empty(self) -> bool:
        """Whether the sheet has no cell with a value."""
        return self.rows == 0 or self.columns == 0


# --------------------------------------------------------------------------------------------- opening


def _format_of(data: bytes, fmt: str) -> str:
    if data.startswith(_CFB_MAGIC):
        return "xls"
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"
    return fmt


def _recoverable(error: BaseException) -> bool:
    """Whether an error from fastexcel is about the file (a Rust panic is a BaseException too)."""
    return not isinstance(error, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError))


def _open(data: bytes, *, source: str, fmt: str, options: ReadOptions) -> tuple[Any, Workbook | None]:
    """The fastexcel workbook, and the guard that checks each XLSX sheet before it is loaded."""
    if not data:
        raise ReadError(f"{source}: the file is empty, not a {fmt.upper()} workbook")
    encrypted = data.startswith(_CFB_MAGIC) and "EncryptedPackage".encode("utf-16-le") in data
    if encrypted:
        raise ReadError(f"{source}: the workbook is password-protected (encrypted); open it in Excel, "
                        f"remove the password (File > Info > Protect Workbook) and save it again")
    guard = None
    if data.startswith(_ZIP_MAGIC):
        guard = Workbook(data, source=source, max_cells=options.max_cells)
        if guard.error is not None:
            raise ReadError(_explain(data, source=source, fmt=fmt, error=guard.error))
        guard.check_parts()  # fastexcel loads shared strings and styles when it opens the workbook
        sheets = list(guard.sheets())
        if options.sheet is None and len(sheets) == 1:
            guard.check_sheet(sheets[0])   # the sheet to read is known: refused before fastexcel opens the book
    try:
        return fastexcel.read_excel(data), guard
    except BaseException as error:  # fastexcel errors (and Rust panics) become one clear message
        if not _recoverable(error):
            raise
        raise ReadError(_explain(data, source=source, fmt=fmt, error=error)) from None


def _explain(data: bytes, *, source: str, fmt: str, error: BaseException) -> str:
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    if data.startswith(_ZIP_MAGIC):
        what = "a zip file that is not a readable XLSX workbook (corrupt, truncated or another format)"
    elif data.startswith(_CFB_MAGIC):
        what = ("an OLE file that is not a readable XLS workbook (corrupt, password-protected, or a Word "
                "or other Office file)")
    elif data[:5].lower().startswith((b"<?xml", b"<html", b"<!doc", b"<tabl")):
        what = "a text (XML/HTML) file, not an Excel workbook; if it is XML records, read it as xml"
    elif b"," in data[:4096] or b";" in data[:4096] or b"\t" in data[:4096]:
        what = "not an Excel workbook (it looks like delimited text: read it as csv)"
    else:
        what = "not an Excel workbook"
    return f"{source}: cannot read as {fmt.upper()}: {what} ({detail})"


def _wrap(source: str, error: BaseException) -> ReadError:
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    return ReadError(f"{source}: cannot read the workbook: {detail}")


# --------------------------------------------------------------------------------------------- sizes


def _guard(name: str, guard: Workbook | None) -> None:
    """Refuse an XLSX sheet whose cells span more than ``max_cells`` (see :mod:`._guards`)."""
    if guard is not None:
        guard.check_sheet(name)


def _load(book: Any, index: int, *, source: str, **kwargs: Any) -> Any:
    try:
        return book.load_sheet(index, header_row=None, skip_rows=0, **kwargs)
    except BaseException as error:  # fastexcel errors (and Rust panics) become one clear message
        if not _recoverable(error):
            raise
        raise _wrap(source, error) from None


def _sheet_infos(book: Any, *, guard: Workbook | None, source: str,
                 loaded: dict[int, Any] | None = None) -> list[SheetInfo]:
    """Each sheet's size; the loaded sheets with data go into ``loaded`` (so the one read is not loaded twice)."""
    infos: list[SheetInfo] = []
    for index, name in enumerate(book.sheet_names):
        _guard(name, guard)
        sheet = _load(book, index, source=source, dtypes="string")
        width = int(sheet.width)
        rows = int(sheet.total_height) if width else 0
        info = SheetInfo(name=name, index=index, rows=rows, columns=width if rows else 0,
                         visible=sheet.visible == "visible")
        infos.append(info)
        if loaded is not None and not info.empty:
            loaded[index] = sheet
        del sheet
    return infos


def list_sheets(stream: BinaryIO, *, source: str = "<workbook>", fmt: str = "xlsx",
                options: ReadOptions | None = None) -> list[SheetInfo]:
    """The sheets of a workbook, in order, with their sizes and visibility."""
    data = stream.read()
    book, guard = _open(data, source=source, fmt=fmt, options=options or ReadOptions())
    return _sheet_infos(book, guard=guard, source=source)


def _listing(infos: Sequence[SheetInfo]) -> str:
    parts = []
    for s in infos:
        size = "empty" if s.empty else f"{s.rows} rows x {s.columns} columns"
        hidden = "" if s.visible else ", hidden"
        parts.append(f"{s.index + 1}: {s.name!r} ({size}{hidden})")
    return "; ".join(parts)


def resolve_sheet(names: Sequence[str], sheet: str | int) -> int | None:
    """The 0-based index of ``sheet`` among ``names``, or None when there is no such sheet.

    An ``int`` is a 1-based position (``2`` is the second sheet), as the error messages list the sheets.
    A ``str`` is a sheet name: exact first, then ignoring case and surrounding spaces if that is
    unambiguous; failing both, a string of digits is a 1-based position (``--sheet 2``).
    """
    if isinstance(sheet, int):
        return sheet - 1 if 1 <= sheet <= len(names) else None
    if sheet in names:
        return list(names).index(sheet)
    folded = [i for i, n in enumerate(names) if n.strip().casefold() == sheet.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    text = sheet.strip()
    if text.isdigit() and text.isascii():
        return resolve_sheet(names, int(text))
    return None


# --------------------------------------------------------------------------------------------- cells


def _general_text(value: pl.Expr) -> pl.Expr:
    """Excel's General rendering of a finite Float64, or null where :func:`_general` must compute it.

    The shortest text that reads back as the float is General's when it has at most 15 significant
    digits and no exponent (what almost every cell holds); other values are left to :func:`_general`.
    """
    text = value.cast(pl.String)
    text = pl.when(text.str.ends_with(".0")).then(text.str.head(-2)).otherwise(text)
    digits = text.str.replace_all(r"[-.]", "").str.strip_chars("0").str.len_bytes()
    return (pl.when(value == 0).then(pl.lit("0"))
            .when(text.str.contains(r"[eE]|inf|NaN") | (digits > 15)).then(pl.lit(None, dtype=pl.String))
            .otherwise(text))


def _general(value: float) -> str:
    """A number as Excel's General format shows it: 15 significant digits, without exponent."""
    if value == 0:
        return "0"
    text = format(Decimal(f"{value:.15g}"), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _to_polars(sheet: Any, *, source: str) -> pl.DataFrame:
    """A loaded sheet as a frame; fastexcel's failures (a Rust panic too) become a ReadError naming the file."""
    try:
        frame: pl.DataFrame = sheet.to_polars()
    except BaseException as error:
        if not _recoverable(error):
            raise
        raise _wrap(source, error) from None
    return frame


def _text_frame(book: Any, index: int, *, source: str, sheet: Any = None) -> pl.DataFrame:
    """The sheet from row 1, every cell as fastexcel renders it; columns named ``@N`` (0-based column)."""
    if sheet is None:
        sheet = _load(book, index, source=source, dtypes="string")
    absolute = [int(c.absolute_index) for c in sheet.available_columns()]
    frame = _to_polars(sheet, source=source)
    return frame.rename(dict(zip(frame.columns, [f"@{a}" for a in absolute], strict=True)))


def _typed(book: Any, index: int, wanted: dict[str, list[int]], *, source: str) -> pl.DataFrame:
    """Columns (0-based sheet columns) loaded again with a dtype each, named ``{dtype}@N``.

    A column can be wanted with several dtypes; each load takes one dtype per column.
    """
    loads: list[dict[int, str]] = []
    for dtype, columns in wanted.items():
        for column in columns:
            target = next((load for load in loads if column not in load), None)
            if target is None:
                target = {}
                loads.append(target)
            target[column] = dtype
    frames: list[pl.DataFrame] = []
    for dtypes in loads:
        sheet = _load(book, index, source=source, use_columns=sorted(dtypes), dtypes=dtypes)
        names = [f"{dtypes[int(c.absolute_index)]}@{int(c.absolute_index)}" for c in sheet.selected_columns]
        frame = _to_polars(sheet, source=source)
        frames.append(frame.rename(dict(zip(frame.columns, names, strict=True))))
    return pl.concat(frames, how="horizontal") if frames else pl.DataFrame()


def _date_system(text: pl.Expr, days: pl.Expr, *, date1904: bool) -> pl.Expr:
    """Date texts of fastexcel moved to the workbook's own date system where fastexcel used the other.

    ``days`` is the whole days of the cell's stored serial; a rendered date about 1,462 days (the distance
    of the two systems) from the date the serial means in the workbook's system is moved by exactly them.
    """
    epoch = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
    meant = (pl.lit(epoch) + pl.duration(days=days)).dt.date()
    shown = text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    off = (shown - meant).dt.total_days()
    moved = pl.when(off > 0).then(shown - pl.duration(days=_SYSTEMS_APART)) \
        .otherwise(shown + pl.duration(days=_SYSTEMS_APART))
    return (pl.when((off.abs() - _SYSTEMS_APART).abs() <= 1)
            .then(pl.concat_str([moved.dt.strftime("%Y-%m-%d"), text.str.slice(10)]))
            .otherwise(text))


def _cells_as_text(book: Any, index: int, frame: pl.DataFrame, *, source: str,
                   date1904: bool | None = None) -> pl.DataFrame:
    """Turn fastexcel's string rendering into Excel's (see the module docstring), column by column.

    fastexcel renders numbers with at most 9 decimals and whole numbers with every digit, booleans as
    ``true``/``false`` and times with the date ``1899-12-31``; text cells come out exact. The columns
    that may need it are loaded again with a dtype, which tells the cell's type: a ``float`` load gives
    numbers, booleans and text that parses as a number; a ``boolean`` load gives numbers and booleans
    but never text; a ``duration`` load gives dates only. So: a number whose rendering does not give
    back its float was rounded, and is rendered again; a whole number of 16 or more digits is a number
    (not text) when the boolean load has it, and is given Excel's 15 digits; a ``true``/``false`` with a
    float is a boolean; a date under one day is a time.
    """
    probes = frame.select(
        [(pl.col(c).str.contains(_NUMBER_TEXT) | pl.col(c).is_in(["true", "false"])).any().alias("n" + c)
         for c in frame.columns]
        + [pl.col(c).str.contains(_DATE_TEXT).any().alias("d" + c) for c in frame.columns]
        + [pl.col(c).str.contains(_LONG_WHOLE).any().alias("g" + c) for c in frame.columns]
    ).row(0, named=True)
    numeric = [c for c in frame.columns if probes["n" + c]]
    dates = [c for c in frame.columns if probes["d" + c]]
    long = [c for c in frame.columns if probes["g" + c]]
    loaded = _typed(book, index, {"float": [int(c[1:]) for c in numeric],
                                  "duration": [int(c[1:]) for c in dates],
                                  "boolean": [int(c[1:]) for c in long]}, source=source)
    work = pl.concat([frame, loaded], how="horizontal") if loaded.width else frame
    out: list[pl.Expr] = []
    for name in frame.columns:
        col = pl.col(name)
        expr = col
        if name in dates:
            micros = pl.col("duration" + name).dt.total_microseconds()
            if date1904 is not None:
                expr = _date_system(col, micros // _DAY_US, date1904=date1904)
            expr = pl.when(micros.is_not_null() & (micros >= 0) & (micros < _DAY_US)).then(col.str.slice(11)) \
                .otherwise(expr)
        if name in numeric:
            is_bool = pl.col("float" + name).is_not_null() & col.is_in(["true", "false"])
            expr = pl.when(is_bool).then(col.str.to_uppercase()).otherwise(expr)
        out.append(expr.alias(name))
    result = work.select(out)
    # a number whose text is not Excel's General rendering of its value is rendered again; the boolean
    # load tells a number (never null there) from text that only looks like one (always null there)
    redo: dict[str, tuple[pl.Series, pl.Series]] = {}
    for name in numeric:
        value = work["float" + name]
        text = frame[name]
        # text with leading zeros or trailing decimal zeros is no rendering of fastexcel's: a text cell
        number = (value.is_not_null() & value.is_finite() & text.str.contains(_RENDERED)).fill_null(value=False)
        if not number.any():
            continue
        general = value.to_frame("x").select(_general_text(pl.col("x"))).to_series()
        differs = (number & (general.is_null() | (general != text))).fill_null(value=False)
        if not differs.any():
            continue
        where = differs.arg_true()
        shown = general.gather(where)
        if shown.null_count():
            missing = shown.is_null().arg_true()
            shown = shown.scatter(missing, pl.Series([_general(float(v)) for v in value.gather(where).gather(missing)],
                                                     dtype=pl.String))
        keep = shown != text.gather(where)
        if keep.any():
            redo[name] = (where.filter(keep), shown.filter(keep))
    oracle = [int(name[1:]) for name in redo if name not in long]
    checked = _typed(book, index, {"boolean": oracle}, source=source) if oracle else pl.DataFrame()
    for name, (where, shown) in redo.items():
        kind = work["boolean" + name] if name in long else checked["boolean" + name]
        is_number = kind.gather(where).is_not_null()
        if is_number.any():
            result = result.with_columns(result[name].scatter(where.filter(is_number), shown.filter(is_number)))
    return result


# --------------------------------------------------------------------------------------------- errors


# --------------------------------------------------------------------------------------------- reader


class ExcelReader:
    """A sheet of an XLSX or XLS workbook, read whole; batches are slices of it."""

    info: SourceInfo

    def __init__(self, data: bytes, *, fmt: str, source: str, options: ReadOptions) -> None:
        self._options = options
        kind = _format_of(data, fmt)
        book, guard = _open(data, source=source, fmt=fmt, options=options)
        names: list[str] = list(book.sheet_names)
        issues: list[Issue] = []
        loaded: dict[int, Any] = {}
        if not names:
            raise ReadError(f"{source}: the workbook has no sheets")
        if options.sheet is not None:
            index = resolve_sheet(names, options.sheet)
            if index is None:
                infos = _sheet_infos(book, guard=guard, source=source)
                raise SheetError(f"{source}: there is no sheet {options.sheet!r}; the sheets are: "
                                 f"{_listing(infos)} (choose one by name, or by its position counted from 1)")
            chosen = names[index]
        elif len(names) == 1:
            index, chosen = 0, names[0]
        else:
            infos = _sheet_infos(book, guard=guard, source=source, loaded=loaded)
            full = [s for s in infos if not s.empty]
            if len(full) > 1:
                raise SheetError(f"{source}: the workbook has {len(full)} sheets with data; choose one "
                                 f"(option sheet, CLI --sheet NAME or --sheet POSITION): {_listing(infos)}")
            index = full[0].index if full else 0
            chosen = names[index]
        if guard is not None:
            scan = guard.check_sheet(chosen)
        else:
            found = scan_xls(data, chosen) if kind == "xls" else None
            if kind == "xls" and found is None:
                issues.append(Issue(code=IssueCode.NUMBER_FORMAT, severity=Severity.WARNING,
                                    message=f"sheet {chosen!r}: cgformat cannot follow this XLS file's records, so "
                                            f"number formats and formula values were not checked: numbers read "
                                            f"as General shows them"))
            scan = found or CellScan()
        frame = _text_frame(book, index, source=source, sheet=loaded.pop(index, None))
        loaded.clear()
        if frame.height * frame.width > options.max_cells:
            raise LimitExceeded(f"{source}: sheet {chosen!r} has {frame.height:,} rows x {frame.width:,} "
                                f"columns, over the limit max_cells={options.max_cells:,}; raise max_cells "
                                f"to read it anyway")
        if frame.width:
            frame = _cells_as_text(book, index, frame, source=source,
                                   date1904=guard.date1904 if guard is not None else None)
        if scan.unsaved:
            frame = _widen(frame, [(row, column) for row, column, _ in scan.unsaved])
        if frame.width:
            frame, issues_cells = _with_scan(frame, scan)
            frame = frame.with_columns(pl.all().fill_null(""))
        else:
            issues_cells = []
        blank = frame.select(pl.all_horizontal(pl.all() == "").alias("blank")).to_series() if frame.width \
            else pl.Series("blank", [True] * frame.height, dtype=pl.Boolean)
        if scan.unsaved:   # a row holding a formula without a value is no empty row: its values are unknown
            rows = pl.Series([row - 1 for row, _, _ in scan.unsaved], dtype=pl.UInt32)
            blank = blank.scatter(rows, False)
        nonblank = (~blank).arg_true()
        if options.header_row is not None:
            if options.header_row > frame.height or blank[options.header_row - 1]:
                raise ReadError(f"{source}: sheet row {options.header_row} of sheet {chosen!r} is empty"
                                + (f" (the sheet has {frame.height:,} rows)" if options.header_row > frame.height
                                   else "") + ": it cannot be the header; give the row the labels are on")
            # the rows above the header are no records (a title, notes): left out
            nonblank = nonblank.filter(nonblank >= options.header_row - 1)
        if len(nonblank) == 0:
            labels: tuple[str, ...] = ()
            header_row = 0
            body = pl.DataFrame()
            lines = pl.Series("line", [], dtype=pl.Int64)
            self._blank: list[Issue] = []
            issues.append(Issue(code=IssueCode.EMPTY_FILE, severity=Severity.WARNING,
                                message=f"sheet {chosen!r} has no data"))
        else:
            header_at = int(nonblank[0])
            header_row = header_at + 1
            labels = tuple(str(v) for v in frame.row(header_at))
            if options.header_row is None:   # the likely cause of the label issues first
                below = frame.slice(header_at + 1, HINT_ROWS)
                hint = title_row_hint(labels, header_row, [
                    (row, header_row + 1 + i) for i, row in enumerate(below.iter_rows())], where="sheet row")
                if hint is not None:
                    issues.append(hint)
            issues.extend(label_issues(labels, header_row))
            rest = frame.slice(header_at + 1).with_columns(
                pl.int_range(header_at + 2, frame.height + 1, dtype=pl.Int64).alias("~line"),
                blank.slice(header_at + 1).alias("~blank"))
            self._blank = [Issue(code=IssueCode.BLANK_ROW, severity=Severity.WARNING, line=int(row),
                                 message=f"sheet row {int(row)} is empty; it is not a record")
                           for row in rest.filter(pl.col("~blank"))["~line"]]
            rest = rest.filter(~pl.col("~blank"))
            lines = rest["~line"].alias("line")
            body = rest.drop("~line", "~blank")
            named = dict(zip(body.columns, unique_columns(labels), strict=True))
            body = body.rename(named)
            issues_cells = [replace(i, field=named.get(i.field or "")) for i in issues_cells]
        issues.extend(replace(i, field=None) for i in issues_cells
                      if i.line is not None and i.line <= header_row and (options.header_row is None
                                                                           or i.line == header_row))
        self._cell_issues = [i for i in issues_cells if i.line is not None and i.line > header_row]
        self._frame = body
        self._lines = lines
        self.info = SourceInfo(source=source, format=kind if kind in ("xls", "xlsx") else fmt, labels=labels,
                               bytes=len(data), sheet=chosen or None, issues=tuple(issues),
                               header_line=header_row or None)

    def batches(self) -> Iterator[RecordBatch]:
        """Yield the records in order, in batches of at most ``ReadOptions.batch_size``."""
        size = max(1, self._options.batch_size)
        height = self._frame.height
        pending = sorted(self._blank + self._cell_issues, key=lambda i: i.line or 0)
        if height == 0:
            if pending:
                yield RecordBatch(frame=self._empty(), lines=self._lines, first_record=1, issues=tuple(pending))
            return
        line_numbers = self._lines
        for start in range(0, height, size):
            frame = self._frame.slice(start, size)
            lines = line_numbers.slice(start, size)
            last = start + frame.height >= height
            limit = int(lines[-1])
            found = [i for i in pending if last or (i.line or 0) <= limit]
            pending = [i for i in pending if i not in found]
            yield RecordBatch(frame=frame, lines=lines, first_record=start + 1,
                              issues=tuple(_with_record(found, lines, start)))

    def _empty(self) -> pl.DataFrame:
        return pl.DataFrame({c: pl.Series(c, [], dtype=pl.String) for c in self.info.columns})


_CELL_CODES = frozenset({IssueCode.CELL_ERROR, IssueCode.FORMULA_NO_VALUE, IssueCode.NUMBER_FORMAT})


def _with_record(issues: list[Issue], lines: pl.Series, start: int) -> list[Issue]:
    if not any(i.code in _CELL_CODES for i in issues):
        return issues
    where = {int(line): start + offset + 1 for offset, line in enumerate(lines)}
    return [Issue(code=i.code, severity=i.severity, message=i.message, record=where.get(i.line or 0),
                  line=i.line, field=i.field, value=i.value) if i.code in _CELL_CODES else i
            for i in issues]


def _widen(frame: pl.DataFrame, cells: list[tuple[int, int]]) -> pl.DataFrame:
    """The frame grown to hold these cells (1-based row and column): fastexcel leaves out rows and
    columns whose cells hold no value, formulas never calculated among them."""
    rows = max(row for row, _ in cells)
    indices = [int(c[1:]) for c in frame.columns] + [column - 1 for _, column in cells]
    names = [f"@{i}" for i in range(min(indices), max(indices) + 1)]
    height = frame.height if frame.width else 0
    frame = pl.DataFrame({n: frame[n] if n in frame.columns else pl.Series(n, [None] * height, dtype=pl.String)
                          for n in names})
    if rows > height:
        frame = pl.concat([frame, pl.DataFrame({n: pl.Series(n, [None] * (rows - height), dtype=pl.String)
                                                for n in names})])
    return frame


def _cell_issue(code: IssueCode, severity: Severity, row: int, column: int, value: str | None,
                message: str) -> Issue:
    # the field is the sheet column for now: the reader names it once the header is known
    return Issue(code=code, severity=severity, line=row, value=value, field=f"@{column - 1}",
                 message=f"cell {xl_col_to_name(column - 1)}{row} {message}")


def _with_scan(frame: pl.DataFrame, scan: CellScan) -> tuple[pl.DataFrame, list[Issue]]:
    """Apply what the sheet's XML says and fastexcel does not: error values (``cell-error``), formulas
    without a saved value (``formula-no-value``), numbers under a number format (shown as Excel shows them
    when that loses nothing, else ``number-format``)."""
    issues: list[Issue] = []
    updates: dict[str, list[tuple[int, str]]] = {}

    def inside(row: int, column: int) -> bool:
        return row - 1 < frame.height and f"@{column - 1}" in frame.columns

    for row, column, text in scan.errors:
        if inside(row, column):
            updates.setdefault(f"@{column - 1}", []).append((row - 1, text))
            issues.append(_cell_issue(IssueCode.CELL_ERROR, Severity.WARNING, row, column, text,
                                      f"holds the error {text}; it is kept as text: fix the formula or its input"))
    for row, column, stored in scan.dates:
        shown = _iso_date(stored)
        if shown is not None and inside(row, column):
            updates.setdefault(f"@{column - 1}", []).append((row - 1, shown))
    for row, column, formula in scan.unsaved:
        issues.append(_cell_issue(
            IssueCode.FORMULA_NO_VALUE, Severity.ERROR, row, column, f"={formula}" if formula else None,
            "holds a formula whose value was never calculated (the program that wrote the file does not "
            "compute formulas), so its value is unknown: open the file in Excel or LibreOffice and save it, "
            "or replace the formula by its value"))
    for row, column, _ in scan.empty_formulas:
        if inside(row, column):
            issues.append(_cell_issue(
                IssueCode.FORMULA_NO_VALUE, Severity.WARNING, row, column, None,
                "holds a formula whose saved value is empty text: either it computes to empty text, or the "
                "program that wrote the file does not compute formulas and its value is unknown; open the file "
                "in Excel or LibreOffice and save it to be sure"))
    differing: dict[tuple[int, str], list[tuple[int, str]]] = {}
    for row, column, stored, style in scan.formatted:
        fmt = scan.styles[style]
        if not inside(row, column):
            continue
        formatted = _shown(stored, fmt)
        if formatted is not None and formatted[1]:
            updates.setdefault(f"@{column - 1}", []).append((row - 1, formatted[0]))
        elif fmt.applied and formatted is None:
            continue
        else:
            differing.setdefault((column, fmt.code), []).append((row, formatted[0] if formatted else ""))
    for (column, code), cells in differing.items():
        letter = xl_col_to_name(column - 1)
        where = ", ".join(f"{letter}{r}" for r, _ in cells[:3]) + (f" and {len(cells) - 3:,} more" if len(cells) > 3
                                                                   else "")
        what = f"shows it rounded ({cells[0][1]})" if cells[0][1] else "cgformat does not apply"
        issues.append(Issue(code=IssueCode.NUMBER_FORMAT, severity=Severity.WARNING, line=cells[0][0], value=code,
                            field=f"@{column - 1}",
                            message=f"{'cell' if len(cells) == 1 else 'cells'} {where}: the number format "
                                    f"{code!r} {what}; cgformat reads the stored number as General shows it"))
    for name, items in updates.items():
        rows = pl.Series([r for r, _ in items], dtype=pl.UInt32)
        values = pl.Series([t for _, t in items], dtype=pl.String)
        frame = frame.with_columns(frame[name].scatter(rows, values))
    return frame, issues


_ISO_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:T([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]{1,3})?[0-9]*)?")
_ISO_TIME = re.compile(r"([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]{1,3})?[0-9]*")


def _iso_date(stored: str) -> str | None:
    """An ISO 8601 date cell (``t="d"``) in cgformat's date form, or None for a form it does not know (a
    time zone ...): the text is then kept as stored."""
    date = _ISO_DATE.fullmatch(stored)
    if date is not None:
        fraction = (date.group(3) or "").ljust(4, "0") if date.group(3) else ""
        return f"{date.group(1)} {date.group(2) or '00:00:00'}{fraction if fraction != '.000' else ''}"
    time = _ISO_TIME.fullmatch(stored)
    if time is not None:
        fraction = (time.group(2) or "").ljust(4, "0") if time.group(2) else ""
        return time.group(1) + (fraction if fraction != ".000" else "")
    return None


def _shown(stored: str, fmt: NumberFormat) -> tuple[str, bool] | None:
    """The text Excel shows for the stored number under ``fmt`` (applied formats only), and whether it is
    the same number (padding zeros only); None when the number cannot be read or the format is not applied."""
    if not fmt.applied:
        return None
    try:
        number = Decimal(stored)
    except ArithmeticError:
        return None
    if not number.is_finite():
        return None
    number = Decimal(f"{float(number):.15g}")            # Excel's 15 significant digits first
    rounded = number.quantize(Decimal(1).scaleb(-fmt.decimals), rounding=ROUND_HALF_UP)
    digits = format(abs(rounded), "f")
    whole, _, fraction = digits.partition(".")
    whole = whole.lstrip("0").rjust(fmt.zeros, "0")
    text = ("-" if rounded < 0 else "") + whole + ("." + fraction if fmt.decimals else "")
    return text, rounded == number


def open_reader(stream: BinaryIO, *, fmt: str, source: str, options: ReadOptions) -> ExcelReader:
    """Read a whole XLSX or XLS workbook from ``stream`` and open its sheet (see the module docstring)."""
    return ExcelReader(stream.read(), fmt=fmt, source=source, options=options)


# --------------------------------------------------------------------------------------------- writer


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
