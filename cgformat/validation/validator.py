"""Validation: header, cell, row and file checks of records against a schema and a limit profile.

:class:`Validator` works batch by batch (memory per batch only; duplicate detection keeps just the seen
key values with their first record), so it serves ``validate`` on a whole table and ``split`` on a
stream alike. :func:`validate` runs it over a :class:`~cgformat.model.Table` or a reader and returns a
:class:`~cgformat.report.Report`. Cell checks are the polars expressions of :mod:`cgformat.checks`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import TYPE_CHECKING

import polars as pl

from . import checks
from ._prefetch import prefetch
from .limits import LimitProfile, get_profile
from .model import Issue, IssueCode, RecordBatch, Severity, SourceInfo, Table
from .normalize import NORMALIZERS as _NORMALIZERS
from .normalize import NormalizeOptions
from .normalize import phone as _fix_phone
from .report import ISSUE_SCHEMA, Report, ReportCollector, issues_frame
from .schema import DEFAULT_MAX_LENGTH, Field, Resolution, Schema, load_schema

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from ._seen import SeenKeys

__all__ = [
    "BatchResult",
    "Validated",
    "Validator",
    "check_table",
    "extra_fields",
    "partition",
    "partition_batch",
    "validate",
]

# a phone written for national use: a trunk 0 (not the international 00) or an area code in brackets first
_NATIONAL_PHONE = r"^\s*(?:0[^0]|\()"
_NO_OPTIONS = NormalizeOptions()
_SOME_COUNTRY = NormalizeOptions(default_country="1")   # any calling code: would a default country fix it?
# reader findings about the whole file that validation grades once every record is read (Validator.note)
_GRADED_AT_FINISH = {IssueCode.TRAILING_DELIMITER.value}
_UTF8 = {"utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig", "ascii", "us-ascii"}
_CG_SUFFIXES = {".csv", ".xls", ".xlsx", ".xml"}
_ERRORS_COLUMN = "_errors"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Check:
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
    # (:func:`_one_of`); ``which`` is then computed once for all of them
    shared: tuple[pl.Expr, int, pl.Expr] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchResult:
    """The outcome of checking one batch.

    ``ok`` (Boolean, one per record) is true where the record has no error-severity issue (with
    ``strict``, no issue at all) and the header has none either; ``issues`` has the columns of
    :data:`~cgformat.report.ISSUE_SCHEMA`, ordered by record then column. ``header`` holds the header's
    errors (code, field): they reject every record (a column CG requires is missing, a
    label repeats, a template's order is not kept), as no record can be uploaded under that header.
    """

    ok: pl.Series
    issues: pl.DataFrame
    first_record: int
    strict: bool = False
    header: tuple[tuple[str, str], ...] = ()

    def errors_column(self, names: Mapping[str, str] | None = None) -> pl.Series:
        """Per record, the issues that reject it as ``code:field`` joined by ``; `` (``""`` when ok), the
        header's errors first. ``names`` maps a field (a frame column) to the label the output shows for it."""
        names = names or {}
        header = "; ".join(f"{code}:{names.get(name, name)}" for code, name in self.header)
        n = self.ok.len()
        records = pl.DataFrame({"record": pl.int_range(self.first_record, self.first_record + n,
                                                       eager=True, dtype=pl.Int64)})
        bad = self.issues.filter(pl.col("record").is_not_null())
        if not self.strict:
            bad = bad.filter((pl.col("severity") == Severity.ERROR.value)
                             | (pl.col("code") == IssueCode.RAGGED_ROW.value))
        if bad.height == 0:
            return pl.Series(_ERRORS_COLUMN, [header] * n, dtype=pl.String)
        field = pl.col("field").fill_null("")
        if names:
            field = field.replace(dict(names))
        per = bad.group_by("record", maintain_order=True).agg(
            pl.concat_str([pl.col("code"), field], separator=":")
            .str.join("; ").alias(_ERRORS_COLUMN))
        own = records.join(per, on="record", how="left", maintain_order="left")[_ERRORS_COLUMN]
        if not header:
            return own.fill_null("")
        return own.to_frame().select(pl.concat_str([pl.lit(header), pl.lit("; ") + pl.col(_ERRORS_COLUMN)],
                                                   ignore_nulls=True).alias(_ERRORS_COLUMN)).to_series()


_KeyHashes = tuple["npt.NDArray[np.uint64]", "npt.NDArray[np.uint32]", "npt.NDArray[np.intp] | None"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """What :meth:`Validator.prepare` works out from a batch alone: issue frames of its values, key hashes."""

    issues: tuple[pl.DataFrame, ...]
    keys: tuple[_KeyHashes | None, ...]


class Validator:
    """Checks records of one source against a schema and a limit profile, batch by batch.

    Build it from the source's :class:`SourceInfo`; read :attr:`header_issues`; call :meth:`check` on
    each batch in order; call :meth:`finish` with the totals for the file-level checks.
    :attr:`header_issues` already holds the reader's own ``info.issues`` (except ``non-utf8`` and
    ``delimiter``, which :meth:`finish` re-grades against the profile): report it instead of them, not
    as well. :meth:`check` likewise carries the batch's reader issues into its result.
    ``template`` makes the header rules exact (names, order and case, unknown columns are errors).
    """

    def __init__(self, schema: Schema | str | None, info: SourceInfo, *,
                 profile: LimitProfile | str | None = None, template: bool = False,
                 strict: bool = False) -> None:
        if isinstance(schema, str):
            schema = load_schema(schema)
        if schema is not None and template and not schema.template:
            schema = replace(schema, template=True, fields_match="exact")
        self.schema = schema
        self.info = info
        self.profile = get_profile(profile if profile is not None else (schema.profile if schema else None))
        self.strict = strict
        self.columns = info.columns
        self.resolution: Resolution | None = (schema.resolve(info.labels, xml=info.format == "xml")
                                              if schema is not None else None)
        self.header_issues: list[Issue] = self._header_issues()
        self._checks: list[_Check] = self._plan()
        self._plain = [(i, c) for i, c in enumerate(self._checks) if not c.hygiene and c.screen is None]
        # the screened checks, grouped by their screen (a phone column's two checks share one)
        self._screens: dict[str, tuple[pl.Expr, list[tuple[int, _Check]]]] = {}
        for i, c in enumerate(self._checks):
            if not c.hygiene and c.screen is not None:
                self._screens.setdefault(str(c.screen), (c.screen, []))[1].append((i, c))
        self._hygiene = [(i, c) for i, c in enumerate(self._checks) if c.hygiene]
        self._hygiene_columns = sorted({c.column for _, c in self._hygiene if c.column is not None})
        self._hygiene_of = {col: [(i, c) for i, c in self._hygiene if c.column == col]
                            for col in self._hygiene_columns}
        # header errors (found above and by the rules' planning) reject every record: see BatchResult.header
        self._header_errors = tuple((str(i.code), i.field or "") for i in self.header_issues
                                    if i.severity is Severity.ERROR)
        self._file_notes: list[Issue] = []
        self._keys: list[tuple[tuple[str, ...], tuple[str, ...]]] = self._dedupe_plan()
        self._seen: list[SeenKeys] = []
        if self._keys:
            from ._seen import SeenKeys  # numpy: loaded only when there are keys to compare

            self._seen = [SeenKeys() for _ in self._keys]

    # ----------------------------------------------------------------------------------------- header

    def _header_issues(self) -> list[Issue]:
        # graded again by finish(); and a title-row hint is dropped when the one label is a field (a header)
        left_out = {IssueCode.NON_UTF8.value, IssueCode.DELIMITER.value, IssueCode.SEP_LINE.value}
        if self.resolution is not None and self.resolution.mapping:
            left_out.add(IssueCode.TITLE_ROW.value)
        reader = [i for i in self.info.issues if not (str(i.code) in left_out and i.record is None)]
        reader_codes = {str(i.code) for i in reader}
        own: list[Issue] = []
        labels = self.info.labels
        template = self.schema is not None and self.schema.template
        for pos, (label, column) in enumerate(zip(labels, self.columns, strict=True), start=1):
            if label.strip() == "" and IssueCode.BLANK_LABEL.value not in reader_codes:
                own.append(Issue(code=IssueCode.BLANK_LABEL,
                                 severity=Severity.ERROR if template else Severity.WARNING, line=1,
                                 field=column, value=label,
                                 message=f"column {pos} has no header: name it or remove the column"))
            elif label != label.strip() and IssueCode.PADDED_LABEL.value not in reader_codes:
                own.append(Issue(code=IssueCode.PADDED_LABEL, severity=Severity.WARNING, line=1, field=column,
                                 value=label, message=f"column {pos} header {label!r} has spaces around it; "
                                                      "`cgformat fix` trims them"))
            if label.strip() and labels.index(label) != pos - 1 \
                    and IssueCode.DUPLICATE_LABEL.value not in reader_codes:
                own.append(Issue(code=IssueCode.DUPLICATE_LABEL, severity=Severity.ERROR, line=1, field=column,
                                 value=label, message=f"column {pos} repeats the header {label!r} of column "
                                                      f"{labels.index(label) + 1}: keep one of them"))
        # the header's own issues are made at line 1: moved to the header's line (the reader's have theirs)
        line = _header_line(self.info)
        mine = own + list(self.resolution.issues if self.resolution else ())
        return reader + [replace(i, line=line) if (i.line == 1 and line != 1 and i.record is None) else i
                         for i in mine]

    # ----------------------------------------------------------------------------------------- cells

    def _plan(self) -> list[_Check]:
        schema = self.schema
        missing_values = schema.missing_values if schema else ("",)
        default_max = DEFAULT_MAX_LENGTH
        out: list[_Check] = []
        for column in self.columns:
            f = self.resolution.field_for(column) if self.resolution else None
            raw = pl.col(column)
            missing = ~checks.non_empty(raw, missing=missing_values)
            v = raw if tuple(missing_values) == ("",) else pl.when(missing).then(pl.lit("")).otherwise(raw)
            if f is None:
                out.extend(self._generic(column, v, default_max))
            else:
                out.extend(self._field_checks(column, f, v, missing))
        out.extend(self._rules(missing_values))
        out.extend(self._repeated_header())
        out.extend(self._empty_record())
        return out

    def _empty_record(self) -> list[_Check]:
        """A record of empty values only (a line of delimiters, a row Excel left behind): one error, found on
        the rows whose first value is empty (a cheap screen)."""
        columns = self.columns
        if not columns:
            return []
        return [_Check(code=IssueCode.EMPTY_RECORD, severity=Severity.ERROR, column=None, field=columns[0],
                       fails=pl.all_horizontal([pl.col(c) == "" for c in columns]),
                       message="this record is empty (a line of delimiters only, as spreadsheets leave behind): "
                               "remove it (`cgformat fix` does)",
                       screen=pl.col(columns[0]) == "")]

    def _repeated_header(self) -> list[_Check]:
        """A record that is the header row again (two exports joined into one file): an error, found on the
        rows whose first value is the first label (a cheap screen)."""
        labels, columns = self.info.labels, self.columns
        if self.info.format == "xml" or len(columns) < 2 or not any(label.strip() for label in labels):
            return []
        return [_Check(code=IssueCode.REPEATED_HEADER, severity=Severity.ERROR, column=columns[0], field=columns[0],
                       fails=pl.all_horizontal([pl.col(c) == label for c, label in zip(columns, labels, strict=True)]),
                       message="this record is the header row again (were two exports joined into one file?): "
                               "remove it",
                       screen=pl.col(columns[0]) == labels[0])]

    def _generic(self, column: str, v: pl.Expr, limit: int) -> list[_Check]:
        w = Severity.WARNING
        return [
            _Check(code=IssueCode.CONTROL_CHARACTER, severity=Severity.ERROR, column=column, field=column,
                   fails=~checks.control_free(v), message=_MSG["control"], hygiene=True),
            _Check(code=IssueCode.TOO_LONG, severity=w, column=column, field=column,
                   fails=~checks.max_length(v, limit), message=_MSG["too-long"].format(n=limit),
                   screen=_longer_in_bytes(v, limit)),
            _Check(code=IssueCode.FORMULA_INJECTION, severity=w, column=column, field=column,
                   fails=~checks.formula_free(v), message=_MSG["formula"], hygiene=True),
            _Check(code=IssueCode.MOJIBAKE, severity=w, column=column, field=column,
                   fails=~checks.mojibake_free(v), message=_MSG["mojibake"], hygiene=True),
        ]

    def _field_checks(self, column: str, f: Field, v: pl.Expr, missing: pl.Expr) -> list[_Check]:
        e, w = Severity.ERROR, Severity.WARNING
        out: list[_Check] = []

        def add(code: IssueCode, default: Severity, fails: pl.Expr, message: str, hygiene: bool = False,
                screen: pl.Expr | None = None, shared: tuple[pl.Expr, int, pl.Expr] | None = None) -> None:
            out.append(_Check(code=code, severity=f.severity(code, default), column=column, field=column,
                              fails=fails, message=message, hygiene=hygiene, screen=screen, shared=shared))

        def add_faults(code: IssueCode, base: pl.Expr, faults: list[tuple[pl.Expr | None, int, str]],
                       screen: pl.Expr) -> None:
            for which, k, msg in faults:
                if which is None:
                    add(code, e, base, msg, screen=screen)
                else:
                    add(code, e, base & (which == k), msg, screen=screen, shared=(which, k, base))

        if f.required:
            add(IssueCode.MISSING_CELL, e, missing, _MSG["required"].format(f=f.name))
        kind = f.kind
        typed_ok: pl.Expr | None = None
        if kind == "email":
            # one check per kind of fault, each with the advice that fits it; they run only where the
            # address check fails
            bad = ~checks.email(v)
            trimmed = v.str.strip_chars()
            bare = checks.unwrapped_email(v)
            add_faults(IssueCode.INVALID_EMAIL, bad, _one_of([
                ((trimmed != v) & checks.email(trimmed), _MSG["email-spaces"]),
                ((bare != trimmed) & checks.email(bare), _MSG["email-wrapped"]),
                (trimmed.str.starts_with('"'), _MSG["email-quote"])], _MSG["email"]), bad)
        elif kind == "phone":
            # a mangled number is no phone number either: the checks run only where the phone check fails
            lossy = ~checks.lossy_number(v)
            bad_phone = ~checks.phone(v)
            add(IssueCode.LOSSY_NUMBER, e, lossy, _MSG["lossy"], screen=bad_phone)
            add_faults(IssueCode.INVALID_PHONE, bad_phone & ~lossy, _one_of([
                (checks.phone(_fix_phone(v, _NO_OPTIONS)) & (v != ""), _MSG["phone-fix"]),
                (v.str.contains(_NATIONAL_PHONE) & checks.phone(_fix_phone(v, _SOME_COUNTRY)),
                 _MSG["phone-national"])], _MSG["phone"]), bad_phone)
        elif kind in ("date", "datetime"):
            fmt = f.format or ("%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S")
            bad_date = ~(checks.strict_format(v, fmt) & checks.calendar(v, fmt))
            add_faults(IssueCode.INVALID_DATETIME, bad_date, _date_faults(v, f, kind, fmt), bad_date)
        elif kind == "integer":
            typed_ok = checks.integer(v)
            add(IssueCode.TYPE_ERROR, e, ~typed_ok, _MSG["integer"])
        elif kind == "number":
            typed_ok = checks.number(v)
            add(IssueCode.TYPE_ERROR, e, ~typed_ok, _MSG["number"])
        if typed_ok is not None and (f.minimum is not None or f.maximum is not None):
            lo = "" if f.minimum is None else f"{f.minimum:g}"
            hi = "" if f.maximum is None else f"{f.maximum:g}"
            rng = f"{lo} to {hi}" if lo and hi else (f"at least {lo}" if lo else f"at most {hi}")
            add(IssueCode.OUT_OF_RANGE, e,
                typed_ok & ~checks.in_range(v, minimum=f.minimum, maximum=f.maximum),
                _MSG["range"].format(rng=rng))
        if f.enum is not None:
            add(IssueCode.INVALID_ENUM, e, ~checks.in_enum(v, f.enum, ignore_case=f.enum_ignore_case),
                _MSG["enum"].format(values=", ".join(f.enum)))
        if f.pattern is not None:
            add(IssueCode.CONSTRAINT_ERROR, e, ~checks.matches(v, f.pattern),
                _MSG["pattern"].format(p=f.pattern))
        if f.min_length is not None:
            add(IssueCode.CONSTRAINT_ERROR, e, ~checks.min_length(v, f.min_length),
                _MSG["min-length"].format(n=f.min_length))
        if f.max_length is not None:
            add(IssueCode.TOO_LONG, w if f.role == "text" else e, ~checks.max_length(v, f.max_length),
                _MSG["too-long"].format(n=f.max_length), screen=_longer_in_bytes(v, f.max_length))
        # a value of a checked shape (email, phone, date, number, enum) cannot hold these anyway
        if kind == "text" and f.enum is None:
            add(IssueCode.CONTROL_CHARACTER, e, ~checks.control_free(v), _MSG["control"], True)
            if f.role != "text":
                add(IssueCode.CONTROL_CHARACTER, w, ~checks.line_break_free(v) & checks.control_free(v),
                    _MSG["line-break"], True)
            add(IssueCode.FORMULA_INJECTION, w, ~checks.formula_free(v), _MSG["formula"], True)
            add(IssueCode.MOJIBAKE, w, ~checks.mojibake_free(v), _MSG["mojibake"], True)
        if kind == "text" and f.role == "id":
            # a whole number (what most ids are) is never a mangled one
            add(IssueCode.LOSSY_NUMBER, w, ~checks.lossy_number(v), _MSG["lossy"],
                screen=v.cast(pl.Int64, strict=False).is_null())
        return out

    def _column_of(self, name: str) -> str | None:
        if self.resolution is None:
            return None
        for m in self.resolution.columns:
            if m.field is not None and m.field.name == name and m.how != "duplicate":
                return m.column
        return None

    def _rules(self, missing_values: Sequence[str]) -> list[_Check]:
        if self.schema is None:
            return []
        out: list[_Check] = []

        def empty(col: str) -> pl.Expr:
            return ~checks.non_empty(pl.col(col), missing=missing_values)

        for rule in self.schema.rules:
            cols = [self._column_of(n) for n in rule.fields]
            if rule.kind == "require-any":
                present = [c for c in cols if c is not None]
                if not present:
                    self.header_issues.append(Issue(
                        code=IssueCode.MISSING_LABEL, severity=Severity.ERROR, line=_header_line(self.info),
                        field=rule.fields[0], message=f"no column for any of {', '.join(rule.fields)}: "
                                                      f"the file {rule.message or 'needs one of them'}"))
                    continue
                out.append(_Check(code=rule.code, severity=rule.severity, column=present[0], field=present[0],
                                  fails=pl.all_horizontal([empty(c) for c in present]),
                                  message=rule.message or f"needs a value in one of {', '.join(rule.fields)}"))
            elif rule.kind == "requires":
                a, b = cols
                if a is None:
                    continue
                fails = ~empty(a) if b is None else (~empty(a) & empty(b))
                out.append(_Check(code=rule.code, severity=rule.severity, column=b, field=b or rule.fields[1],
                                  fails=fails, message=rule.message
                                  or f"has {rule.fields[0]} but no {rule.fields[1]}"))
            elif rule.kind == "not-after":
                a, b = cols
                fa = self.schema.field(rule.fields[0])
                fb = self.schema.field(rule.fields[1])
                if a is None or b is None or fa is None or fb is None:
                    continue
                pa = _parse(pl.col(a), fa)
                pb = _parse(pl.col(b), fb)
                out.append(_Check(code=rule.code, severity=rule.severity, column=a, field=a,
                                  fails=(pa > pb).fill_null(False),
                                  message=rule.message or f"{rule.fields[0]} is after {rule.fields[1]}"))
        return out

    def _dedupe_plan(self) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """(field names, columns) of each de-duplication key whose columns are all present."""
        if self.schema is None:
            return []
        keys: list[tuple[str, ...]] = []
        if self.schema.dedupe_key:
            keys.append(self.schema.dedupe_key)
        for f in self.schema.fields:
            if f.unique and (f.name,) not in keys:
                keys.append((f.name,))
        out: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        for key in keys:
            cols = [self._column_of(n) for n in key]
            if all(c is not None for c in cols):
                out.append((key, tuple(c for c in cols if c is not None)))
        return out

    # ----------------------------------------------------------------------------------------- batches

    def prepare(self, batch: RecordBatch) -> Prepared:
        """What checking ``batch`` needs from the batch alone: the issues of its own values (reader issues,
        cell checks) and the hashes of its keys. Keeps no state: it may run ahead, in another thread."""
        frame = batch.frame
        n = frame.height
        records = batch.records
        lines = batch.lines.cast(pl.Int64).alias("line")
        parts: list[pl.DataFrame] = []
        own = [i for i in batch.issues if i.code not in _GRADED_AT_FINISH]
        if own:
            reader = issues_frame(own).with_columns(pl.lit(-1, dtype=pl.Int32).alias("__order"))
            parts.append(reader)
        if self._checks and n:
            stage = [c.fails.alias(f"c{i}") for i, c in self._plain]
            stage += [screen.alias(f"g{j}") for j, (screen, _) in enumerate(self._screens.values())]
            few = [c for c in self._hygiene_columns if _few_values(frame[c])]
            many = [c for c in self._hygiene_columns if c not in few]
            stage += [pl.col(c).str.contains(checks.SUSPECT_RE).alias(f"s:{c}") for c in many]
            # lazy: polars shares the common sub-expressions (a column's ``== ""``, a pattern used twice);
            # the distinct values of the columns that repeat a few are gathered alongside
            queries = [frame.lazy().select(stage)]
            if few:
                queries.append(frame.lazy().select([pl.col(c).unique().implode() for c in few]))
            flags, *distinct = pl.collect_all(queries)
            parts += self._issues_of(self._plain, flags, frame, records, lines)
            if self._screens:
                parts += self._screened_issues(flags, frame, records, lines)
            if self._hygiene_columns:
                suspect: dict[str, pl.Series | None] = {c: flags[f"s:{c}"] for c in many}
                if distinct:
                    suspect.update(_suspect_by_value(frame, distinct[0]))
                for col in self._hygiene_columns:
                    parts += self._issues_where(self._hygiene_of[col], suspect[col], frame, records, lines)
        return Prepared(issues=tuple(parts), keys=tuple(_key_hashes(cols, frame) for _, cols in self._keys))

    def check(self, batch: RecordBatch, prepared: Prepared | None = None) -> BatchResult:
        """Check one batch (batches must come in record order): per-record ok flags and the issues.
        ``prepared`` is :meth:`prepare`'s answer for this batch, when it was worked out ahead."""
        if prepared is None:
            prepared = self.prepare(batch)
        for issue in batch.issues:
            self.note(issue)
        frame = batch.frame
        n = frame.height
        records = batch.records
        lines = batch.lines.cast(pl.Int64).alias("line")
        parts = list(prepared.issues)
        for k, (names, cols) in enumerate(self._keys):
            dup = self._duplicates(k, names, cols, frame, records, lines, prepared.keys[k])
            if dup.height:
                parts.append(dup.with_columns(pl.lit(len(self._checks) + k, dtype=pl.Int32).alias("__order")))
        if parts:
            issues = pl.concat([p.select([*ISSUE_SCHEMA, "__order"]) for p in parts], how="vertical_relaxed")
            issues = issues.sort(["record", "__order"], nulls_last=False, maintain_order=True).drop("__order")
            # a header row again, or an empty record: one issue says it all, not one per value
            whole = pl.col("code").is_in([IssueCode.REPEATED_HEADER.value, IssueCode.EMPTY_RECORD.value])
            again = issues.filter(whole)["record"]
            if again.len():
                issues = issues.filter(~pl.col("record").is_in(again.implode()) | whole)
        else:
            issues = issues_frame()
        bad = issues.filter(pl.col("record").is_not_null()
                            & ((pl.col("severity") == Severity.ERROR.value) | pl.lit(self.strict)
                               | (pl.col("code") == IssueCode.RAGGED_ROW.value)))["record"]
        if self._header_errors:
            ok = pl.Series("ok", [False] * n, dtype=pl.Boolean)
        elif bad.len():
            ok = ~records.is_in(bad.unique().implode())
        else:
            ok = pl.Series("ok", [True] * n, dtype=pl.Boolean)
        return BatchResult(ok=ok.alias("ok"), issues=issues, first_record=batch.first_record, strict=self.strict,
                           header=self._header_errors)

    def _screened_issues(self, flags: pl.DataFrame, frame: pl.DataFrame, records: pl.Series,
                         lines: pl.Series) -> list[pl.DataFrame]:
        """Issues of the screened checks: those whose screen (column ``g{j}``) flags a row, on such rows."""
        groups = list(self._screens.values())
        hits = flags.select([pl.col(f"g{j}").any() for j in range(len(groups))]).row(0)
        active = [j for j, hit in enumerate(hits) if hit]
        if not active:
            return []
        # each group on the rows its own screen flags: a costly check (telling a date's faults apart runs the
        # date normalizer) never runs on the rows another column's screen flagged (the issues are sorted later)
        out: list[pl.DataFrame] = []
        for j in active:
            out.extend(self._issues_where(groups[j][1], flags[f"g{j}"], frame, records, lines))
        return out

    def _issues_where(self, planned: list[tuple[int, _Check]], mask: pl.Series | None, frame: pl.DataFrame,
                      records: pl.Series, lines: pl.Series) -> list[pl.DataFrame]:
        """Issue frames of these checks, run on the rows ``mask`` flags only (no issue elsewhere)."""
        if mask is None or not mask.any():
            return []
        needed = {n for _, c in planned for n in c.fails.meta.root_names()}
        needed.update(c.column for _, c in planned if c.column is not None)
        sub = frame.select([c for c in frame.columns if c in needed]).filter(mask)
        # the numbering that tells one column's faults apart is computed once, not once per fault
        hoisted: dict[int, tuple[str, pl.Expr]] = {}
        exprs: list[pl.Expr] = []
        for i, c in planned:
            if c.shared is None:
                exprs.append(c.fails.alias(f"c{i}"))
                continue
            which, k, base = c.shared
            name = hoisted.setdefault(id(which), (f"~cgformat_which{len(hoisted)}", which))[0]
            exprs.append((base & (pl.col(name) == k)).alias(f"c{i}"))
        frame_with = sub.lazy().with_columns([w.alias(n) for n, w in hoisted.values()]) if hoisted else sub.lazy()
        flags = frame_with.select(exprs).collect()
        return self._issues_of(planned, flags, sub, records.filter(mask), lines.filter(mask))

    @staticmethod
    def _issues_of(planned: list[tuple[int, _Check]], flags: pl.DataFrame, frame: pl.DataFrame,
                   records: pl.Series, lines: pl.Series) -> list[pl.DataFrame]:
        """Issue frames for the checks whose flag column (``c{i}``) is true somewhere."""
        if not planned or flags.height == 0:
            return []
        totals = flags.select([pl.col(f"c{i}").sum() for i, _ in planned]).row(0)
        out: list[pl.DataFrame] = []
        for (i, c), total in zip(planned, totals, strict=True):
            if not total:
                continue
            n = int(total)
            mask = flags[f"c{i}"]
            value = frame[c.column].filter(mask) if c.column is not None else pl.Series([""] * n, dtype=pl.String)

            def const(x: object, dtype: pl.DataType, n: int = n) -> pl.Series:
                return pl.Series([x], dtype=dtype).new_from_index(0, n)

            out.append(pl.DataFrame({
                "code": const(str(c.code), pl.String()), "severity": const(c.severity.value, pl.String()),
                "record": records.filter(mask), "line": lines.filter(mask), "field": const(c.field, pl.String()),
                "value": value.alias("value"), "message": const(c.message, pl.String()),
                "__order": const(i, pl.Int32()),
            }))
        return out

    def _duplicates(self, k: int, names: tuple[str, ...], cols: tuple[str, ...], frame: pl.DataFrame,
                    records: pl.Series, lines: pl.Series, hashes: _KeyHashes | None) -> pl.DataFrame:
        """Records whose key repeats an earlier one, in this batch or any before (see :mod:`cgformat._seen`:
        keys are kept as two hashes with their first record, 16 bytes a key)."""
        if hashes is None:
            return issues_frame()
        h1, h2, filled = hashes
        numbers = records.to_numpy()
        at, dup_of = self._seen[k].add(h1, h2, numbers if filled is None else numbers[filled])
        if len(at) == 0:
            return issues_frame()
        rows = pl.Series("row", (filled[at] if filled is not None else at).astype("uint32"))
        label = " + ".join(names)
        out = pl.DataFrame([records.gather(rows).alias("record"), lines.gather(rows).alias("line"),
                            frame[cols[0]].gather(rows).alias("value"),
                            pl.Series("dup_of", dup_of, dtype=pl.Int64)]).rechunk()
        # (pl.format panics on columns of unequal chunks in polars 2.1)
        return out.select(
            pl.lit(IssueCode.DUPLICATE_ROW.value).alias("code"),
            pl.lit(Severity.ERROR.value).alias("severity"),
            pl.col("record"), pl.col("line"),
            pl.lit(cols[0]).alias("field"),
            pl.col("value"),
            pl.format(f"same {label} as record {{}}: CG keeps only the first; remove the repeat or merge them",
                      pl.col("dup_of")).alias("message"),
        )

    # ----------------------------------------------------------------------------------------- file

    def note(self, issue: Issue) -> None:
        """Keep a reader's finding about the whole file (a trailing delimiter) for :meth:`finish`, which grades
        it; :meth:`check` notes its batches' own."""
        if issue.code in _GRADED_AT_FINISH:
            self._file_notes.append(issue)

    def finish(self, *, records: int, bytes: int) -> list[Issue]:
        """File-level checks once every batch is seen: limits of the profile, encoding, delimiter, format, and
        the reader's findings about the whole file (see :meth:`note`)."""
        out: list[Issue] = []
        p = self.profile
        info = self.info
        for noted in self._file_notes:
            out.append(replace(noted, severity=Severity.ERROR, message=(
                f"{noted.value} record(s), from line {noted.line} on, end with a delimiter the header lacks (a "
                f"trailing delimiter): CG may read the empty field as a column the header does not name; "
                f"`cgformat fix` writes the records without it")))
        if records == 0:
            out.append(Issue(code=IssueCode.EMPTY_FILE, severity=Severity.WARNING,
                             message="the file has no records: nothing to upload"))
        if records > p.max_records:
            out.append(Issue(code=IssueCode.TOO_MANY_RECORDS, severity=Severity.ERROR, value=str(records),
                             message=f"{records} records; profile {p.name!r} allows {p.max_records} per file: "
                                     f"`cgformat split` cuts it into parts that fit"))
        if bytes > p.max_bytes:
            out.append(Issue(code=IssueCode.FILE_TOO_LARGE, severity=Severity.ERROR, value=str(bytes),
                             message=f"{bytes} bytes; profile {p.name!r} allows {p.max_bytes} per file: "
                                     f"`cgformat split` cuts it into parts that fit"))
        enc = (info.encoding or "utf-8").lower()
        if info.format == "csv" and "+" in enc:
            out.append(Issue(code=IssueCode.NON_UTF8, severity=Severity.ERROR, value=info.encoding,
                             message=f"the file is UTF-8 but for some lines ({enc.rpartition('+')[2]}, each "
                                     f"named as mixed-encoding): CG would garble them; `cgformat fix` or "
                                     f"`cgformat convert` writes them as UTF-8"))
        elif info.format == "csv" and enc not in _UTF8:
            out.append(Issue(code=IssueCode.NON_UTF8, severity=Severity.ERROR, value=info.encoding,
                             message=f"the file is {info.encoding}, not UTF-8: CG would garble accented "
                                     f"letters; `cgformat fix` or `cgformat convert` writes UTF-8"))
        if info.format == "csv" and info.delimiter not in (None, ","):
            strict = p.name in ("api", "revenue")
            out.append(Issue(code=IssueCode.DELIMITER, severity=Severity.ERROR if strict else Severity.WARNING,
                             value=info.delimiter,
                             message=f"the delimiter is {info.delimiter!r}, not a comma: "
                                     + ("CG's File API reads such a file as empty fields; "
                                        if strict else "CG accepts it only by arrangement; ")
                                     + "`cgformat fix` or `cgformat convert` writes commas"))
        sep = next((i for i in info.issues if i.code == IssueCode.SEP_LINE), None)
        if sep is not None:
            out.append(Issue(code=IssueCode.SEP_LINE, severity=Severity.ERROR, line=sep.line, value=sep.value,
                             message=f"line 1 {sep.value!r} is Excel's delimiter hint: CG would take it for the "
                                     f"header; `cgformat fix` or `cgformat convert` writes the file without it"))
        suffix = PurePath(info.source).suffix.lower()
        if info.source not in ("-", "<bytes>", "<stream>") and suffix and suffix not in _CG_SUFFIXES:
            out.append(Issue(code=IssueCode.UNSUPPORTED_FORMAT, severity=Severity.WARNING, value=suffix,
                             message=f"CG accepts .csv, .xls, .xlsx and .xml files, not {suffix}: rename it or "
                                     f"`cgformat convert` it"))
        return out


def _few_values(values: pl.Series) -> bool:
    """Whether a column seems to repeat a few values (judged on its first records): then checking each
    distinct value once and looking the verdicts up costs less than checking every value."""
    head = values.head(1000)
    return head.len() >= 100 and head.n_unique() * 2 < head.len()


def _suspect_by_value(frame: pl.DataFrame, distinct: pl.DataFrame) -> dict[str, pl.Series | None]:
    """Per column of ``distinct`` (one row: the list of a column's distinct values), where
    :data:`~cgformat.checks.SUSPECT_RE` matches in ``frame`` (``None``: nowhere)."""
    out: dict[str, pl.Series | None] = {}
    for c in distinct.columns:
        values = distinct[c].explode()
        bad = values.filter(values.str.contains(checks.SUSPECT_RE))
        out[c] = frame[c].is_in(bad.implode()) if bad.len() else None
    return out


def _longer_in_bytes(value: pl.Expr, limit: int) -> pl.Expr:
    """True where the value has more than ``limit`` bytes: a cheap screen for more than ``limit`` characters."""
    return value.str.len_bytes() > limit


def _key_parts(cols: Sequence[str], frame: pl.DataFrame) -> tuple[list[pl.Series], pl.Series]:
    """Each key column's values as keys compare (stripped, lower-cased), and which records have no key: a
    blank part leaves a record without one (a phone-only record has no Email + OrderDate key)."""
    parts = [_normalised_key(frame[c]) for c in cols]
    blank = parts[0] == ""
    for p in parts[1:]:
        blank = blank | (p == "")
    return parts, blank


def key_hash_column(frame: pl.DataFrame, cols: Sequence[str]) -> pl.Series:
    """One 64-bit hash per record of its key as duplicates are judged here, null for a record without a key:
    what ``cgformat split`` keeps apart (equal hashes of unequal keys could only cut a part early)."""
    hashes = _key_hashes(tuple(cols), frame)
    none = pl.repeat(None, frame.height, eager=True, dtype=pl.UInt64).alias("key")
    if hashes is None:
        return none
    h1, _, filled = hashes
    if filled is None:
        return pl.Series("key", h1, dtype=pl.UInt64)
    return none.scatter(filled, h1)


def _key_hashes(cols: tuple[str, ...], frame: pl.DataFrame) -> _KeyHashes | None:
    """The two hashes of each record's key (see :func:`_key_parts`), for the records that have one
    (``filled``: their rows, None for all); None when no record has one."""
    if frame.height == 0:
        return None
    parts, blank = _key_parts(cols, frame)
    if blank.all():
        return None
    key = parts[0] if len(parts) == 1 else pl.DataFrame(parts).select(
        pl.concat_str(pl.all(), separator="\x1f")).to_series()
    h1 = key.hash(seed=0x9E37).to_numpy()
    h2 = (key.hash(seed=0x7F4A) & 0xFFFFFFFF).cast(pl.UInt32).to_numpy()
    if not blank.any():
        return h1, h2, None
    filled = (~blank).arg_true().to_numpy()
    return h1[filled], h2[filled], filled


# a value with none of these (upper-case ASCII, ASCII white space, anything not ASCII) is its own
# normalised key: stripping and lower-casing leave it as it is
_NORMALISE_RE = r"[A-Z\t-\r \x{80}-\x{10FFFF}]"


def _normalised_key(values: pl.Series) -> pl.Series:
    """``values`` stripped of surrounding white space and lower-cased (only the values that need it, unless
    most do, judged on the first ones)."""
    head = values.head(1000)
    if head.str.contains(_NORMALISE_RE).sum() * 2 > head.len():
        return values.str.strip_chars().str.to_lowercase()
    rows = values.str.contains(_NORMALISE_RE).arg_true()
    if rows.len() == 0:
        return values
    return values.clone().scatter(rows, values.gather(rows).str.strip_chars().str.to_lowercase())


def title_row_of(info: SourceInfo, schema: Schema | None) -> Issue | None:
    """The reader's ``title-row`` hint, unless the header's one label is a field of ``schema``: then the row
    is a header with unlabelled columns, not a title (:class:`Validator` leaves the hint out alike)."""
    hint = next((i for i in info.issues if i.code == IssueCode.TITLE_ROW), None)
    if hint is not None and schema is not None and schema.resolve(info.labels, xml=info.format == "xml").mapping:
        return None
    return hint


def _header_line(info: SourceInfo) -> int | None:
    """The line of the header: where the reader found it (1 unless blank lines, or a title with
    ``--header-row``, come first); none for XML (no header row)."""
    return None if info.format == "xml" else info.header_line or 1


def _shape(fmt: str) -> str:
    return fmt.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD").replace("%H", "HH") \
        .replace("%M", "MM").replace("%S", "SS")


def _one_of(faults: Sequence[tuple[pl.Expr, str]], rest: str) -> list[tuple[pl.Expr | None, int, str]]:
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
    shape = _shape(fmt)
    what = "date" if kind == "date" else "date and time"
    hours = "" if kind == "date" else " (24 h)"
    if fmt != ("%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S") or kind not in f.normalizers:
        return [(None, 0, f"must be a real {what} written exactly {shape}{hours}")]
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
    return _one_of([
        (no_day, f"is no real {what} (no such day{'' if kind == 'date' else ', or an hour past 23'}): correct it"),
        (converts & date_only & pl.lit(kind == "datetime"),
         "has a date but no time: CG wants YYYY-MM-DD HH:MM:SS (24 h); `cgformat fix` adds 00:00:00"),
        (converts, f"must be written {shape}{hours}; `cgformat fix` converts this one"),
        (either, f"must be written {shape}{hours}; day and month could be either way round here: "
                 "`cgformat fix --date-format DD/MM/YYYY` (or MM/DD/YYYY) converts it"),
        (zoned, f"has a time zone, which CG does not take: give the {what} in the zone your CG account uses, "
                f"written {shape}{hours}"),
        (timed, f"has a time of day, but this field takes a date only: write the date alone, {shape}"),
    ], f"must be a real {what} written exactly {shape}{hours}: cgformat cannot read this one; correct it")


def _parse(value: pl.Expr, f: Field) -> pl.Expr:
    fmt = f.format or "%Y-%m-%d %H:%M:%S"
    ok = checks.strict_format(value, fmt) & (value != "")
    dtype: pl.DataType = pl.Datetime("us")
    parsed = value.str.strptime(dtype, fmt, strict=False)  # type: ignore[arg-type]
    if fmt == "%Y-%m-%d":
        parsed = value.str.strptime(pl.Date(), fmt, strict=False).cast(pl.Datetime("us"))
    return pl.when(ok).then(parsed)


_MSG = {
    "required": "{f} is required: give it a value",
    "email": "not an address CG's mailer takes: exactly one @; before it letters, digits and . _ + - ' (no two "
             "dots in a row, none first or last); after it a domain of dot-separated labels of letters, digits "
             "and hyphens (none starting or ending with a hyphen); no spaces or < > , : ; \" anywhere",
    "email-spaces": "has spaces around the address: CG refuses it (`cgformat fix` trims them)",
    "email-wrapped": "the address is wrapped in < > or mailto:, which CG's mailer refuses (`cgformat fix` removes "
                     "the wrapping)",
    "email-quote": "starts with a quote: the record's quoting is probably broken (a quote never closed?): check "
                   "this record in the source",
    "phone": "phone must be 7-15 digits only, the country calling code first (31612345678): no letters, "
             "extensions, +, spaces, dashes or brackets",
    "phone-fix": "phone must be digits only, country calling code first (31612345678): no +, 00, spaces, "
                 "dashes, dots or brackets (`cgformat fix` removes them)",
    "phone-national": "a national number (a leading 0 or an area code in brackets): CG needs the country calling "
                      "code first (31612345678); `cgformat fix --default-country CODE` adds it",
    "lossy": "looks like a number mangled by a spreadsheet (3.16E+11 or 31612345678.0): its digits may be "
             "lost; re-export the column as text",
    "integer": "must be a whole number: digits only, no separators, decimals or + sign",
    "number": "must be a number with a . decimal point and no separators",
    "range": "out of range: must be {rng}",
    "enum": "must be one of: {values}",
    "pattern": "does not match the pattern {p}",
    "min-length": "shorter than {n} characters",
    "too-long": "longer than {n} characters (CG's limit per field)",
    "control": "holds control characters that CG and XML cannot store (`cgformat fix` removes them)",
    "line-break": "holds a tab or line break: fine in free text only; remove it",
    "formula": "starts with = + - or @: a spreadsheet opening the file would run it as a formula",
    "mojibake": "looks garbled (Ã© for é, â€™ for ’): the text was decoded with the wrong encoding upstream; "
                "`cgformat fix` decodes it back where that is certain",
}


# -------------------------------------------------------------------------------------------- drivers


@dataclass(frozen=True, slots=True, kw_only=True)
class Validated:
    """A whole table validated: the report, plus per-record ok flags and ``_errors`` reasons."""

    report: Report
    ok: pl.Series
    errors: pl.Series


def _type_name(schema: Schema | None) -> str:
    return schema.name if schema is not None else "none"


def _batches_of(source: Table | Iterable[RecordBatch]) -> Iterable[RecordBatch]:
    if isinstance(source, Table):
        return [RecordBatch(frame=source.frame, lines=source.lines, first_record=1, issues=())]
    return source


def _run(info: SourceInfo, batches: Iterable[RecordBatch], extra: Sequence[Issue], schema: Schema | str | None,
         *, profile: LimitProfile | str | None, template: bool, strict: bool, max_issues: int,
         keep: bool, on_batch: Callable[[RecordBatch, BatchResult], None] | None = None,
         ) -> tuple[Report, list[BatchResult]]:
    v = Validator(schema, info, profile=profile, template=template, strict=strict)
    collector = ReportCollector(max_issues=max_issues)
    collector.add(v.header_issues)
    records = 0
    kept: list[BatchResult] = []
    placed = [i for i in extra if i.record is not None]

    def prepared() -> Iterator[tuple[RecordBatch, Prepared]]:
        for given in batches:
            batch = given
            if placed:
                lo, hi = batch.first_record, batch.first_record + batch.frame.height
                mine = [i for i in placed if lo <= i.record < hi]  # type: ignore[operator]
                if mine:
                    batch = replace(batch, issues=(*batch.issues, *mine))
            yield batch, v.prepare(batch)

    # a batch's own checks run a batch ahead, in a thread of their own (polars frees the GIL): the main
    # thread keeps only what depends on the batches before (duplicates) and the report
    for batch, ready in prefetch(prepared(), name="cgformat-check"):
        result = v.check(batch, ready)
        collector.add(result.issues)
        records += batch.frame.height
        if keep:
            kept.append(result)
        if on_batch is not None:
            on_batch(batch, result)
    for issue in extra:
        v.note(issue)
    if extra:
        collector.add([i for i in extra if i.record is None and i.code not in _GRADED_AT_FINISH])
    collector.add(v.finish(records=records, bytes=info.bytes))
    report = collector.report(source=info.source, type=_type_name(v.schema), format=info.format,
                              encoding=info.encoding, delimiter=info.delimiter, records=records,
                              bytes=info.bytes, strict=strict)
    return report, kept


def validate(source: Table | object, schema: Schema | str | None, *, profile: LimitProfile | str | None = None,
             template: bool = False, strict: bool = False, max_issues: int = 1000,
             on_batch: Callable[[RecordBatch, BatchResult], None] | None = None) -> Report:
    """Validate a whole :class:`Table`, or a reader (anything with ``info`` and ``batches()``), streaming.

    ``schema`` is a :class:`Schema`, a built-in type name, or ``None`` for structural checks only.
    ``profile`` defaults to the schema's (``revenue`` for revenue, else ``api``). ``on_batch`` is called with
    each batch and its result, in order (see :func:`partition_batch` to separate its records).
    """
    if isinstance(source, Table):
        info = source.info
        extra: Sequence[Issue] = [i for i in source.issues if i not in info.issues]
        batches: Iterable[RecordBatch] = _batches_of(source)
    else:
        info = source.info  # type: ignore[attr-defined]
        extra = ()
        batches = source.batches()  # type: ignore[attr-defined]
    report, _ = _run(info, batches, extra, schema, profile=profile, template=template, strict=strict,
                     max_issues=max_issues, keep=False, on_batch=on_batch)
    return report


def check_table(table: Table, schema: Schema | str | None, *, profile: LimitProfile | str | None = None,
                template: bool = False, strict: bool = False, max_issues: int = 1000) -> Validated:
    """Validate a table in memory, keeping per-record ok flags and reasons (for ``--clean`` / ``--rejects``)."""
    extra = [i for i in table.issues if i not in table.info.issues]
    report, results = _run(table.info, _batches_of(table), extra, schema, profile=profile, template=template,
                           strict=strict, max_issues=max_issues, keep=True)
    if results:
        ok = pl.concat([r.ok for r in results])
        errors = pl.concat([r.errors_column() for r in results])
    else:
        ok = pl.Series("ok", [], dtype=pl.Boolean)
        errors = pl.Series(_ERRORS_COLUMN, [], dtype=pl.String)
    return Validated(report=report, ok=ok, errors=errors)


def partition(table: Table, validated: Validated) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a table's records into (clean, rejects): rejects keep the original values plus ``_errors``.

    Every record lands in exactly one of the two, in input order.
    """
    frame = table.frame
    clean = frame.filter(validated.ok)
    rejects = frame.with_columns(validated.errors.alias(_ERRORS_COLUMN)).filter(~validated.ok)
    return clean, rejects


def partition_batch(batch: RecordBatch, result: BatchResult, names: Mapping[str, str] | None = None, *,
                    extra: bool = False) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One batch's (clean, rejects), as :func:`partition` separates a whole table: the rejects keep their
    original values plus a last column of reasons (named ``~cgformat_errors``: it never clashes with a label),
    fields named as ``names`` says (see :meth:`BatchResult.errors_column`). With ``extra`` (a CSV source, whose
    records may hold more fields than its header), the column before the reasons (``~cgformat_extra``) holds
    the fields beyond the header of each, as written (:func:`extra_fields`)."""
    frame = batch.frame
    if result.ok.all():
        empty = frame.clear()
        if extra:
            empty = empty.with_columns(pl.lit("", dtype=pl.String).alias("~cgformat_extra"))
        return frame, empty.with_columns(pl.lit("", dtype=pl.String).alias("~cgformat_errors"))
    clean = frame.filter(result.ok)
    added = [extra_fields(batch)] if extra else []
    rejects = frame.with_columns(*added, result.errors_column(names).alias("~cgformat_errors")).filter(~result.ok)
    return clean, rejects


def extra_fields(batch: RecordBatch) -> pl.Series:
    """Per record of ``batch``, the fields it holds beyond the header's, as the source wrote them (delimiters
    and quotes included: the ``value`` of its ``ragged-row`` issue), ``""`` for a record without any."""
    n = batch.frame.height
    out = pl.Series("~cgformat_extra", [""] * n, dtype=pl.String)
    lo = batch.first_record
    found = [(i.record - lo, i.value) for i in batch.issues if i.code == IssueCode.RAGGED_ROW
             and i.record is not None and i.value is not None and lo <= i.record < lo + n]
    if found:
        out = out.scatter([row for row, _ in found], [value for _, value in found])
    return out


EXTRA_COLUMN = "_extra"
"""The name of the column of a rejects file made from a CSV source that holds each record's fields beyond
the header (a ragged row's extra values, as written)."""

ERRORS_COLUMN = _ERRORS_COLUMN
"""The name of the reasons column in a rejects file."""
