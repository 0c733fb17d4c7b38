"""Contact normalizers: e-mail addresses and phone numbers as CG takes them."""

from __future__ import annotations

import polars as pl

from .. import checks
from .options import NormalizeOptions

__all__ = ["email", "phone"]


def email(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """No surrounding whitespace, no ``<`` ``>`` or ``mailto:`` around an address that is valid without them,
    a lower-case domain (the local part is kept: it may be case-sensitive)."""
    trimmed = value.str.strip_chars()
    bare = checks.unwrapped_email(trimmed)
    v = pl.when((bare != trimmed) & bare.str.contains(checks.EMAIL_RE)).then(bare).otherwise(trimmed)
    parts = v.str.extract_groups(r"^([^@]*)@([^@]*)$")
    local, domain = parts.struct.field("1"), parts.struct.field("2")
    return pl.when(local.is_not_null()).then(pl.concat_str([local, pl.lit("@"), domain.str.to_lowercase()])) \
        .otherwise(v)


def phone(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """Digits only: drop ``+``, spaces, dashes, dots, slashes and parentheses, a trunk ``(0)`` after a
    country code and a leading ``00``; with a default country, a national number (one starting with a trunk
    ``0``, or with an area code in brackets: ``(555) 123-4567``) gets the country code first, the trunk 0
    dropped. Without one, a number with its area code in brackets is left alone: as bare digits it would
    pass for one with a country code. Values holding anything else (letters, ``ext``) are left alone, and
    so are numbers mangled by a spreadsheet (their digits are lost)."""
    v = value.str.strip_chars()
    fixable = v.str.contains(r"^[0-9+\-.()/\s]+$") & v.str.contains(r"[0-9]") \
        & ~v.str.contains(r"^[0-9]{5,}\.0+$")
    # "+31 (0)6 ..." keeps the trunk 0 only in national use: drop it once a country code leads
    trunk = pl.when(v.str.contains(r"^(?:\+|00)[0-9]{1,3}\s*\(0\)")).then(v.str.replace(r"\(0\)", "")) \
        .otherwise(v)
    digits = trunk.str.replace_all(r"[^0-9]", "")
    intl = v.str.starts_with("+") | digits.str.starts_with("00")
    digits = digits.str.replace(r"^(?:00)+", "")
    # an international prefix followed by yet another 0 is no number we can read: leave it for validation
    fixable = fixable & ~(intl & digits.str.starts_with("0"))
    bracketed = ~intl & v.str.starts_with("(")
    if options.default_country:
        trunk0 = ~intl & digits.str.contains(r"^0[1-9]")
        digits = pl.when(trunk0).then(pl.lit(options.default_country) + digits.str.slice(1)) \
            .when(bracketed & digits.str.contains(r"^[1-9]")).then(pl.lit(options.default_country) + digits) \
            .otherwise(digits)
    else:
        fixable = fixable & ~bracketed
    return pl.when(fixable & (digits != "")).then(digits).otherwise(value)
