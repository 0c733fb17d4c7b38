"""The validator: a source's records checked against a schema and a limit profile, batch by batch.

:class:`Validator` keeps memory per batch only (duplicate detection keeps just the seen keys' hashes with their
first record), so it serves ``validate`` on a whole table and ``split`` on a stream alike. Its checks come
from :func:`plan`: the header's (:mod:`.header`), each cell's (:mod:`.cells`), each record's (:mod:`.rows`),
duplicate keys (:mod:`.duplicates`) and the file's (:mod:`.file`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import polars as pl

from ..limits import LimitProfile, get_profile
from ..model import Issue, IssueCode, RecordBatch, Severity, SourceInfo
from ..report import ISSUE_SCHEMA, issues_frame
from ..schema import Resolution, Schema, load_schema
from .cells import Check, cell_checks
from .duplicates import Duplicates, KeyHashes, dedupe_plan
from .file import GRADED_AT_FINISH, file_issues
from .header import header_issues
from .rows import empty_record, repeated_header, rule_checks
from .screening import Screened

__all__ = ["ERRORS_COLUMN", "BatchResult", "Plan", "Prepared", "Validator", "plan"]

ERRORS_COLUMN = "_errors"
"""The name of the reasons column in a rejects file."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What a :class:`Validator` checks, worked out from the schema and the source's header alone: the
    schema as applied (a template's made exact), its resolution of the labels, the header's issues, every
    cell and record check in order, and the de-duplication keys (field names, columns)."""

    schema: Schema | None
    resolution: Resolution | None
    header_issues: tuple[Issue, ...]
    checks: tuple[Check, ...]
    keys: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]


def plan(schema: Schema | str | None, info: SourceInfo, *, template: bool = False) -> Plan:
    """The checks of records of ``info``'s source against ``schema`` (a name loads a built-in type; None:
    structural checks only); ``template`` makes the header rules exact (names, order and case)."""
    if isinstance(schema, str):
        schema = load_schema(schema)
    if schema is not None and template and not schema.template:
        schema = replace(schema, template=True, fields_match="exact")
    resolution = schema.resolve(info.labels, xml=info.format == "xml") if schema is not None else None
    missing_values = schema.missing_values if schema else ("",)
    rules, missing_rule_columns = rule_checks(schema, resolution, info, missing_values)
    checks = [*cell_checks(info.columns, resolution, missing_values), *rules, *repeated_header(info),
              *empty_record(info.columns)]
    return Plan(schema=schema, resolution=resolution,
                header_issues=(*header_issues(info, schema, resolution), *missing_rule_columns),
                checks=tuple(checks), keys=tuple(dedupe_plan(schema, resolution)))


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
            return pl.repeat(header, n, eager=True, dtype=pl.String).alias(ERRORS_COLUMN)
        field = pl.col("field").fill_null("")
        if names:
            field = field.replace(dict(names))
        per = bad.group_by("record", maintain_order=True).agg(
            pl.concat_str([pl.col("code"), field], separator=":")
            .str.join("; ").alias(ERRORS_COLUMN))
        own = records.join(per, on="record", how="left", maintain_order="left")[ERRORS_COLUMN]
        if not header:
            return own.fill_null("")
        return own.to_frame().select(pl.concat_str([pl.lit(header), pl.lit("; ") + pl.col(ERRORS_COLUMN)],
                                                   ignore_nulls=True).alias(ERRORS_COLUMN)).to_series()


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """What :meth:`Validator.prepare` works out from a batch alone: issue frames of its values, key hashes."""

    issues: tuple[pl.DataFrame, ...]
    keys: tuple[KeyHashes | None, ...]


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
        planned = plan(schema, info, template=template)
        self.schema = planned.schema
        self.info = info
        self.profile = get_profile(profile if profile is not None
                                   else (self.schema.profile if self.schema else None))
        self.strict = strict
        self.columns = info.columns
        self.resolution = planned.resolution
        self.header_issues: list[Issue] = list(planned.header_issues)
        self._n_checks = len(planned.checks)
        self._screened = Screened(planned.checks)
        # header errors reject every record: see BatchResult.header
        self._header_errors = tuple((str(i.code), i.field or "") for i in self.header_issues
                                    if i.severity is Severity.ERROR)
        self._file_notes: list[Issue] = []
        self._duplicates = Duplicates(planned.keys)

    def prepare(self, batch: RecordBatch) -> Prepared:
        """What checking ``batch`` needs from the batch alone: the issues of its own values (reader issues,
        cell checks) and the hashes of its keys. Keeps no state: it may run ahead, in another thread."""
        frame = batch.frame
        lines = batch.lines.cast(pl.Int64).alias("line")
        parts: list[pl.DataFrame] = []
        own = [i for i in batch.issues if i.code not in GRADED_AT_FINISH]
        if own:
            parts.append(issues_frame(own).with_columns(pl.lit(-1, dtype=pl.Int32).alias("__order")))
        parts += self._screened.issues(frame, batch.records, lines)
        return Prepared(issues=tuple(parts), keys=self._duplicates.hashes(frame))

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
        for k, hashes in enumerate(prepared.keys):
            dup = self._duplicates.issues(k, frame, records, lines, hashes)
            if dup.height:
                parts.append(dup.with_columns(pl.lit(self._n_checks + k, dtype=pl.Int32).alias("__order")))
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
            ok = pl.repeat(False, n, eager=True, dtype=pl.Boolean)
        elif bad.len():
            ok = ~records.is_in(bad.unique().implode())
        else:
            ok = pl.repeat(True, n, eager=True, dtype=pl.Boolean)
        return BatchResult(ok=ok.alias("ok"), issues=issues, first_record=batch.first_record, strict=self.strict,
                           header=self._header_errors)

    def note(self, issue: Issue) -> None:
        """Keep a reader's finding about the whole file (a trailing delimiter) for :meth:`finish`, which grades
        it; :meth:`check` notes its batches' own."""
        if issue.code in GRADED_AT_FINISH:
            self._file_notes.append(issue)

    def finish(self, *, records: int, bytes: int) -> list[Issue]:
        """File-level checks once every batch is seen: limits of the profile, encoding, delimiter, format, and
        the reader's findings about the whole file (see :meth:`note`)."""
        return file_issues(self.info, self.profile, self._file_notes, records=records, bytes=bytes)
