"""Date normalizers: dates and times in CG's formats from ``--date-format`` or from shapes with one reading
only, and the date values ``cgformat fix`` leaves alone on purpose (ambiguous, zoned, unread), as issues."""

from __future__ import annotations

import re

import polars as pl

from .. import checks
from ..model import IssueCode, Severity
from .options import CG_DATE, CG_DATETIME, NormalizeOptions

__all__ = ["ambiguous_dates", "date", "date_issues", "datetime", "translate_date_format"]


def translate_date_format(fmt: str) -> str:
    """A user's date format as a strptime pattern: ``%``-patterns as they are, else ``DD/MM/YYYY HH:mm``
    style tokens (YYYY YY MM DD HH hh mm ss A) translated."""
    if "%" in fmt:
        return fmt
    tokens = [("YYYY", "%Y"), ("YY", "%y"), ("MM", "%m"), ("DD", "%d"), ("HH", "%H"), ("hh", "%I"),
              ("mm", "%M"), ("ss", "%S"), ("SS", "%S"), ("A", "%p")]
    out: list[str] = []
    i = 0
    while i < len(fmt):
        for tok, rep in tokens:
            if fmt.startswith(tok, i):
                out.append(rep)
                i += len(tok)
                break
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


_TIME = r"(?:[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,][0-9]+)?)?(?:\s*([AaPp])\.?[Mm]\.?)?)?"
_YMD = re.compile(r"^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})" + _TIME + "$").pattern
_DMY = re.compile(r"^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})" + _TIME + "$").pattern
_COMPACT = r"^((?:19|20)[0-9]{2})([0-9]{2})([0-9]{2})$"
_SERIAL = r"^[1-9][0-9]{4}(?:\.[0-9]+)?$"
_CG_SHAPE_DATETIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
_CG_SHAPE_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_ZONED = checks.ZONED_RE
_TEXT_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%Y", "%d %b %Y %H:%M:%S",
                 "%d %B %Y %H:%M:%S", "%d %b %Y %H:%M", "%d-%b-%Y %H:%M:%S")


def _build(year: pl.Expr, month: pl.Expr, day: pl.Expr, hour: pl.Expr, minute: pl.Expr, second: pl.Expr,
           ampm: pl.Expr) -> pl.Expr:
    """A datetime from text parts (null where they make no real date or time)."""
    h = hour.fill_null("0").cast(pl.Int32, strict=False)
    ap = ampm.str.to_lowercase()
    h = pl.when(ap.is_null()).then(h) \
        .when((h < 1) | (h > 12)).then(pl.lit(None, dtype=pl.Int32)) \
        .when(ap == "a").then(h % 12).otherwise(h % 12 + 12)
    text = pl.format("{}-{}-{} {}:{}:{}", year, month.str.zfill(2), day.str.zfill(2),
                     h.cast(pl.String).str.zfill(2), minute.fill_null("00"), second.fill_null("00"))
    return text.str.strptime(pl.Datetime("us"), CG_DATETIME, strict=False)


def _day_first(fmt: str) -> bool | None:
    """Whether a user's date format puts the day before the month (None: it does not name both)."""
    pattern = translate_date_format(fmt)
    day, month = pattern.find("%d"), pattern.find("%m")
    if day < 0 or month < 0:
        return None
    return day < month


