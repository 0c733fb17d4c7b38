"""Cell checks: what each column's values must be (required, typed, shaped, within limits, clean text), as
polars expressions of :mod:`cgformat.checks`, each with the message that says how to mend a failing value.

A :class:`Check` may carry a cheap ``screen`` (true wherever it can fail) or be a text-hygiene check: then
:class:`~cgformat.validation.screening.Screened` runs it only on the rows its screen flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from .. import checks
from ..model import IssueCode, Severity
from ..normalize import NORMALIZERS as _NORMALIZERS
from ..normalize import NormalizeOptions
from ..normalize import phone as _fix_phone
from ..schema import DEFAULT_MAX_LENGTH, Field, Resolution
from . import messages
from .messages import CELL

__all__ = ["Check", "cell_checks", "one_of", "parse_datetime"]

# a phone written for national use: a trunk 0 (not the international 00) or an area code in brackets first
_NATIONAL_PHONE = r"^\s*(?:0[^0]|\()"
_NO_OPTIONS = NormalizeOptions()
_SOME_COUNTRY = NormalizeOptions(default_country="1")   # any calling code: would a default country fix it?


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One check on one column: where ``fails`` is true, an issue ``code`` with this message."""

    code: str
    severity: Severity
    column: str | None          # the frame column whose value is reported (None: no value)
    field: str                  # what the issue's ``field`` says
    fails: pl.Expr
    message: str
    hygiene: bool = False       # a text-hygiene check: run only on rows the cheap pre-filter flags
    screen: pl.Expr | None = None  # cheap, true wherever ``fails`` can be: ``fails`` runs on those rows only
    # (which, k, base): ``fails`` is ``base & (which == k)``, one of several faults told apart by one numbering
    # (:func:`one_of`); ``which`` is then computed once for all of them
    shared: tuple[pl.Expr, int, pl.Expr] | None = None


def cell_checks(columns: Sequence[str], resolution: Resolution | None, missing_values: Sequence[str]) -> list[Check]:
    """Every column's checks, in column order: its field's when it has one, else the generic ones."""
    out: list[Check] = []
    for column in columns:
        f = resolution.field_for(column) if resolution else None
        raw = pl.col(column)
        missing = ~checks.non_empty(raw, missing=missing_values)
        v = raw if tuple(missing_values) == ("",) else pl.when(missing).then(pl.lit("")).otherwise(raw)
        if f is None:
            out.extend(_generic(column, v, DEFAULT_MAX_LENGTH))
        else:
            out.extend(_field_checks(column, f, v, missing))
    return out


def _generic(column: str, v: pl.Expr, limit: int) -> list[Check]:
    w = Severity.WARNING
    return [
        Check(code=IssueCode.CONTROL_CHARACTER, severity=Severity.ERROR, column=column, field=column,
              fails=~checks.control_free(v), message=CELL["control"], hygiene=True),
        Check(code=IssueCode.TOO_LONG, severity=w, column=column, field=column,
              fails=~checks.max_length(v, limit), message=CELL["too-long"].format(n=limit),
              screen=_longer_in_bytes(v, limit)),
        Check(code=IssueCode.FORMULA_INJECTION, severity=w, column=column, field=column,
              fails=~checks.formula_free(v), message=CELL["formula"], hygiene=True),
        Check(code=IssueCode.MOJIBAKE, severity=w, column=column, field=column,
              fails=~checks.mojibake_free(v), message=CELL["mojibake"], hygiene=True),
    ]


