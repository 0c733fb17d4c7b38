"""Named normalizers as polars expressions: the safe fixes ``cgformat fix`` makes, each one reported.

A normalizer takes a ``pl.String`` expression and :class:`NormalizeOptions` and returns the normalized
String expression. Every normalizer is idempotent (normalizing twice equals normalizing once) and never
guesses: a value it cannot fix safely is left as it is, for validation to report (an ambiguous day/month
order is reported as ``ambiguous-date``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from . import checks
from ._mojibake import SIGNATURE, repair
from .errors import UsageError
from .model import IssueCode, Severity, Table
from .report import issues_frame
from .schema import Schema

__all__ = [
    "GENERIC",
    "NORMALIZERS",
    "FixPlan",
    "NormalizeOptions",
    "Normalized",
    "ambiguous_dates",
    "apply",
    "empty_unlabelled",
    "fix_plan",
    "fix_table",
    "identity_where",
    "normalize",
    "normalizers_for",
    "translate_date_format",
]

CG_DATETIME = "%Y-%m-%d %H:%M:%S"
CG_DATE = "%Y-%m-%d"


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalizeOptions:
    """Choices the user makes for ``fix``: a default country code for national phone numbers, and the
    format of dates that are not already ``YYYY-MM-DD HH:MM:SS`` (else only unambiguous ones are read)."""

    default_country: str | None = None
    date_format: str | None = None

    def __post_init__(self) -> None:
        if self.default_country is not None and not re.fullmatch(r"[1-9][0-9]{0,2}", self.default_country):
            raise UsageError(f"--default-country must be a calling code of 1-3 digits (31, 1, 57), "
                             f"got {self.default_country!r}")


# ------------------------------------------------------------------------------------------ normalizers


def control(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """Control characters that CG and XML cannot store removed (tab, line feed and carriage return kept)."""
    return value.str.replace_all(checks.CONTROL_RE, "")


def strip(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """Trim whitespace at both ends."""
    return value.str.strip_chars()


def nfc(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """Unicode NFC: composed characters, so ``é`` is one code point as CG expects."""
    return value.str.normalize("NFC")


def _unmangle(text: str) -> str:
    while True:
        fixed = repair(text)
        if fixed == text:
            return text
        text = unicodedata.normalize("NFC", fixed)   # as the nfc normalizer before it would have made it


def mojibake(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """UTF-8 that was read as cp1252 or latin-1 upstream, decoded back where that is certain (``MÃ¼ller`` ->
    ``Müller``, ``â€™`` -> ``’``): the garbled characters must form UTF-8 sequences that ordinary text never
    shows (see ``cgformat._mojibake``); ``São``, a lone ``Ã`` and anything else are left as they are."""
    return value.map_elements(_unmangle, return_dtype=pl.String, skip_nulls=True)


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


def yes_no(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """``Y`` / ``N`` from yes/no, y/n, true/false, 1/0 (any case, spaces trimmed)."""
    low = value.str.strip_chars().str.to_lowercase()
    return pl.when(low.is_in(["y", "yes", "true", "1"])).then(pl.lit("Y")) \
        .when(low.is_in(["n", "no", "false", "0"])).then(pl.lit("N")).otherwise(value)


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
    return _apply_rows(frame, column, name, options, frame.select(~screen).to_series().arg_true())


def _apply_rows(frame: pl.DataFrame, column: str, name: str, options: NormalizeOptions, todo: pl.Series) -> pl.Series:
    """Normalizer ``name`` applied to the rows ``todo`` of one column (the others as they are)."""
    values = frame[column]
    if todo.len() == 0:
        return values
    expr = NORMALIZERS[name](pl.col(column), options).alias(column)
    if todo.len() == values.len():
        return frame.select(expr).to_series()
    fixed = values.gather(todo).to_frame(column).select(expr).to_series()
    return values.scatter(todo, fixed)


# ------------------------------------------------------------------------------------------ whole tables


@dataclass(frozen=True, slots=True, kw_only=True)
class Normalized:
    """What :func:`normalize` did: the new frame and labels, counts per normalizer, and each change.

    ``changes`` has columns record, line, field, before, after, normalizers (comma-separated names of the
    normalizers that changed that cell). ``renamed`` maps old header labels to canonical field names.
    ``issues`` (columns of :data:`~cgformat.report.ISSUE_SCHEMA`) lists values left alone on purpose
    (``ambiguous-date``, ``zoned-date``, ``unread-date``: a date that ``--date-format`` does not read).
    """

    frame: pl.DataFrame
    labels: tuple[str, ...]
    counts: dict[str, int]
    changes: pl.DataFrame
    renamed: dict[str, str] = field(default_factory=dict)
    issues: pl.DataFrame = field(default_factory=issues_frame)

    @property
    def changed_cells(self) -> int:
        """How many cells differ from the input."""
        return self.changes.height

    def in_order(self, order: Sequence[int | str] | None) -> Normalized:
        """The same, its columns in ``order``: positions of the columns as read, and labels of empty columns
        to add (None: as they are)."""
        if order is None:
            return self
        columns = self.frame.columns
        return replace(self, frame=self.frame.select([
            pl.col(columns[i]) if isinstance(i, int) else pl.lit("", dtype=pl.String).alias(f"\x00added:{i}")
            for i in order]), labels=tuple(self.labels[i] if isinstance(i, int) else i for i in order))


def normalizers_for(kind_normalizers: Sequence[str]) -> tuple[str, ...]:
    """The chain for a column: the generic normalizers, then the field's own (each once, in order)."""
    out: list[str] = []
    for n in (*GENERIC, *kind_normalizers):
        if n not in out:
            out.append(n)
    return tuple(out)