def _parsed(value: pl.Expr, options: NormalizeOptions) -> tuple[pl.Expr, pl.Expr]:
    """(datetime or null, ambiguous day/month flag) for a date-like text value.

    ``--date-format`` is tried first; then every shape with one reading, as without it; the format's
    order of day and month decides the day/month/year values that could be read either way (also when
    its separators or time of day differ), so a format never converts fewer values than none.
    """
    v = value.str.strip_chars()
    canonical = v.str.strptime(pl.Datetime("us"), CG_DATETIME, strict=False)
    candidates: list[pl.Expr] = [pl.when(v.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"))
                                 .then(canonical)]
    order: bool | None = None
    if options.date_format:
        fmt = translate_date_format(options.date_format)
        candidates.append(v.str.strptime(pl.Datetime("us"), fmt, strict=False))
        order = _day_first(options.date_format)
    ymd = v.str.extract_groups(_YMD)
    g = [ymd.struct.field(str(i)) for i in range(1, 8)]
    candidates.append(_build(g[0], g[1], g[2], g[3], g[4], g[5], g[6]))
    compact = v.str.extract_groups(_COMPACT)
    c = [compact.struct.field(str(i)) for i in range(1, 4)]
    candidates.append(_build(c[0], c[1], c[2], pl.lit(None, pl.String), pl.lit(None, pl.String),
                             pl.lit(None, pl.String), pl.lit(None, pl.String)))
    dmy = v.str.extract_groups(_DMY)
    d = [dmy.struct.field(str(i)) for i in range(1, 8)]
    a = d[0].cast(pl.Int32, strict=False)
    b = d[1].cast(pl.Int32, strict=False)
    either = ((a <= 12) & (b <= 12) & (a != b) & (a >= 1) & (b >= 1)).fill_null(False)
    day_first = (a > 12) & (b <= 12) | (a == b)
    month_first = (b > 12) & (a <= 12)
    if order is True:
        day_first = day_first | either
    elif order is False:
        month_first = month_first | either
    candidates.append(pl.when(day_first).then(_build(d[2], d[1], d[0], d[3], d[4], d[5], d[6]))
                      .when(month_first).then(_build(d[2], d[0], d[1], d[3], d[4], d[5], d[6])))
    ambiguous = either if order is None else pl.lit(False)
    candidates.extend(v.str.strptime(pl.Datetime("us"), f, strict=False) for f in _TEXT_FORMATS)
    serial = v.cast(pl.Float64, strict=False)
    seconds = (serial * 86_400).round(0).cast(pl.Int64, strict=False)
    candidates.append(pl.when(v.str.contains(_SERIAL)).then(
        pl.datetime(1899, 12, 30) + pl.duration(seconds=seconds)))
    return pl.coalesce(candidates), ambiguous


def datetime(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """``YYYY-MM-DD HH:MM:SS`` from ``--date-format``, or from shapes with one reading only (year first,
    day above 12, month names, ``YYYYMMDD``), or an Excel serial number; a date alone gets ``00:00:00``."""
    parsed, _ = _parsed(value, options)
    return pl.when(parsed.is_not_null()).then(parsed.dt.strftime(CG_DATETIME)).otherwise(value)


def date(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """``YYYY-MM-DD`` from the same shapes as :func:`datetime`; a value with a time of day other than
    midnight is left alone (dropping the time would lose data)."""
    parsed, _ = _parsed(value, options)
    midnight = parsed.dt.time() == pl.time(0, 0, 0)
    return pl.when(parsed.is_not_null() & midnight).then(parsed.dt.strftime(CG_DATE)).otherwise(value)


def ambiguous_dates(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """True where a date's day/month order cannot be told (``03/04/2025``) and no format naming day and month
    was given."""
    parsed, ambiguous = _parsed(value, options)
    return ambiguous & parsed.is_null()


def date_issues(before: pl.Series, after: pl.Series, col: str, records: pl.Series, lines: pl.Series, *,
                date_only: bool, options: NormalizeOptions) -> list[pl.DataFrame]:
    """Issue frames of a date column's values that fix left alone on purpose (``before``: as read, ``after``:
    as fixed): ``zoned-date``, ``ambiguous-date`` and ``unread-date``, warnings."""
    found: list[pl.DataFrame] = []
    frame = pl.DataFrame({col: before})
    # an ISO date and time with a zone (Z, +02:00) is left alone: which zone CG's times are in is the
    # account's, and dropping or shifting the offset would be a guess
    zoned = frame.select((pl.col(col).str.contains(_ZONED) & (after == pl.col(col))).alias("z"))["z"]
    if zoned.any():
        found.append(pl.DataFrame([records, lines, before.alias("value")]).filter(zoned).select(
            pl.lit(IssueCode.ZONED_DATE.value).alias("code"), pl.lit(Severity.WARNING.value).alias("severity"),
            "record", "line", pl.lit(col).alias("field"), "value",
            pl.lit("has a time zone: left as it is; CG takes the date and time without one: give the time in "
                   "the zone your CG account uses, as YYYY-MM-DD HH:MM:SS").alias("message")))
    # only a day/month/year shape can be ambiguous: the costly parse runs on those values alone
    shaped = frame.select(pl.col(col).str.strip_chars().str.contains(_DMY).alias("s"))["s"]
    rows = shaped.arg_true()
    amb = pl.repeat(False, frame.height, eager=True, dtype=pl.Boolean).alias("a")
    if rows.len():
        sub = before.gather(rows).to_frame(col).select(ambiguous_dates(pl.col(col), options).alias("a"))["a"]
        amb = amb.scatter(rows, sub)
    if amb.any():
        found.append(pl.DataFrame([records, lines, before.alias("value")]).filter(amb).select(
            pl.lit(IssueCode.AMBIGUOUS_DATE.value).alias("code"),
            pl.lit(Severity.WARNING.value).alias("severity"), "record", "line", pl.lit(col).alias("field"),
            "value", pl.lit("day and month could be either way round: left as it is; give --date-format "
                            "(e.g. DD/MM/YYYY) to convert such dates").alias("message")))
    unread = _unread_dates(before, after, date_only=date_only, options=options, skip=zoned | amb)
    if unread is not None:
        found.append(pl.concat([pl.DataFrame([records, lines]), unread], how="horizontal")
                     .filter(pl.col("message").is_not_null()).select(
            pl.lit(IssueCode.UNREAD_DATE.value).alias("code"), pl.lit(Severity.WARNING.value).alias("severity"),
            "record", "line", pl.lit(col).alias("field"), "value", "message"))
    return found


def _unread_dates(before: pl.Series, after: pl.Series, *, date_only: bool, options: NormalizeOptions,
                  skip: pl.Series) -> pl.DataFrame | None:
    """The values of a date column that fix left other than CG wants them (``skip``: reported otherwise):
    columns value (as read) and message (null where the value is fine), or None when there are none."""
    fmt = CG_DATE if date_only else CG_DATETIME
    frame = pl.DataFrame({"value": before, "after": after, "skip": skip})
    bad = frame.select((pl.col("after").str.strip_chars() != "") & ~pl.col("skip")
                       & ~(checks.strict_format(pl.col("after"), fmt) & checks.calendar(pl.col("after"), fmt)))
    rows = bad.to_series().arg_true()
    if rows.len() == 0:
        return None
    shown = _shape_of(fmt)
    if options.date_format:
        unread = (f"neither --date-format {options.date_format!r} nor a date shape with one meaning reads it: "
                  f"left as it is; write it as {shown}, or give the format these values are written in")
    else:
        unread = (f"not a date cgformat can read with one meaning: left as it is; write it as {shown}, or give "
                  f"--date-format with the format it is written in")
    sub = frame.gather(rows)
    parsed, _ = _parsed(pl.col("value"), options)
    after_ = pl.col("after")
    no_day = (after_.str.contains(_CG_SHAPE_DATETIME) & ~checks.calendar(after_, CG_DATETIME)) \
        | (after_.str.contains(_CG_SHAPE_DATE) & ~checks.calendar(after_, CG_DATE))
    message = (pl.when(no_day)
               .then(pl.lit("is no real date or time (no such day, or an hour past 23): left as it is; "
                            "correct it"))
               .when(pl.lit(date_only) & parsed.is_not_null())
               .then(pl.lit("has a time of day, but this field takes a date only: left as it is (dropping the time "
                            f"would lose it); write the date alone, {shown}"))
               .otherwise(pl.lit(unread)))
    found = sub.select("value", message.alias("message"))
    empty = pl.repeat(None, frame.height, eager=True, dtype=pl.String)
    return pl.DataFrame([frame["value"], empty.scatter(rows, found["message"]).alias("message")])


def _shape_of(fmt: str) -> str:
    """``%Y-%m-%d %H:%M:%S`` as users write it: YYYY-MM-DD HH:MM:SS."""
    for code, text in (("%Y", "YYYY"), ("%m", "MM"), ("%d", "DD"), ("%H", "HH"), ("%M", "MM"), ("%S", "SS")):
        fmt = fmt.replace(code, text)
    return fmt
