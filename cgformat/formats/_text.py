"""Frames of any column types made all text, in CG's forms, before a writer sees them: exact or refused.

Every writer writes text. A frame from a reader is all text already (and passes through untouched); a frame
a caller built may hold numbers, dates or booleans, and each is written in the one form CG reads, or refused
with a :class:`~cgformat.errors.UsageError` that names the column (and the first record that cannot be
written exactly):

- integers (any width, signed or not): their digits, ``-`` for negatives;
- floats: the shortest decimal that reads back as the same float, never with an exponent, and without
  ``.0`` when whole (``5.0`` -> ``5``, ``1.2345678901234567e19`` -> ``12345678901234567000``, ``-0.0`` ->
  ``0``); NaN and infinities are refused;
- decimals: their exact digits, trailing zeros after the point dropped (``5.00`` -> ``5``, ``2.50`` -> ``2.5``);
- booleans: ``true`` / ``false``, or the pair given (``WriteOptions.booleans``, ``("Y", "N")`` for CG's
  ``FollowUpRequired``);
- dates: ``YYYY-MM-DD``; datetimes: ``YYYY-MM-DD HH:MM:SS``; times: ``HH:MM:SS``. A fraction of a second
  that is not zero is refused (CG's form has no place for it, and dropping it would change the value), as
  are datetimes with a time zone (CG's datetimes have none: convert to the zone CG expects, then drop it)
  and years outside 1-9999;
- categoricals and enums: their text; an all-null column: empty values;
- struct, list, array, binary, object and duration columns (and any other type) are refused by name.

Nulls stay null (the writers write them as empty values).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ..errors import UsageError

if TYPE_CHECKING:
    from . import Writer

__all__ = ["TextWriter", "as_text"]

_BOOLEANS = ("true", "false")
# a float's shortest round-trip text as polars writes it: sign, whole digits, fraction, exponent
_FLOAT_TEXT = r"^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$"


def _plain_decimal(text: pl.Expr) -> pl.Expr:
    """Decimal text (``-1.25e+19``, ``5.0``, ``1e-7``) in plain positional form, no exponent, no trailing
    fractional zeros, no ``-`` on zero: the same number, written as CG reads numbers."""
    parts = text.str.extract_groups(_FLOAT_TEXT)
    sign = parts.struct.field("1")
    whole = parts.struct.field("2")
    digits = whole + parts.struct.field("3").fill_null("")
    point = whole.str.len_chars().cast(pl.Int64) + parts.struct.field("4").fill_null("0").cast(pl.Int64)
    width = digits.str.len_chars().cast(pl.Int64)
    # every branch is evaluated for every row: the lengths are clipped so that none is negative
    plain = (
        pl.when(point >= width).then(digits.str.pad_end(point.clip(lower_bound=0), "0"))
        .when(point <= 0).then(pl.lit("0.") + digits.str.pad_start((width - point).clip(lower_bound=0), "0"))
        .otherwise(digits.str.slice(0, point.clip(lower_bound=0)) + pl.lit(".")
                   + digits.str.slice(point.clip(lower_bound=0)))
    )
    plain = pl.when(plain.str.contains(".", literal=True)) \
        .then(plain.str.strip_chars_end("0").str.strip_chars_end(".")).otherwise(plain)
    plain = plain.str.strip_chars_start("0")
    plain = pl.when(plain.str.starts_with(".")).then(pl.lit("0") + plain) \
        .when(plain == "").then(pl.lit("0")).otherwise(plain)
    return pl.when(plain == "0").then(plain).otherwise(sign + plain)


def _form(name: str, dtype: pl.DataType, booleans: tuple[str, str]) -> tuple[pl.Expr, pl.Expr | None, str]:
    """(the column as text, where a value cannot be written exactly or ``None``, why) for one column."""
    col = pl.col(name)
    if dtype.is_integer() or isinstance(dtype, (pl.Categorical, pl.Enum, pl.Null)):
        return col.cast(pl.String), None, ""
    if dtype.is_float():
        return _plain_decimal(col.cast(pl.String)), ~col.is_finite(), \
            "is not a finite number (NaN or infinite); CG takes numbers only"
    if isinstance(dtype, pl.Decimal):
        return _plain_decimal(col.cast(pl.String)), None, ""
    if isinstance(dtype, pl.Boolean):
        true, false = booleans
        return pl.when(col).then(pl.lit(true)).when(~col).then(pl.lit(false)), None, ""
    if isinstance(dtype, pl.Date):
        return col.dt.strftime("%Y-%m-%d"), ~col.dt.year().is_between(1, 9999), \
            "has a year outside 1-9999, which YYYY-MM-DD cannot hold"
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            raise UsageError(f"column {name!r} holds datetimes in time zone {dtype.time_zone}, and CG's "
                             f"datetimes have none: convert them to the zone CG expects and drop the zone "
                             f"(.dt.convert_time_zone(...).dt.replace_time_zone(None)) before writing")
        bad = (col.dt.nanosecond() != 0) | ~col.dt.year().is_between(1, 9999)
        return col.dt.strftime("%Y-%m-%d %H:%M:%S"), bad, \
            "has a fraction of a second (or a year outside 1-9999), which CG's YYYY-MM-DD HH:MM:SS " \
            "cannot hold; round or truncate it first (.dt.truncate('1s'))"
    if isinstance(dtype, pl.Time):
        return col.dt.strftime("%H:%M:%S"), col.dt.nanosecond() != 0, \
            "has a fraction of a second, which HH:MM:SS cannot hold; round or truncate it first"
    raise UsageError(f"column {name!r} is of type {dtype}, which cannot be written as text exactly; "
                     f"make it a String column (or numbers, dates, datetimes or booleans) first")


def as_text(frame: pl.DataFrame, *, booleans: tuple[str, str] = _BOOLEANS,
            records: pl.Series | None = None, first_record: int = 1) -> pl.DataFrame:
    """The frame with every column as text in CG's forms (see the module), or a :class:`UsageError`.

    An all-text frame is returned as it is. A refusal names the column and the first record that cannot be
    written exactly: ``records[i]`` if given, else ``first_record + i``.
    """
    schema = frame.schema
    if all(dtype == pl.String for dtype in schema.values()):
        return frame
    forms: list[pl.Expr] = []
    checks: list[tuple[str, pl.Expr, str]] = []
    for name, dtype in schema.items():
        if dtype == pl.String:
            forms.append(pl.col(name))
            continue
        form, bad, why = _form(name, dtype, booleans)
        forms.append(form.alias(name))
        if bad is not None:
            checks.append((name, bad.fill_null(value=False), why))
    if checks and frame.height:
        flags = frame.select(bad.alias(str(i)) for i, (_, bad, _) in enumerate(checks))
        for i, (name, _, why) in enumerate(checks):
            hits = flags[str(i)]
            if hits.any():
                row = int(hits.arg_true()[0])
                record = int(records[row]) if records is not None else first_record + row
                shown = frame.select(pl.col(name).slice(row, 1).cast(pl.String)).item()
                raise UsageError(f"column {name!r}, record {record}: the value {shown!r} {why}")
    return frame.select(forms)


class TextWriter:
    """A writer that makes each frame all text (:func:`as_text`) before the format's writer sees it."""

    def __init__(self, inner: Writer, *, booleans: tuple[str, str] = _BOOLEANS) -> None:
        self._inner = inner
        self._booleans = booleans
        self._count = 0

    def write(self, frame: pl.DataFrame, *, records: pl.Series | None = None) -> None:
        """Append records (columns in label order, of any type :func:`as_text` writes)."""
        self._inner.write(as_text(frame, booleans=self._booleans, records=records,
                                  first_record=self._count + 1), records=records)
        self._count += frame.height

    def close(self) -> None:
        """Finish the file (footer, zip directory); the sink itself stays open."""
        self._inner.close()