def normalize(table: Table, chains: dict[str, tuple[str, ...]], *, options: NormalizeOptions | None = None,
              labels: Sequence[str] | None = None, renamed: dict[str, str] | None = None,
              date_columns: Sequence[str] = (), first_record: int = 1) -> Normalized:
    """Apply each column's normalizer chain (column name -> normalizer names) and report every change.

    Columns absent from ``chains`` get the generic chain. ``labels`` are the header to write (default:
    the table's); ``date_columns`` are checked for ambiguous day/month values, reported as warnings.
    ``first_record`` numbers the table's first row (a batch of a larger source).
    """
    opts = options or NormalizeOptions()
    frame = table.frame
    cols = frame.columns
    records = table.records + (first_record - 1)
    lines = table.lines.alias("line")
    counts: dict[str, int] = {}
    col_chains = {c: chains.get(c, GENERIC) for c in cols}
    stages: dict[str, list[tuple[str, pl.Series]]] = {c: [] for c in cols}
    current = frame
    # one stage at a time, materialised: each expression then reads a plain column (cheap to plan and run)
    for k in range(max((len(ch) for ch in col_chains.values()), default=0)):
        staged = [(c, ch[k]) for c, ch in col_chains.items() if k < len(ch)]
        exprs = [NORMALIZERS[name](pl.col(c), opts).alias(c) for c, name in staged
                 if identity_where(name, pl.col(c), opts) is None]
        # the screens of the stage in one pass (column by column in parallel); a column whose screen passes
        # everywhere is left as it is, and not compared either
        screens = [(c, name, screen) for c, name in staged
                   if (screen := identity_where(name, pl.col(c), opts)) is not None]
        todo = current.select([(~screen).alias(str(i)) for i, (_, _, screen) in enumerate(screens)]) \
            if screens else pl.DataFrame()
        kept: set[str] = set()
        screened: list[pl.Series] = []
        for i, (c, name, _) in enumerate(screens):
            rows = todo.to_series(i).arg_true()
            if rows.len():
                screened.append(_apply_rows(current, c, name, opts, rows))
            else:
                kept.add(c)
        nxt = current.with_columns([*exprs, *screened])
        for c, ch in col_chains.items():
            if k < len(ch):
                if c in kept:
                    counts[ch[k]] = counts.get(ch[k], 0)
                    continue
                mask = nxt[c] != current[c]
                n = int(mask.sum())
                counts[ch[k]] = counts.get(ch[k], 0) + n
                if n:
                    stages[c].append((ch[k], mask))
        current = nxt
    new_frame = current
    parts: list[pl.DataFrame] = []
    base = pl.DataFrame([records, lines])
    for col in cols:
        if not stages[col]:
            continue
        changed = new_frame[col] != frame[col]
        tags = pl.DataFrame([m.alias(f"s{i}") for i, (_, m) in enumerate(stages[col])]).select(pl.concat_str(
            [pl.when(pl.col(f"s{i}")).then(pl.lit(name)) for i, (name, _) in enumerate(stages[col])],
            separator=",", ignore_nulls=True).alias("normalizers"))
        part = pl.concat([base, pl.DataFrame({"field": pl.Series([col] * frame.height, dtype=pl.String),
                                              "before": frame[col], "after": new_frame[col]}), tags],
                         how="horizontal").filter(changed)
        if part.height:
            parts.append(part)
    change_schema = {"record": pl.Int64, "line": pl.Int64, "field": pl.String, "before": pl.String,
                     "after": pl.String, "normalizers": pl.String}
    changes = pl.concat(parts).sort("record", maintain_order=True) if parts else pl.DataFrame(schema=change_schema)
    found: list[pl.DataFrame] = []
    for col in date_columns:
        if col not in cols:
            continue
        # an ISO date and time with a zone (Z, +02:00) is left alone: which zone CG's times are in is the
        # account's, and dropping or shifting the offset would be a guess
        zoned = frame.select((pl.col(col).str.contains(_ZONED) & (new_frame[col] == pl.col(col))).alias("z"))["z"]
        if zoned.any():
            found.append(pl.DataFrame([records, lines, frame[col].alias("value")]).filter(zoned).select(
                pl.lit(IssueCode.ZONED_DATE.value).alias("code"), pl.lit(Severity.WARNING.value).alias("severity"),
                "record", "line", pl.lit(col).alias("field"), "value",
                pl.lit("has a time zone: left as it is; CG takes the date and time without one: give the time in "
                       "the zone your CG account uses, as YYYY-MM-DD HH:MM:SS").alias("message")))
        # only a day/month/year shape can be ambiguous: the costly parse runs on those values alone
        shaped = frame.select(pl.col(col).str.strip_chars().str.contains(_DMY).alias("s"))["s"]
        rows = shaped.arg_true()
        amb = pl.repeat(False, frame.height, eager=True, dtype=pl.Boolean).alias("a")
        if rows.len():
            sub = frame[col].gather(rows).to_frame(col).select(ambiguous_dates(pl.col(col), opts).alias("a"))["a"]
            amb = amb.scatter(rows, sub)
        if amb.any():
            found.append(pl.DataFrame([records, lines, frame[col].alias("value")]).filter(amb).select(
                pl.lit(IssueCode.AMBIGUOUS_DATE.value).alias("code"),
                pl.lit(Severity.WARNING.value).alias("severity"), "record", "line", pl.lit(col).alias("field"),
                "value", pl.lit("day and month could be either way round: left as it is; give --date-format "
                                "(e.g. DD/MM/YYYY) to convert such dates").alias("message")))
        unread = _unread_dates(frame[col], new_frame[col], date_only="date" in chains.get(col, ()),
                               options=opts, skip=zoned | amb)
        if unread is not None:
            found.append(pl.concat([pl.DataFrame([records, lines]), unread], how="horizontal")
                         .filter(pl.col("message").is_not_null()).select(
                pl.lit(IssueCode.UNREAD_DATE.value).alias("code"), pl.lit(Severity.WARNING.value).alias("severity"),
                "record", "line", pl.lit(col).alias("field"), "value", "message"))
    issues = pl.concat(found).sort("record", maintain_order=True) if found else issues_frame()
    out_labels = tuple(labels) if labels is not None else table.info.labels
    if renamed:
        counts["rename"] = len(renamed)
    return Normalized(frame=new_frame, labels=out_labels, counts=dict(counts.items()),
                      changes=changes, renamed=dict(renamed or {}), issues=issues)


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


