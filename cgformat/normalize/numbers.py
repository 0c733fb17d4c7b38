"""Number normalizers: whole numbers and amounts without signs, separators or zero fractions, where the
value can be read one way only."""

from __future__ import annotations

import polars as pl

from .options import NormalizeOptions

__all__ = ["amount", "integer"]

# numbers with thousands separators, in the shapes that can be read one way only: (sign, whole part with its
# separators, fraction). A lone "," or "." before exactly three digits (1,234 / 1.234) can be either a
# thousands separator or a decimal one: such values are left alone
_NUMBER_SHAPES = (
    r"^(-?)\+?([0-9]{1,3}(?:,[0-9]{3})+)\.([0-9]+)$",                  # 1,234.5
    r"^(-?)\+?([0-9]{1,3}(?:\.[0-9]{3})+),([0-9]+)$",                  # 1.234,5
    r"^(-?)\+?([0-9]{1,3}(?:,[0-9]{3}){2,})()$",                       # 1,234,567
    r"^(-?)\+?([0-9]{1,3}(?:\.[0-9]{3}){2,})()$",                      # 1.234.567
    r"^(-?)\+?([0-9]{1,3}(?:[ '\x{a0}\x{202f}][0-9]{3})+)(?:[.,]([0-9]+))?$",  # 1 234,5  1'234.5
)
_PLAIN_NUMBER = r"^(-?)\+?([0-9]+)(?:[.,]([0-9]+))?$"                   # 1234  1234.5  1234,50


def _number(value: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(sign, whole digits without separators or leading zeros, fraction or "") of a number written in
    one of the unambiguous shapes; nulls for any other value."""
    v = value.str.strip_chars()
    found = [v.str.extract_groups(p) for p in (*_NUMBER_SHAPES, _PLAIN_NUMBER)]
    plain = found[-1]
    whole_p, frac_p = plain.struct.field("2"), plain.struct.field("3")
    lone_three = (whole_p.str.len_chars() <= 3) & (frac_p.str.len_chars() == 3) & v.str.contains("[.,]")
    plain_ok = pl.when(lone_three.fill_null(False)).then(None).otherwise(plain)
    shapes = [*found[:-1], plain_ok]
    sign = pl.coalesce([m.struct.field("1") for m in shapes])
    whole = pl.coalesce([m.struct.field("2") for m in shapes]).str.replace_all(r"[^0-9]", "")
    frac = pl.coalesce([m.struct.field("3") for m in shapes]).fill_null("")
    whole = whole.str.strip_chars_start("0")
    return sign, pl.when(whole == "").then(pl.lit("0")).otherwise(whole), frac


def _signed(sign: pl.Expr, whole: pl.Expr) -> pl.Expr:
    return pl.when(whole == "0").then(pl.lit("0")).otherwise(pl.concat_str([sign, whole]))


def integer(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """A whole number without a plus sign, leading zeros, thousands separators or a zero fraction
    (``+07.00`` -> ``7``, ``1,234,567`` and ``1.234,00`` -> ``1234567`` and ``1234``); ``1,234`` and
    ``1.234`` (a thousands or a decimal separator?) and real fractions are left alone."""
    sign, whole, frac = _number(value)
    exact = whole.is_not_null() & frac.str.contains(r"^0*$")
    return pl.when(exact).then(_signed(sign, whole)).otherwise(value)


def amount(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """A whole amount as CG takes it ("1,234.12 is sent as 1234"): :func:`integer`, and a fraction dropped
    where the decimal separator is certain; ``1,234`` and ``1.234`` are left alone."""
    sign, whole, _ = _number(value)
    return pl.when(whole.is_not_null()).then(_signed(sign, whole)).otherwise(value)