def _field_checks(column: str, f: Field, v: pl.Expr, missing: pl.Expr) -> list[Check]:
    e, w = Severity.ERROR, Severity.WARNING
    out: list[Check] = []

    def add(code: IssueCode, default: Severity, fails: pl.Expr, message: str, hygiene: bool = False,
            screen: pl.Expr | None = None, shared: tuple[pl.Expr, int, pl.Expr] | None = None) -> None:
        out.append(Check(code=code, severity=f.severity(code, default), column=column, field=column,
                         fails=fails, message=message, hygiene=hygiene, screen=screen, shared=shared))

    def add_faults(code: IssueCode, base: pl.Expr, faults: list[tuple[pl.Expr | None, int, str]],
                   screen: pl.Expr) -> None:
        for which, k, msg in faults:
            if which is None:
                add(code, e, base, msg, screen=screen)
            else:
                add(code, e, base & (which == k), msg, screen=screen, shared=(which, k, base))

    if f.required:
        add(IssueCode.MISSING_CELL, e, missing, CELL["required"].format(f=f.name))
    kind = f.kind
    typed_ok: pl.Expr | None = None
    if kind == "email":
        # one check per kind of fault, each with the advice that fits it; they run only where the
        # address check fails
        bad = ~checks.email(v)
        trimmed = v.str.strip_chars()
        bare = checks.unwrapped_email(v)
        add_faults(IssueCode.INVALID_EMAIL, bad, one_of([
            ((trimmed != v) & checks.email(trimmed), CELL["email-spaces"]),
            ((bare != trimmed) & checks.email(bare), CELL["email-wrapped"]),
            (trimmed.str.starts_with('"'), CELL["email-quote"])], CELL["email"]), bad)
    elif kind == "phone":
        # a mangled number is no phone number either: the checks run only where the phone check fails
        lossy = ~checks.lossy_number(v)
        bad_phone = ~checks.phone(v)
        add(IssueCode.LOSSY_NUMBER, e, lossy, CELL["lossy"], screen=bad_phone)
        add_faults(IssueCode.INVALID_PHONE, bad_phone & ~lossy, one_of([
            (checks.phone(_fix_phone(v, _NO_OPTIONS)) & (v != ""), CELL["phone-fix"]),
            (v.str.contains(_NATIONAL_PHONE) & checks.phone(_fix_phone(v, _SOME_COUNTRY)),
             CELL["phone-national"])], CELL["phone"]), bad_phone)
    elif kind in ("date", "datetime"):
        fmt = f.format or ("%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S")
        bad_date = ~(checks.strict_format(v, fmt) & checks.calendar(v, fmt))
        add_faults(IssueCode.INVALID_DATETIME, bad_date, _date_faults(v, f, kind, fmt), bad_date)
    elif kind == "integer":
        typed_ok = checks.integer(v)
        add(IssueCode.TYPE_ERROR, e, ~typed_ok, CELL["integer"])
    elif kind == "number":
        typed_ok = checks.number(v)
        add(IssueCode.TYPE_ERROR, e, ~typed_ok, CELL["number"])
    if typed_ok is not None and (f.minimum is not None or f.maximum is not None):
        lo = "" if f.minimum is None else f"{f.minimum:g}"
        hi = "" if f.maximum is None else f"{f.maximum:g}"
        rng = f"{lo} to {hi}" if lo and hi else (f"at least {lo}" if lo else f"at most {hi}")
        add(IssueCode.OUT_OF_RANGE, e, typed_ok & ~checks.in_range(v, minimum=f.minimum, maximum=f.maximum),
            CELL["range"].format(rng=rng))
    if f.enum is not None:
        add(IssueCode.INVALID_ENUM, e, ~checks.in_enum(v, f.enum, ignore_case=f.enum_ignore_case),
            CELL["enum"].format(values=", ".join(f.enum)))
    if f.pattern is not None:
        add(IssueCode.CONSTRAINT_ERROR, e, ~checks.matches(v, f.pattern), CELL["pattern"].format(p=f.pattern))
    if f.min_length is not None:
        add(IssueCode.CONSTRAINT_ERROR, e, ~checks.min_length(v, f.min_length),
            CELL["min-length"].format(n=f.min_length))
    if f.max_length is not None:
        add(IssueCode.TOO_LONG, w if f.role == "text" else e, ~checks.max_length(v, f.max_length),
            CELL["too-long"].format(n=f.max_length), screen=_longer_in_bytes(v, f.max_length))
    # a value of a checked shape (email, phone, date, number, enum) cannot hold these anyway
    if kind == "text" and f.enum is None:
        add(IssueCode.CONTROL_CHARACTER, e, ~checks.control_free(v), CELL["control"], True)
        if f.role != "text":
            add(IssueCode.CONTROL_CHARACTER, w, ~checks.line_break_free(v) & checks.control_free(v),
                CELL["line-break"], True)
        add(IssueCode.FORMULA_INJECTION, w, ~checks.formula_free(v), CELL["formula"], True)
        add(IssueCode.MOJIBAKE, w, ~checks.mojibake_free(v), CELL["mojibake"], True)
    if kind == "text" and f.role == "id":
        # a whole number (what most ids are) is never a mangled one
        add(IssueCode.LOSSY_NUMBER, w, ~checks.lossy_number(v), CELL["lossy"],
            screen=v.cast(pl.Int64, strict=False).is_null())
    return out