@dataclass(frozen=True, slots=True, kw_only=True)
class FixPlan:
    """What ``cgformat fix`` does to a source with these labels: each column's normalizer chain, the header
    to write (``labels``, in the order the columns are read), the labels renamed, the date columns checked
    for ambiguous day/month values, and, for a schema whose header must match exactly (a template, the
    revenue type), the columns to write (``order``: positions of the columns as read, and labels of empty
    columns to add; None to keep them as they are)."""

    chains: dict[str, tuple[str, ...]]
    labels: tuple[str, ...]
    renamed: dict[str, str]
    date_columns: tuple[str, ...]
    order: tuple[int | str, ...] | None = None

    @property
    def output_labels(self) -> tuple[str, ...]:
        """The header as written: ``labels`` in ``order``, added columns included."""
        if self.order is None:
            return self.labels
        return tuple(self.labels[i] if isinstance(i, int) else i for i in self.order)

    @property
    def reordered(self) -> bool:
        """Whether the columns read are written in another order."""
        kept = [i for i in (self.order or ()) if isinstance(i, int)]
        return kept != sorted(kept)

    @property
    def added(self) -> tuple[str, ...]:
        """Empty columns added for fields the header needs (values optional)."""
        return tuple(i for i in (self.order or ()) if isinstance(i, str))

    @property
    def dropped(self) -> tuple[int, ...]:
        """1-based positions of the columns read that are not written (unlabelled and empty)."""
        if self.order is None:
            return ()
        kept = {i for i in self.order if isinstance(i, int)}
        return tuple(i + 1 for i in range(len(self.labels)) if i not in kept)


