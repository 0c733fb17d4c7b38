"""The ``fix`` job: a source with the safe fixes made (:mod:`cgformat.normalize`), batch by batch, to a file
or standard output, and every change to a log."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, overload

import polars as pl

from .. import formats
from .._labels import Renamed, output_header
from ..errors import ReadError, UsageError
from ..files import Input, default_output_format, distinct_outputs, enter_outputs, in_memory, open_source, read_file
from ..formats import ReadOptions, WriteOptions
from ..model import Issue, Progress, Severity, SourceInfo, Table
from ..normalize import Normalized, NormalizeOptions, empty_unlabelled, fix_plan, normalize
from ..report import issues_frame
from ..schema import load_schema

if TYPE_CHECKING:
    from ..schema import Schema

__all__ = ["Fixed", "fix", "fix_file", "fix_format"]


def fix_format(dst: str | Path, input_format: str) -> str:
    """The format ``fix`` writes to ``dst``: CSV to standard output, else its extension's, else the input's
    (an xls input gives xlsx)."""
    return "csv" if str(dst) == "-" else default_output_format(dst, input_format)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fixed:
    """What :func:`fix_file` did. ``broken`` lists records it could not read exactly (ragged rows): when
    there are any, nothing was written (no file, and nothing on standard output). ``issues`` are the values
    left alone on purpose (ambiguous dates), with the columns of
    :data:`~cgformat.report.ISSUE_SCHEMA`."""

    info: SourceInfo
    records: int
    bytes: int
    labels: tuple[str, ...]
    counts: dict[str, int]
    changed_cells: int
    changed_records: int
    renamed: dict[str, str]
    issues: pl.DataFrame
    reader_issues: tuple[Issue, ...]
    broken: tuple[Issue, ...] = ()
    reordered: bool = False        # the columns were put in the order the schema's exact header wants
    added: tuple[str, ...] = ()    # empty columns added for optional fields that header needs
    dropped: tuple[int, ...] = ()  # 1-based positions of the columns left out (unlabelled and empty, or unknown
                                   # with ``drop_extra``)
    empty: tuple[int, ...] = ()    # lines of the records left out: empty once fixed (a line of delimiters)
    xml_names: tuple[Renamed, ...] = ()  # XML output: the labels written as other element names (``labels``
                                         # as written, column positions among them)


def _rereadable(src: Input) -> bool:
    """Whether a source can be opened twice (a path, bytes or records in memory; not standard input or a
    stream)."""
    return isinstance(src, bytes) or in_memory(src) or (isinstance(src, (str, Path)) and str(src) != "-")


class _Broken(Exception):
    """Internal: abort the atomic outputs of a fix because the input has records it cannot read exactly."""


def fix_file(src: Input, dst: str | Path, schema: Schema | str | None, *,
             options: NormalizeOptions | None = None, rename: bool = True, changes: str | Path | None = None,
             fmt: str | None = None, read_options: ReadOptions | None = None,
             progress: Progress | None = None, drop_extra: bool = False) -> Fixed:
    """``cgformat fix`` over a whole source, batch by batch (memory stays bounded): the fixed records to
    ``dst`` (its extension's format, else the input's), every change to ``changes`` (record, line, field,
    before, after, normalizers); both written atomically, and neither when the input has broken records
    (standard output, ``dst`` ``"-"``, gets CSV, and its bytes only once the fix has succeeded).
    ``options`` is a :class:`~cgformat.normalize.NormalizeOptions`. ``drop_extra`` leaves out the columns
    ``schema`` (a :class:`~cgformat.schema.Schema`, a built-in type name or None) does not know (a template
    takes no other column). ``src`` may be records in memory (a Table or a DataFrame). ``progress`` is told
    the records fixed so far (:data:`~cgformat.model.Progress`). Broken records are not raised: they are
    in ``Fixed.broken``. Raises what :func:`~cgformat.files.open_source` and
    :func:`~cgformat.files.write_file` raise, and
    :class:`~cgformat.errors.UsageError` when ``dst`` and ``changes`` are one file, or for ``drop_extra``
    without a schema.
    """
    distinct_outputs(("dst", dst), ("changes", changes))
    schema = load_schema(schema) if isinstance(schema, str) else schema
    opts = options or NormalizeOptions()
    found: list[pl.DataFrame] = []
    totals: dict[str, int] = {}
    cells = changed_records = records = 0
    empty: list[int] = []
    xml_renamed: tuple[Renamed, ...] = ()
    with open_source(src, fmt=fmt, options=read_options) as reader:
        info = reader.info
        drop: tuple[int, ...] = ()
        if rename and any(not label.strip() for label in info.labels) and _rereadable(src):
            # a column with no label (a trailing delimiter) is dropped when it holds nothing: a pass of its
            # own first, as the header is written before the records
            with open_source(src, fmt=fmt, options=read_options) as first:
                drop = empty_unlabelled(first.info.labels, (b.frame for b in first.batches()))
        if drop_extra and schema is None:
            raise UsageError("drop_extra=True (leaving out unknown columns) needs a record type, a schema or a "
                             "template: give schema=", options=("drop_extra", "schema"))
        plan = fix_plan(info.labels, schema, rename=rename, drop=drop, drop_extra=drop_extra)
        reader_issues: list[Issue] = list(info.issues)
        broken: list[Issue] = []
        batches = iter(reader.batches())
        try:
            with contextlib.ExitStack() as outputs:
                key = formats.check_format(fix_format(dst, info.format), write=True)
                labels = plan.output_labels
                tags = None
                if key == "xml":
                    xml_header = output_header(labels, key, schema=schema, source_xml=info.format == "xml")
                    tags, xml_renamed = xml_header.labels, xml_header.renamed
                sink, log_sink = enter_outputs(outputs, dst, changes)
                assert sink is not None
                writer = formats.open_writer(sink, key,
                                             labels, options=WriteOptions(xml_tags=tags))
                log: formats.Writer | None = None
                if changes is not None and log_sink is not None:
                    log = formats.open_writer(log_sink,
                                              formats.check_format(default_output_format(changes, "csv"),
                                                                   write=True),
                                              ("record", "line", "field", "before", "after", "normalizers"),
                                              options=WriteOptions())
                for batch in batches:
                    reader_issues.extend(batch.issues)
                    broken.extend(i for i in batch.issues if i.severity is Severity.ERROR and i.record is not None)
                    if broken:
                        raise _Broken
                    out = normalize(Table(info=info, frame=batch.frame, lines=batch.lines), plan.chains,
                                    options=opts, labels=plan.labels, date_columns=plan.date_columns,
                                    first_record=batch.first_record).in_order(plan.order)
                    # a record with no value (a line of delimiters, or of spaces once trimmed) is left out
                    blank = out.frame.select(pl.all_horizontal(pl.all() == "")).to_series() \
                        if out.frame.width else pl.repeat(False, out.frame.height, eager=True)
                    if blank.any():
                        empty.extend(batch.lines.filter(blank).to_list())
                        writer.write(out.frame.filter(~blank), records=batch.records.filter(~blank))
                    else:
                        writer.write(out.frame, records=batch.records)
                    if log is not None and out.changes.height:
                        log.write(out.changes.select(pl.all().cast(pl.String)))
                    for name, n in out.counts.items():
                        totals[name] = totals.get(name, 0) + n
                    cells += out.changes.height
                    changed_records += out.changes["record"].n_unique() if out.changes.height else 0
                    if out.issues.height:
                        found.append(out.issues)
                    records += batch.frame.height
                    if progress is not None:
                        progress(records)
                writer.close()
                written = sink.tell()   # the spool (standard output) or the file, as whole as it will be
                if log is not None:
                    log.close()
        except _Broken:
            for batch in batches:   # read on, so that every broken record is counted
                reader_issues.extend(batch.issues)
                broken.extend(i for i in batch.issues if i.severity is Severity.ERROR and i.record is not None)
            written = 0
    if progress is not None and not records:
        progress(0)
    if plan.renamed:
        totals["rename"] = len(plan.renamed)
    return Fixed(info=info, records=records, bytes=written, labels=plan.output_labels, counts=totals,
                 changed_cells=cells, changed_records=changed_records, renamed=dict(plan.renamed),
                 issues=pl.concat(found) if found else issues_frame(), reader_issues=tuple(reader_issues),
                 broken=tuple(broken), reordered=plan.reordered, added=plan.added, dropped=plan.dropped,
                 empty=tuple(empty), xml_names=xml_renamed)


@overload
def fix(src: Input, dst: None = None, *, schema: Schema | str | None = None,
        normalize_options: NormalizeOptions | None = None, rename: bool = True, fmt: str | None = None,
        read_options: ReadOptions | None = None, progress: Progress | None = None) -> Normalized: ...


@overload
def fix(src: Input, dst: str | Path, *, schema: Schema | str | None = None,
        normalize_options: NormalizeOptions | None = None, rename: bool = True, fmt: str | None = None,
        read_options: ReadOptions | None = None, progress: Progress | None = None,
        changes: str | Path | None = None, drop_extra: bool = False) -> Fixed: ...


def fix(src: Input, dst: str | Path | None = None, *, schema: Schema | str | None = None,
        normalize_options: NormalizeOptions | None = None, rename: bool = True, fmt: str | None = None,
        read_options: ReadOptions | None = None, progress: Progress | None = None,
        changes: str | Path | None = None, drop_extra: bool = False) -> Fixed | Normalized:
    """Make the safe fixes of ``cgformat fix`` (``cgformat.fix``): to ``dst`` when given, else in memory.

    ``src`` is a path, ``"-"``, bytes, a binary stream, a :class:`~cgformat.model.Table` or a DataFrame;
    ``schema`` a :class:`~cgformat.schema.Schema`, a built-in type name or None (generic fixes only).

    - With ``dst`` (a path, or ``"-"``): :func:`fix_file`, streaming; returns :class:`Fixed` (broken
      records are in ``Fixed.broken``, and then nothing is written).
    - Without: the whole source in memory; returns :class:`~cgformat.normalize.Normalized`, its frame's
      columns named like its ``labels``. A source with records the reader could not read exactly (a ragged
      row) raises :class:`~cgformat.errors.ReadError` naming the first: fixing a guess at them would be
      worse than nothing (``cgformat.read`` lists them in ``Table.issues``). ``changes=`` and
      ``drop_extra=`` are for a fix to ``dst`` (:class:`~cgformat.errors.UsageError`).

    ``progress`` is told the records fixed so far (:data:`~cgformat.model.Progress`). Raises what
    :func:`fix_file` raises.
    """
    if dst is not None:
        return fix_file(src, dst, schema, options=normalize_options, rename=rename, changes=changes, fmt=fmt,
                        read_options=read_options, progress=progress, drop_extra=drop_extra)
    for name, given in (("changes", changes is not None), ("drop_extra", drop_extra)):
        if given:
            raise UsageError(f"{name}= is for a fix written to a file: give dst= too", options=(name, "dst"))
    spec = load_schema(schema) if isinstance(schema, str) else schema
    table = src if isinstance(src, Table) else read_file(src, fmt=fmt, options=read_options)
    broken = next((i for i in table.issues if i.severity is Severity.ERROR and i.record is not None), None)
    if broken is not None:
        where = f"record {broken.record}" + (f" (line {broken.line})" if broken.line is not None else "")
        raise ReadError(f"{table.info.source}: {where} could not be read exactly ({broken.code}: {broken.message}); "
                        f"nothing fixed: cgformat.read lists every such record in Table.issues")
    size = (read_options or ReadOptions()).batch_size
    drop = empty_unlabelled(table.info.labels, [table.frame]) if rename else ()
    plan = fix_plan(table.info.labels, spec, rename=rename, drop=drop)
    parts: list[Normalized] = []
    n = table.frame.height
    for start in range(0, max(n, 1), size):
        part = Table(info=table.info, frame=table.frame.slice(start, size), lines=table.lines.slice(start, size))
        parts.append(normalize(part, plan.chains, options=normalize_options, labels=plan.labels,
                               renamed=plan.renamed, date_columns=plan.date_columns, first_record=start + 1)
                     .in_order(plan.order))
        if progress is not None:
            progress(min(n, start + size))
    counts: dict[str, int] = {}
    for done in parts:
        for name, count in done.counts.items():
            counts[name] = counts.get(name, 0) + count
    if plan.renamed:
        counts["rename"] = len(plan.renamed)
    return Normalized(frame=pl.concat([p.frame for p in parts]), labels=parts[0].labels, counts=counts,
                      changes=pl.concat([p.changes for p in parts]), renamed=dict(plan.renamed),
                      issues=pl.concat([p.issues for p in parts])).named()