def _longer_in_bytes(value: pl.Expr, limit: int) -> pl.Expr:
    """True where the value has more than ``limit`` bytes: a cheap screen for more than ``limit`` characters."""
    return value.str.len_bytes() > limit


def _shape(fmt: str) -> str:
    return fmt.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD").replace("%H", "HH") \
        .replace("%M", "MM").replace("%S", "SS")


def one_of(faults: Sequence[tuple[pl.Expr, str]], rest: str) -> list[tuple[pl.Expr | None, int, str]]:
    """Faults that exclude each other: the first whose condition holds, else ``rest``; ``(which, k,
    message)`` per fault, where ``which`` numbers the faults (one expression, shared: it is computed once)
    and the fault is the rows where it equals ``k``."""
    which: pl.Expr = pl.lit(len(faults), dtype=pl.Int8)
    for k in range(len(faults) - 1, -1, -1):
        which = pl.when(faults[k][0]).then(pl.lit(k, dtype=pl.Int8)).otherwise(which)
    return [(which, k, message) for k, (_, message) in enumerate([*faults, (pl.lit(True), rest)])]


def _date_faults(v: pl.Expr, f: Field, kind: str, fmt: str) -> list[tuple[pl.Expr | None, int, str]]:
    """What is wrong with a value that is no date (``kind`` date) or date and time of CG's, one expression
    per fault (true where it is that fault; they exclude each other), each with the message that says how to
    mend it: only where ``cgformat fix`` converts the value does the message say so."""
    converts_here = fmt == ("%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S") and kind in f.normalizers
    told, rest = messages.date_faults(kind=kind, shape=_shape(fmt), converts_here=converts_here)
    if not converts_here:
        return [(None, 0, rest)]
    trimmed = v.str.strip_chars()
    shaped = trimmed.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?: [0-9]{2}:[0-9]{2}:[0-9]{2})?$")
    no_day = shaped & ~(checks.calendar(trimmed, "%Y-%m-%d %H:%M:%S") | checks.calendar(trimmed, "%Y-%m-%d"))
    # the normalizer gives back the value itself or one it made from a real date, in CG's shape
    converts = _NORMALIZERS[kind](v, _NO_OPTIONS) != v
    date_only = trimmed.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    # day and month either way round (both 1-12, unequal): a --date-format decides them; a date-only field
    # takes them without a time of day only
    dm = trimmed.str.extract_groups(r"^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.][0-9]{4}(\s.*)?$")
    a = dm.struct.field("1").cast(pl.Int32, strict=False)
    b = dm.struct.field("2").cast(pl.Int32, strict=False)
    either = ((a >= 1) & (a <= 12) & (b >= 1) & (b <= 12) & (a != b)).fill_null(False)
    if kind == "date":
        either = either & dm.struct.field("3").is_null()
    zoned = trimmed.str.contains(checks.ZONED_RE)
    timed = pl.lit(kind == "date") & trimmed.str.contains(r"[0-9]:[0-9]{2}")
    conditions = [no_day, converts & date_only & pl.lit(kind == "datetime"), converts, either, zoned, timed]
    return one_of(list(zip(conditions, told, strict=True)), rest)


def parse_datetime(value: pl.Expr, f: Field) -> pl.Expr:
    """``value`` as a datetime read in ``f``'s format (null where it is not written exactly so)."""
    fmt = f.format or "%Y-%m-%d %H:%M:%S"
    ok = checks.strict_format(value, fmt) & (value != "")
    dtype: pl.DataType = pl.Datetime("us")
    parsed = value.str.strptime(dtype, fmt, strict=False)  # type: ignore[arg-type]
    if fmt == "%Y-%m-%d":
        parsed = value.str.strptime(pl.Date(), fmt, strict=False).cast(pl.Datetime("us"))
    return pl.when(ok).then(parsed)
