"""The normalizers by name, the generic chain every column gets, and the cheap screens that let a costly
normalizer run only on the values it may change."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from .. import checks
from .._mojibake import SIGNATURE
from .contact import email, phone
from .dates import date, datetime
from .numbers import amount, integer
from .options import NormalizeOptions
from .text import control, mojibake, nfc, strip, yes_no

__all__ = ["GENERIC", "NORMALIZERS", "apply", "apply_rows", "identity_where", "normalizers_for"]

NORMALIZERS: dict[str, Callable[[pl.Expr, NormalizeOptions], pl.Expr]] = {
    "control": control,
    "strip": strip,
    "nfc": nfc,
    "mojibake": mojibake,
    "email": email,
    "phone": phone,
    "datetime": datetime,
    "date": date,
    "yes_no": yes_no,
    "integer": integer,
    "amount": amount,
}
"""Every named normalizer: name -> function (String expression, options) -> String expression."""

GENERIC = ("control", "strip", "nfc", "mojibake")
"""Applied to every column, known to the schema or not, before the field's own normalizers."""

_IDENTITY_WHERE: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "control": lambda v: ~v.str.contains(checks.CONTROL_RE),
    "nfc": lambda v: v.str.len_bytes() == v.str.len_chars(),
    "mojibake": lambda v: ~v.str.contains(SIGNATURE),
    "phone": lambda v: v.str.contains(r"^(?:[1-9][0-9]*)?$"),
    "email": lambda v: ~v.str.contains(r"^\s|\s$|^<|^(?i:mailto:)|@[^@]*[A-Z\x{80}-\x{10FFFF}][^@]*$"),
    "datetime": lambda v: v.str.contains(r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2})?$"),
    "date": lambda v: v.str.contains(r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2})?$"),
}
# Cheap screens, true where a normalizer is known to give the value back unchanged (no control character to
# remove; ASCII text, as many bytes as characters, is NFC; text without the signature of mojibake has none to
# repair; a phone of digits not starting with 0 is digits; an e-mail without edge spaces, wrapping or capitals
# after its last @; a date already in CG's shape, valid or not): the costly expression runs on the other
# values only.
# The date screens hold only without --date-format (a format of the user's may read an invalid CG-shaped
# date another way).


def identity_where(name: str, value: pl.Expr, options: NormalizeOptions) -> pl.Expr | None:
    """A cheap expression true where normalizer ``name`` leaves ``value`` as it is, or None if there is none."""
    if name in ("datetime", "date") and options.date_format:
        return None
    screen = _IDENTITY_WHERE.get(name)
    return screen(value) if screen is not None else None


def apply(frame: pl.DataFrame, column: str, name: str, options: NormalizeOptions) -> pl.Series:
    """Normalizer ``name`` applied to one column of ``frame``: on the values its screen does not pass only."""
    screen = identity_where(name, pl.col(column), options)
    if screen is None:
        return frame.select(NORMALIZERS[name](pl.col(column), options).alias(column)).to_series()
    return apply_rows(frame, column, name, options, frame.select(~screen).to_series().arg_true())


def apply_rows(frame: pl.DataFrame, column: str, name: str, options: NormalizeOptions, todo: pl.Series) -> pl.Series:
    """Normalizer ``name`` applied to the rows ``todo`` of one column (the others as they are)."""
    values = frame[column]
    if todo.len() == 0:
        return values
    expr = NORMALIZERS[name](pl.col(column), options).alias(column)
    if todo.len() == values.len():
        return frame.select(expr).to_series()
    fixed = values.gather(todo).to_frame(column).select(expr).to_series()
    return values.scatter(todo, fixed)


def normalizers_for(kind_normalizers: Sequence[str]) -> tuple[str, ...]:
    """The chain for a column: the generic normalizers, then the field's own (each once, in order)."""
    out: list[str] = []
    for n in (*GENERIC, *kind_normalizers):
        if n not in out:
            out.append(n)
    return tuple(out)
