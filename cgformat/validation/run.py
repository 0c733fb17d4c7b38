"""The validator run over a whole source: a report (:func:`validate`), per-record verdicts (:func:`check_table`),
and the records separated into clean and rejects (:func:`partition`, :func:`partition_batch`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

import polars as pl

from .._prefetch import prefetch
from ..limits import LimitProfile
from ..model import Issue, IssueCode, RecordBatch, SourceInfo, Table
from ..report import Report, ReportCollector
from ..schema import Schema
from .file import GRADED_AT_FINISH
from .validator import ERRORS_COLUMN, BatchResult, Prepared, Validator

__all__ = ["EXTRA_COLUMN", "Validated", "check_table", "extra_fields", "partition", "partition_batch", "validate"]

EXTRA_COLUMN = "_extra"
"""The name of the column of a rejects file made from a CSV source that holds each record's fields beyond
the header (a ragged row's extra values, as written)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Validated:
    """A whole table validated: the report, plus per-record ok flags and ``_errors`` reasons."""

    report: Report
    ok: pl.Series
    errors: pl.Series


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
    # thread keeps only what depends on the batches before (duplicates) and the report (benchmark case
    # validate-transactional-1000k)
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
        collector.add([i for i in extra if i.record is None and i.code not in GRADED_AT_FINISH])
    collector.add(v.finish(records=records, bytes=info.bytes))
    report = collector.report(source=info.source, type=v.schema.name if v.schema is not None else "none",
                              format=info.format, encoding=info.encoding, delimiter=info.delimiter,
                              records=records, bytes=info.bytes, strict=strict)
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
        errors = pl.Series(ERRORS_COLUMN, [], dtype=pl.String)
    return Validated(report=report, ok=ok, errors=errors)


def partition(table: Table, validated: Validated) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a table's records into (clean, rejects): rejects keep the original values plus ``_errors``.

    Every record lands in exactly one of the two, in input order.
    """
    frame = table.frame
    clean = frame.filter(validated.ok)
    rejects = frame.with_columns(validated.errors.alias(ERRORS_COLUMN)).filter(~validated.ok)
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
    lo = batch.first_record
    found = [(i.record - lo, i.value) for i in batch.issues if i.code == IssueCode.RAGGED_ROW
             and i.record is not None and i.value is not None and lo <= i.record < lo + n]
    out = pl.repeat("", n, eager=True, dtype=pl.String).alias("~cgformat_extra")
    if found:
        out = out.scatter([row for row, _ in found], [value for _, value in found])
    return out
