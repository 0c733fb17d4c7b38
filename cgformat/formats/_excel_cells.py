"""Cells as Excel shows them (the rules are in :mod:`.excel`'s docstring).

fastexcel loads a sheet as text (:func:`text_frame`); :func:`cells_as_text` turns its rendering of numbers,
booleans, times and dates into Excel's, with the typed loads that tell a cell's type; :func:`with_scan`
applies what the workbook's own scan found (:class:`._workbook.CellScan`: error values, formulas without a
value, number formats, ISO dates) and names each such cell in an issue.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl
from xlsxwriter.utility import xl_col_to_name

from ..errors import ReadError
from ..model import Issue, IssueCode, Severity
from ._numfmt import NumberFormat
from ._workbook import CellScan

__all__ = ["cells_as_text", "general", "general_text", "load", "recoverable", "text_frame", "widen", "with_record",
           "with_scan", "wrap"]

_NUMBER_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"
_RENDERED = r"^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$"     # a number as fastexcel renders it
_DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
_LONG_WHOLE = r"^-?[0-9]{16,}$"
_TIME_DAY = "1899-12-31"   # the day fastexcel shows a time (a date cell under one day) on
_DAY_US = 86_400_000_000
_SYSTEMS_APART = 1_462   # days from 1899-12-30 (serial 0 of the 1900 system, past February 1900) to 1904-01-01



def recoverable(error: BaseException) -> bool:
    """Whether an error from fastexcel is about the file (a Rust panic is a BaseException too)."""
    return not isinstance(error, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError))



def wrap(source: str, error: BaseException) -> ReadError:
    """A failure inside fastexcel as a ReadError naming the file."""
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    return ReadError(f"{source}: cannot read the workbook: {detail}")



def load(book: Any, index: int, *, source: str, **kwargs: Any) -> Any:
    """A sheet of ``book`` loaded from its first row; fastexcel's failures become a ReadError."""
    try:
        return book.load_sheet(index, header_row=None, skip_rows=0, **kwargs)
    except BaseException as error:  # fastexcel errors (and Rust panics) become one clear message
        if not recoverable(error):
            raise
        raise wrap(source, error) from None



# --------------------------------------------------------------------------------------------- cells


def general_text(value: pl.Expr) -> pl.Expr:
    """Excel's General rendering of a finite Float64, or null where :func:`general` must compute it.

    The shortest text that reads back as the float is General's when it has at most 15 significant
    digits and no exponent (what almost every cell holds); other values are left to :func:`general`.
    """
    text = value.cast(pl.String)
    text = pl.when(text.str.ends_with(".0")).then(text.str.head(-2)).otherwise(text)
    digits = text.str.replace_all(r"[-.]", "").str.strip_chars("0").str.len_bytes()
    return (pl.when(value == 0).then(pl.lit("0"))
            .when(text.str.contains(r"[eE]|inf|NaN") | (digits > 15)).then(pl.lit(None, dtype=pl.String))
            .otherwise(text))


def general(value: float) -> str:
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
        if not recoverable(error):
            raise
        raise wrap(source, error) from None
    return frame


def text_frame(book: Any, index: int, *, source: str, sheet: Any = None) -> pl.DataFrame:
    """The sheet from row 1, every cell as fastexcel renders it; columns named ``@N`` (0-based column)."""
    if sheet is None:
        sheet = load(book, index, source=source, dtypes="string")
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
        sheet = load(book, index, source=source, use_columns=sorted(dtypes), dtypes=dtypes)
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


def cells_as_text(book: Any, index: int, frame: pl.DataFrame, *, source: str, date1904: bool | None = None,
                  numbers: frozenset[int] | None = None) -> pl.DataFrame:
    """Turn fastexcel's string rendering into Excel's (see the module docstring), column by column.

    fastexcel renders numbers with at most 9 decimals and whole numbers with every digit, booleans as
    ``true``/``false`` and times with the date ``1899-12-31``; text cells come out exact. The columns
    that may need it are loaded again with a dtype, which tells the cell's type: a ``float`` load gives
    numbers, booleans and text that parses as a number; a ``boolean`` load gives numbers and booleans
    but never text; a ``duration`` load gives dates only. So: a number whose rendering does not give
    back its float was rounded, and is rendered again; a whole number of 16 or more digits is a number
    (not text) when the boolean load has it, and is given Excel's 15 digits; a ``true``/``false`` with a
    float is a boolean; a date under one day is a time.

    Only the columns that may hold such cells are loaded again: ``numbers`` (1-based columns, None: any)
    holds those with a number fastexcel may render otherwise or a boolean (see :class:`CellScan`); a date
    column only when ``date1904`` is given (fastexcel may count from the other date system) or a date
    of it may be a time (fastexcel shows times on ``1899-12-31``).
    """
    probes = frame.select(
        [(pl.col(c).str.contains(_NUMBER_TEXT) | pl.col(c).is_in(["true", "false"])).any().alias("n" + c)
         for c in frame.columns]
        + [pl.col(c).str.contains(_DATE_TEXT).any().alias("d" + c) for c in frame.columns]
        + [pl.col(c).str.contains(_LONG_WHOLE).any().alias("g" + c) for c in frame.columns]
        + [pl.col(c).str.starts_with(_TIME_DAY).any().alias("t" + c) for c in frame.columns]
    ).row(0, named=True)
    odd = [c for c in frame.columns if numbers is None or int(c[1:]) + 1 in numbers]
    numeric = [c for c in odd if probes["n" + c]]
    dates = [c for c in frame.columns if probes["d" + c] and (date1904 is not None or probes["t" + c])]
    long = [c for c in odd if probes["g" + c]]
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
        rendered = value.to_frame("x").select(general_text(pl.col("x"))).to_series()
        differs = (number & (rendered.is_null() | (rendered != text))).fill_null(value=False)
        if not differs.any():
            continue
        where = differs.arg_true()
        shown = rendered.gather(where)
        if shown.null_count():
            missing = shown.is_null().arg_true()
            shown = shown.scatter(missing, pl.Series([general(float(v)) for v in value.gather(where).gather(missing)],
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


_CELL_CODES = frozenset({IssueCode.CELL_ERROR, IssueCode.FORMULA_NO_VALUE, IssueCode.NUMBER_FORMAT})


def with_record(issues: list[Issue], lines: pl.Series, start: int) -> list[Issue]:
    """The cell issues of a batch given the record number of their line (``start``: records before it)."""
    if not any(i.code in _CELL_CODES for i in issues):
        return issues
    where = {int(line): start + offset + 1 for offset, line in enumerate(lines)}
    return [Issue(code=i.code, severity=i.severity, message=i.message, record=where.get(i.line or 0),
                  line=i.line, field=i.field, value=i.value) if i.code in _CELL_CODES else i
            for i in issues]


def widen(frame: pl.DataFrame, cells: list[tuple[int, int]]) -> pl.DataFrame:
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


def with_scan(frame: pl.DataFrame, scan: CellScan) -> tuple[pl.DataFrame, list[Issue]]:
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