def fix_table(table: Table, schema: Schema | None, *, options: NormalizeOptions | None = None,
              rename: bool = True) -> Normalized:
    """Normalize a table as ``cgformat fix`` does: every column trimmed and NFC, each schema field's own
    normalizers, and (with ``rename``) aliased or mis-cased headers renamed to the canonical field names,
    an exact header's columns put in its order, and unlabelled empty columns dropped."""
    drop = empty_unlabelled(table.info.labels, [table.frame]) if rename else ()
    plan = fix_plan(table.info.labels, schema, rename=rename, drop=drop)
    return normalize(table, plan.chains, options=options, labels=plan.labels, renamed=plan.renamed,
                     date_columns=plan.date_columns).in_order(plan.order)


def empty_unlabelled(labels: Sequence[str], frames: Iterable[pl.DataFrame]) -> tuple[int, ...]:
    """Positions (0-based) of the columns with a blank label and no value in any of ``frames`` (the whole
    source): what a trailing delimiter in a spreadsheet export leaves. Dropping them loses nothing."""
    blank = [i for i, label in enumerate(labels) if not label.strip()]
    if not blank:
        return ()
    filled: set[int] = set()
    for frame in frames:
        names = frame.columns
        row = frame.select([(pl.col(names[i]) != "").any() for i in blank]).row(0) if frame.height else ()
        filled.update(i for i, has in zip(blank, row, strict=False) if has)
    return tuple(i for i in blank if i not in filled)


def fix_plan(labels: tuple[str, ...], schema: Schema | None, *, rename: bool = True,
             drop: Sequence[int] = (), drop_extra: bool = False) -> FixPlan:
    """The :class:`FixPlan` for a header (the columns are :func:`~cgformat.model.unique_columns` of it);
    ``drop``: positions of columns not to write (:func:`empty_unlabelled`); with ``drop_extra``, the columns
    the schema does not know are not written either (asked for: a template takes no other column)."""
    chains: dict[str, tuple[str, ...]] = {}
    date_columns: list[str] = []
    renamed: dict[str, str] = {}
    order: tuple[int | str, ...] | None = None
    if schema is not None:
        res = schema.resolve(labels)
        if drop_extra:
            drop = (*drop, *(m.position - 1 for m in res.columns if m.field is None))
        for m in res.columns:
            f = m.field if m.how != "duplicate" else None
            if f is None:
                continue
            chains[m.column] = normalizers_for(f.normalizers)
            if "datetime" in f.normalizers or "date" in f.normalizers:
                date_columns.append(m.column)
        if rename:
            new = schema.canonical_labels(labels)
            if len(set(new)) == len(new):
                renamed = {old: nw for old, nw in zip(labels, new, strict=True) if old != nw}
                labels = tuple(new)
                order = _exact_order(labels, schema)
    if drop:
        order = tuple(i for i in (order or range(len(labels))) if not (isinstance(i, int) and i in drop))
    return FixPlan(chains=chains, labels=tuple(labels), renamed=renamed, date_columns=tuple(date_columns),
                   order=order)


def _exact_order(labels: tuple[str, ...], schema: Schema) -> tuple[int | str, ...] | None:
    """A header that must match exactly (a template, the revenue type) wants the schema's columns in its
    order: those found among ``labels`` (renamed already), then the others as they stand (no value is
    dropped). A missing column of a template gets an empty column (CG needs every column of the template,
    even empty), and so does a missing field of a record type whose values are optional (a required one is
    left missing: an empty column would not give it its values; validate reports it). None when nothing
    changes, and for other schemas."""
    if not (schema.template or schema.fields_match == "exact"):
        return None
    at = {label: i for i, label in enumerate(labels)}
    first: list[int | str] = []
    for f in schema.fields:
        if f.name in at:
            first.append(at[f.name])
        elif schema.template or not f.required:
            first.append(f.name)
    taken = {i for i in first if isinstance(i, int)}
    order = (*first, *(i for i in range(len(labels)) if i not in taken))
    return None if order == tuple(range(len(labels))) else order
