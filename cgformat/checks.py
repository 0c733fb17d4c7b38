"""Named cell checks as polars expressions.

Every check takes an expression of ``pl.String`` values (never null: readers give ``""`` for empty) and
returns a Boolean expression that is **True where the value passes**. Empty values pass every check except
:func:`non_empty`: whether a value is required is a separate question. No Python loop runs per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from ._mojibake import SIGNATURE, garbled

__all__ = [
    "CHECKS",
    "CONTROL_RE",
    "MOJIBAKE_RE",
    "SUSPECT_RE",
    "ZONED_RE",
    "calendar",
    "control_free",
    "email",
    "formula_free",
    "in_enum",
    "in_range",
    "integer",
    "line_break_free",
    "lossy_number",
    "matches",
    "max_length",
    "min_length",
    "mojibake_free",
    "non_empty",
    "number",
    "phone",
    "strict_format",
    "unwrapped_email",
]

# An address a mailer takes (spec §2: no whitespace anywhere, one @), as RFC 5321/5322 write it without
# quoted local parts or address literals: the local part dot-separated runs of characters that are no
# specials ( ) < > [ ] : ; @ \ , . " (so `+` and `'` are fine, `<john@x.com>` and `mailto:` are not), no
# two dots in a row nor one at either end; the domain two or more dot-separated labels of letters, digits
# and hyphens, none starting or ending with a hyphen. Letters beyond ASCII are taken on both sides
# (internationalised addresses); control characters and Unicode white space nowhere.
_LOCAL_CHAR = r'[^\x00-\x20\x7F-\x9F\s"(),.:;<>@\[\\\]]'
_LABEL_END = r"[0-9A-Za-z[^\x00-\x9F\s]]"
_LABEL = rf"{_LABEL_END}(?:[0-9A-Za-z\-[^\x00-\x9F\s]]*{_LABEL_END})?"
EMAIL_RE = rf"^{_LOCAL_CHAR}+(?:\.{_LOCAL_CHAR}+)*@{_LABEL}(?:\.{_LABEL})+$"
# digits only, country calling code first: a calling code never starts with 0 (a leading 0 is a national
# trunk prefix, 00 an international one)
PHONE_RE = r"^[1-9][0-9]{6,14}$"
# an ISO date and time with a time zone (Z, +02:00): CG takes its dates and times without one
ZONED_RE = (r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
            r"\s*(?:Z|[+-][0-9]{2}:?[0-9]{2})\s*$")
# an address wrapped as a link or a header writes it: <john@example.com>, mailto:john@example.com
_ANGLED = r"^<\s*([^<>]*?)\s*>$"
_MAILTO = r"^(?i:mailto:)\s*"
# a number a spreadsheet mangled: 3.16E+11, 3,16E+11, 31612345678.0
LOSSY_RE = r"^[+-]?[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+$|^[+-]?[0-9]{5,}[.,]0+$"
INTEGER_RE = r"^-?[0-9]+$"
NUMBER_RE = r"^-?[0-9]+(?:\.[0-9]+)?$"
# characters XML 1.0 cannot hold and CG cannot store (tab, LF and CR are allowed there)
CONTROL_RE = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]"
LINE_BREAK_RE = r"[\t\n\r\u2028\u2029]"
FORMULA_RE = r"^[=+\-@]"

# UTF-8 read as cp1252 / latin-1, as ``cgformat fix`` finds it (cgformat._mojibake: one definition for both),
# and U+FFFD, the replacement character (text lost upstream, which nothing can repair)
MOJIBAKE_RE = f"{SIGNATURE}|\ufffd"
# one screen for all the text-hygiene checks (control characters and line breaks, a leading formula
# sign, mojibake): a value it passes needs no further hygiene check, so those run on the rare rest only
SUSPECT_RE = f"{CONTROL_RE[:-1]}\t\n\r\u2028\u2029]|{FORMULA_RE}|{MOJIBAKE_RE}"


def non_empty(value: pl.Expr, *, missing: Sequence[str] = ("",)) -> pl.Expr:
    """True where there is a value (not ``""`` nor one of the schema's missing values)."""
    if tuple(missing) == ("",):
        return value != ""
    return ~value.is_in(list(missing)) & (value != "")


def email(value: pl.Expr) -> pl.Expr:
    """An address CG's mailer takes (:data:`EMAIL_RE`): no whitespace anywhere, exactly one ``@``, a local
    part without specials or stray dots, a domain of dotted labels none of which starts or ends with ``-``."""
    return (value == "") | value.str.contains(EMAIL_RE)


def unwrapped_email(value: pl.Expr) -> pl.Expr:
    """The value without surrounding spaces, ``<`` ``>`` around it and a ``mailto:`` before it (in either
    order): ``<mailto:john@example.com>`` gives ``john@example.com``; other values come back trimmed."""
    v = value.str.strip_chars()
    once = pl.coalesce(v.str.extract(_ANGLED, 1), v).str.replace(_MAILTO, "")
    return pl.coalesce(once.str.extract(_ANGLED, 1), once)


def phone(value: pl.Expr) -> pl.Expr:
    """Digits only, 7 to 15 of them, the country calling code first (so never a leading 0): no ``+``,
    spaces, dashes or symbols."""
    return (value == "") | value.str.contains(PHONE_RE)


def lossy_number(value: pl.Expr) -> pl.Expr:
    """True unless the value looks like a number a spreadsheet mangled (``3.16E+11``, ``31612345678.0``)."""
    return ~value.str.contains(LOSSY_RE)


def strict_format(value: pl.Expr, fmt: str) -> pl.Expr:
    """The value has exactly the digits and separators of ``fmt`` (``%Y-%m-%d %H:%M:%S`` ...).

    polars' parser is lenient (it takes ``2025-2-3``), so the exact shape is checked by a pattern built
    from the format; :func:`calendar` then checks the date exists.
    """
    return (value == "") | value.str.contains(format_regex(fmt))


def format_regex(fmt: str) -> str:
    """An anchored pattern for the fixed-width strptime directives (%Y %m %d %H %M %S); others loosely."""
    widths = {"Y": "[0-9]{4}", "m": "[0-9]{2}", "d": "[0-9]{2}", "H": "[0-9]{2}", "M": "[0-9]{2}",
              "S": "[0-9]{2}", "y": "[0-9]{2}", "I": "[0-9]{2}", "p": "(?:AM|PM|am|pm)", "b": "[A-Za-z]{3}",
              "B": "[A-Za-z]+", "f": "[0-9]+", "j": "[0-9]{3}", "z": "[+-][0-9]{2}:?[0-9]{2}", "%": "%"}
    out: list[str] = ["^"]
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            out.append(widths.get(fmt[i + 1], ".+?"))
            i += 2
            continue
        out.append("\\" + ch if not ch.isalnum() and ch != " " else ch)
        i += 1
    out.append("$")
    return "".join(out)


def calendar(value: pl.Expr, fmt: str) -> pl.Expr:
    """The value parses as a real date / datetime in ``fmt`` (2025-02-30 and 24:00:00 do not)."""
    dtype: pl.DataType = pl.Date() if fmt == "%Y-%m-%d" else pl.Datetime("us")
    parsed = value.str.strptime(dtype, fmt, strict=False)  # type: ignore[arg-type]
    return (value == "") | parsed.is_not_null()


def integer(value: pl.Expr) -> pl.Expr:
    """A whole number: optional ``-``, digits only (no ``+``, separators, decimals or exponent)."""
    return (value == "") | value.str.contains(INTEGER_RE)


def number(value: pl.Expr) -> pl.Expr:
    """A decimal number with a ``.`` decimal point and no separators."""
    return (value == "") | value.str.contains(NUMBER_RE)


def in_range(value: pl.Expr, *, minimum: float | None = None, maximum: float | None = None) -> pl.Expr:
    """A number within ``minimum`` .. ``maximum``; values that are no number pass (a type check's job)."""
    num = value.cast(pl.Float64, strict=False)
    ok = pl.lit(True)
    if minimum is not None:
        ok = ok & (num >= minimum)
    if maximum is not None:
        ok = ok & (num <= maximum)
    return num.is_null() | ok.fill_null(True)


def in_enum(value: pl.Expr, values: Sequence[str], *, ignore_case: bool = False) -> pl.Expr:
    """One of ``values`` (exactly, or in any case)."""
    if ignore_case:
        return (value == "") | value.str.to_lowercase().is_in([v.lower() for v in values])
    return (value == "") | value.is_in(list(values))


def max_length(value: pl.Expr, limit: int) -> pl.Expr:
    """At most ``limit`` characters (Unicode code points)."""
    return value.str.len_chars() <= limit


def min_length(value: pl.Expr, limit: int) -> pl.Expr:
    """At least ``limit`` characters (empty values pass: required is another check)."""
    return (value == "") | (value.str.len_chars() >= limit)


def matches(value: pl.Expr, pattern: str) -> pl.Expr:
    """The whole value matches ``pattern`` (Table Schema patterns are implicitly anchored)."""
    return (value == "") | value.str.contains(f"^(?:{pattern})$")


def control_free(value: pl.Expr) -> pl.Expr:
    """No control characters that XML 1.0 and CG cannot hold (tab, LF, CR excepted)."""
    return ~value.str.contains(CONTROL_RE)


def line_break_free(value: pl.Expr) -> pl.Expr:
    """No tab, line feed, carriage return or Unicode line separator (fine in free text only)."""
    return ~value.str.contains(LINE_BREAK_RE)


def formula_free(value: pl.Expr) -> pl.Expr:
    """Does not start with ``=`` ``+`` ``-`` ``@`` (a spreadsheet would run it as a formula)."""
    return ~value.str.contains(FORMULA_RE)


def mojibake_free(value: pl.Expr) -> pl.Expr:
    """No UTF-8 decoded as cp1252 / latin-1 that ``cgformat fix`` would repair (``Ã©``, ``â€™``: exactly
    those values), nor replacement characters."""
    repairable = value.map_elements(garbled, return_dtype=pl.Boolean, skip_nulls=True)
    return ~(value.str.contains("\ufffd", literal=True) | (value.str.contains(SIGNATURE) & repairable))


CHECKS: dict[str, Callable[..., pl.Expr]] = {
    "non_empty": non_empty,
    "email": email,
    "phone": phone,
    "lossy_number": lossy_number,
    "strict_format": strict_format,
    "calendar": calendar,
    "integer": integer,
    "number": number,
    "in_range": in_range,
    "in_enum": in_enum,
    "max_length": max_length,
    "min_length": min_length,
    "matches": matches,
    "control_free": control_free,
    "line_break_free": line_break_free,
    "formula_free": formula_free,
    "mojibake_free": mojibake_free,
}
"""Every named check: name -> function of a String expression giving True where the value passes."""
