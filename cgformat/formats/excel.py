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
    See :mod:`._xlsx_write`: every value a text cell, Excel's limits checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, BinaryIO

import fastexcel
import polars as pl

from ..errors import LimitExceeded, ReadError, SheetError
from ..model import Issue, IssueCode, RecordBatch, Severity, SourceInfo, unique_columns
from . import ReadOptions
from ._biff import scan_xls
from ._common import HINT_ROWS, label_issues, title_row_hint
from ._excel_cells import cells_as_text, load, recoverable, text_frame, widen, with_record, with_scan
from ._workbook import CellScan, Workbook
from ._xlsx_write import XlsxWriter, envelope_size, open_writer, record_sizes

__all__ = ["ExcelReader", "SheetInfo", "XlsxWriter", "envelope_size", "list_sheets", "open_reader",
           "open_writer", "record_sizes", "resolve_sheet"]

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"


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
        if not recoverable(error):
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



# --------------------------------------------------------------------------------------------- sizes


def _guard(name: str, guard: Workbook | None) -> None:
    """Refuse an XLSX sheet whose cells span more than ``max_cells`` (see :mod:`._guards`)."""
    if guard is not None:
        guard.check_sheet(name)



def _sheet_infos(book: Any, *, guard: Workbook | None, source: str,
                 loaded: dict[int, Any] | None = None) -> list[SheetInfo]:
    """Each sheet's size; the loaded sheets with data go into ``loaded`` (so the one read is not loaded twice)."""
    infos: list[SheetInfo] = []
    for index, name in enumerate(book.sheet_names):
        _guard(name, guard)
        sheet = load(book, index, source=source, dtypes="string")
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
                                 f"(sheet=NAME or sheet=POSITION): {_listing(infos)}", options=("sheet",))
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
        frame = text_frame(book, index, source=source, sheet=loaded.pop(index, None))
        loaded.clear()
        if frame.height * frame.width > options.max_cells:
            raise LimitExceeded(f"{source}: sheet {chosen!r} has {frame.height:,} rows x {frame.width:,} "
                                f"columns, over the limit max_cells={options.max_cells:,}; raise max_cells "
                                f"to read it anyway")
        if frame.width:
            frame = cells_as_text(book, index, frame, source=source, numbers=scan.numbers,
                                  date1904=guard.date1904 if guard is not None and guard.names_date1904 else None)
        if scan.unsaved:
            frame = widen(frame, [(row, column) for row, column, _ in scan.unsaved])
        if frame.width:
            frame, issues_cells = with_scan(frame, scan)
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
                              issues=tuple(with_record(found, lines, start)))

    def _empty(self) -> pl.DataFrame:
        return pl.DataFrame({c: pl.Series(c, [], dtype=pl.String) for c in self.info.columns})


def open_reader(stream: BinaryIO, *, fmt: str, source: str, options: ReadOptions) -> ExcelReader:
    """Read a whole XLSX or XLS workbook from ``stream`` and open its sheet (see the module docstring)."""
    return ExcelReader(stream.read(), fmt=fmt, source=source, options=options)


