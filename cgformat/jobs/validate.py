"""The ``validate`` job: a source checked against a schema, its valid and rejected records separated on
request (``--clean``/``--rejects``), and the records with issues read again for the report page."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from .. import formats
from .._atomic import atomic_output
from .._labels import Renamed, output_header, shown_names
from ..errors import CgformatError, WriteError
from ..files import Input, Source, default_output_format, distinct_outputs, enter_outputs, open_source
from ..formats import ReadOptions, WriteOptions
from ..model import Progress, RecordBatch
from ..schema import load_schema
from ..validation import ERRORS_COLUMN, EXTRA_COLUMN, partition_batch, validate

if TYPE_CHECKING:
    from ..limits import LimitProfile
    from ..report import Report
    from ..schema import Schema
    from ..validation import BatchResult

__all__ = ["RECORDS_SHOWN", "Separated", "records_with_issues", "separate_file", "validate_file",
           "write_report_page"]


def validate_file(src: Input, schema: Schema | str | None, *, fmt: str | None = None,
                  options: ReadOptions | None = None, profile: LimitProfile | str | None = None,
                  template: bool = False, strict: bool = False, max_issues: int = 1000,
                  progress: Progress | None = None) -> Report:
    """Validate a source against a schema (a :class:`Schema` or a built-in type name), streaming.

    Returns the :class:`~cgformat.report.Report`: data problems are its issues, never exceptions
    (``cgformat.validate``). ``src`` may be records in memory: a Table, or a DataFrame (its column names
    the labels, records numbered from 1, no lines: see :func:`~cgformat.files.table_of`). ``progress`` is
    told the records checked so far, batch by batch (:data:`~cgformat.model.Progress`). Program
    problems raise: what :func:`~cgformat.files.open_source` raises, :class:`~cgformat.errors.SchemaError`
    for an unknown type name, and :class:`~cgformat.errors.UsageError` for an unknown profile.
    """
    checked = 0

    def count(batch: RecordBatch, _result: BatchResult) -> None:
        nonlocal checked
        checked += batch.frame.height
        if progress is not None:
            progress(checked)

    with open_source(src, fmt=fmt, options=options) as reader:
        report = validate(reader, schema, profile=profile, template=template, strict=strict,
                          max_issues=max_issues, on_batch=count if progress is not None else None)
    if progress is not None and not checked:
        progress(0)
    return report


@dataclass(frozen=True, slots=True, kw_only=True)
class Separated:
    """What :func:`separate_file` did: the validation report, how many records went to each output, and the
    columns the outputs write under another label (the schema's field names, XML element names)."""

    report: Report
    clean: int
    rejected: int
    renamed: tuple[Renamed, ...] = ()


def separate_file(src: Input, schema: Schema | str | None, *, clean: str | Path | None = None,
                  rejects: str | Path | None = None, clean_format: str | None = None,
                  rejects_format: str | None = None, fmt: str | None = None, options: ReadOptions | None = None,
                  profile: LimitProfile | str | None = None, template: bool = False, strict: bool = False,
                  max_issues: int = 1000, progress: Progress | None = None) -> Separated:
    """Validate a source and write its valid records to ``clean`` and the others to ``rejects`` (their
    original values plus an ``_errors`` column naming codes and fields), batch by batch: memory stays
    bounded, every record lands in exactly one of the two, in input order, and neither file appears unless
    both are complete (``"-"``, standard output, gets its bytes only then too). Formats default to the
    outputs' extensions, else the input's. Both carry the schema's field names for aliases and case variants
    (XML: its tags), and XML element names for labels that are none, each in ``renamed``; ``_errors`` names
    the columns as the rejects file's header does. Raises what :func:`validate_file` and
    :func:`~cgformat.files.write_file` raise, and :class:`~cgformat.errors.UsageError` when ``clean`` and
    ``rejects`` are one file. The rejects of a CSV source also keep the fields a record holds beyond the
    header (a ragged row's extra values, as written) in an ``_extra`` column before ``_errors``.
    """
    distinct_outputs(("clean", clean), ("rejects", rejects))
    spec = load_schema(schema) if isinstance(schema, str) else schema
    counts = {"clean": 0, "rejected": 0, "read": 0}
    renamed: dict[tuple[int, str], Renamed] = {}
    shown: dict[str, str] = {}
    with open_source(src, fmt=fmt, options=options) as reader, contextlib.ExitStack() as outputs:
        info = reader.info
        writers: dict[str, formats.Writer] = {}
        # a CSV record may hold fields beyond the header (a ragged row): the rejects keep them in a column
        extra = info.format == "csv"
        reasons = (EXTRA_COLUMN, ERRORS_COLUMN) if extra else (ERRORS_COLUMN,)
        sinks = enter_outputs(outputs, clean, rejects)
        for name, dst, out_fmt, sink in (("clean", clean, clean_format, sinks[0]),
                                         ("rejects", rejects, rejects_format, sinks[1])):
            if dst is None or sink is None:
                continue
            key = formats.check_format(out_fmt or default_output_format(dst, info.format), write=True)
            header = output_header(info.labels, key, schema=spec, source_xml=info.format == "xml")
            renamed.update({(r.column, r.written): r for r in header.renamed})
            labels = info.labels if key == "xml" else header.labels
            tags = None
            if name == "rejects":
                labels = (*labels, *reasons)
                tags = (*header.labels, *reasons) if key == "xml" else None
                shown = shown_names(info.columns, header.labels)
            elif key == "xml":
                tags = header.labels
            writers[name] = formats.open_writer(sink, key, labels, options=WriteOptions(xml_tags=tags))

        def separate(batch: RecordBatch, result: BatchResult) -> None:
            good, bad = partition_batch(batch, result, shown, extra=extra)
            if "clean" in writers and good.height:
                writers["clean"].write(good, records=batch.records.filter(result.ok))
            if "rejects" in writers and bad.height:
                writers["rejects"].write(bad, records=batch.records.filter(~result.ok))
            counts["clean"] += good.height
            counts["rejected"] += bad.height
            counts["read"] += batch.frame.height
            if progress is not None:
                progress(counts["read"])

        report = validate(reader, spec, profile=profile, template=template, strict=strict, max_issues=max_issues,
                          on_batch=separate)
        for writer in writers.values():
            writer.close()
    if progress is not None and not counts["read"]:
        progress(0)
    return Separated(report=report, clean=counts["clean"], rejected=counts["rejected"],
                     renamed=tuple(renamed[k] for k in sorted(renamed)))


RECORDS_SHOWN = 200
"""The records with issues a report page shows whole."""


def records_with_issues(src: Source, report: Report, *, fmt: str | None, options: ReadOptions | None,
                        limit: int = RECORDS_SHOWN) -> tuple[pl.DataFrame, tuple[str, ...]] | None:
    """The first ``limit`` records that have a listed issue, read again from ``src`` (the record number,
    the line, then the source's columns), and the source's labels; ``None`` when the source cannot be read twice
    (standard input) or no longer reads."""
    wanted = report.issues["record"].drop_nulls().unique().sort().head(limit)
    if src == "-" or wanted.len() == 0:
        return None
    last = int(wanted.max())  # type: ignore[arg-type]
    found: list[pl.DataFrame] = []
    try:
        with open_source(src, fmt=fmt, options=options) as reader:
            labels = reader.info.labels
            for batch in reader.batches():
                if batch.first_record > last:
                    break
                rec, line = "#record", "#line"
                while rec in batch.frame.columns or line in batch.frame.columns:
                    rec, line = "#" + rec, "#" + line
                frame = batch.frame.select(batch.records.alias(rec), batch.lines.alias(line), pl.all())
                hit = frame.filter(pl.col(rec).is_in(wanted.implode()))
                if hit.height:
                    found.append(hit)
    except (CgformatError, OSError):   # moved or changed since it was validated: the page goes without rows
        return None
    if not found:
        return None
    return pl.concat(found), labels


def write_report_page(path: str | Path, report: Report, *, src: Source, fmt: str | None,
                      options: ReadOptions | None, profile: LimitProfile) -> None:
    """Write the report as one HTML page to ``path`` (atomically), the records with issues shown whole
    (:func:`records_with_issues`). Raises :class:`~cgformat.errors.WriteError` when it cannot be written."""
    rows = records_with_issues(src, report, fmt=fmt, options=options)
    page = report.to_html(profile=profile, records=None if rows is None else rows[0],
                          labels=None if rows is None else rows[1], max_records=RECORDS_SHOWN)
    target = Path(path)
    if target.is_dir():
        raise WriteError(f"--html {path}: is a folder, not a file")
    try:
        with atomic_output(target) as out:
            out.write(page.encode("utf-8", "replace"))
    except OSError as exc:
        raise WriteError(f"--html {path}: cannot write: {exc.strerror or exc}") from None
