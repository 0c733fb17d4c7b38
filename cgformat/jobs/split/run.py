"""The run of a split: read in batches, validate, pack the records into parts (:mod:`.plan`), write them
(:mod:`.parts`) and the manifest.

Two background threads work beside the reader: one hashes the source (the manifest names its content), one
writes and hashes the parts already encoded; they pay on the benchmark case split-1000k.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import secrets
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import polars as pl

from ... import formats
from ..._labels import output_header, shown_names
from ...errors import ReadError
from ...files import frame_reader
from ...formats import DEFAULT_BATCH_SIZE, ReadOptions, WriteOptions
from ...formats.csv import raw_segments
from ...limits import LimitProfile
from ...manifest import Manifest
from ...model import Issue, IssueCode, Progress, RecordBatch, Severity, Table
from ...report import Report, ReportCollector, issues_frame
from ...validation import ERRORS_COLUMN, EXTRA_COLUMN, BatchResult, Validator, key_hash_column, partition_batch
from ...validation.header import header_line
from .parts import PartWriter, commit, prepare_out_dir, write_xlsx_part
from .plan import plan_parts, previous_same_key, split_id

if TYPE_CHECKING:
    from ...schema import Schema

__all__ = ["SplitOptions", "SplitResult", "run_split", "sha256_of", "source_digest", "table_digest"]

# file-level findings of validation that a split solves: its parts are within the limits, UTF-8, comma-separated,
# without Excel's sep= line
_SPLIT_SOLVES = {IssueCode.TOO_MANY_RECORDS.value, IssueCode.FILE_TOO_LARGE.value, IssueCode.NON_UTF8.value,
                 IssueCode.DELIMITER.value, IssueCode.SEP_LINE.value, IssueCode.TRAILING_DELIMITER.value}


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitOptions:
    """What a split is asked to do, checked: the formats in and out, the record type (validated unless
    ``validate`` is false), the limit profile with its overrides, how to read and write, whether an earlier
    split in the folder may be replaced, and how many issues the report lists."""

    in_fmt: str
    out_fmt: str
    schema: Schema | None = None
    profile: LimitProfile
    validate: bool = True
    force: bool = False
    read: ReadOptions
    write: WriteOptions
    max_issues: int = 1000

    @property
    def validating(self) -> bool:
        """Whether records are validated (a schema is given and validation is not turned off)."""
        return self.schema is not None and self.validate


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitResult:
    """A finished split: its manifest, where it was written, the validation report, and the encoding work.

    ``encodes`` counts part encodings; ``recuts`` the xlsx parts whose size estimate was off and that had to
    be encoded again to fit the byte limit (csv and xml sizes are exact: never re-cut). ``key_cuts`` counts
    the parts that end early to keep records with the same de-duplication key apart (each one more upload
    than the limits alone need).
    """

    manifest: Manifest
    out_dir: Path
    report: Report
    encodes: int = 0
    recuts: int = 0
    key_cuts: int = 0


def _sha256_fd(fd: int, stop: threading.Event) -> str:
    """The SHA-256 of a file descriptor's content, read with pread (its position is left alone); closes it.
    Gives up (returns "") once ``stop`` is set: the split it was for has failed or was interrupted."""
    digest = hashlib.sha256()
    offset = 0
    buffer = bytearray(1 << 20)    # one buffer for every read: a fresh one per read costs page faults
    view = memoryview(buffer)
    try:
        before = os.fstat(fd)
        while not stop.is_set() and (got := os.preadv(fd, [buffer], offset)):
            digest.update(view[:got])
            offset += got
        after = os.fstat(fd)
    finally:
        os.close(fd)
    if stop.is_set():
        return ""
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or offset != after.st_size:
        raise ReadError("the input changed while it was being read; split it again once it is complete")
    return digest.hexdigest()


def source_digest(stream: BinaryIO, pool: Executor, stop: threading.Event) -> Future[str]:
    """The SHA-256 of a seekable stream's content: computed by ``pool`` while the stream is read, when the
    stream is a file (abandoned once ``stop`` is set); at once (and the stream left at its start) otherwise."""
    try:
        fd = os.dup(stream.fileno())
    except (OSError, AttributeError, io.UnsupportedOperation):
        done: Future[str] = Future()
        done.set_result(sha256_of(stream))
        return done
    return pool.submit(_sha256_fd, fd, stop)


def sha256_of(stream: BinaryIO) -> str:
    """The SHA-256 of a seekable stream's content; the stream is left at its start."""
    digest = hashlib.sha256()
    stream.seek(0)
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


class _Hashing:
    """A write-only sink that keeps the SHA-256 of what is written to it."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self._count = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self.digest.update(data)
        self._count += len(data)
        return len(data)

    def tell(self) -> int:
        return self._count

    def flush(self) -> None:
        """Nothing is held back."""


def table_digest(table: Table) -> str:
    """The SHA-256 of a table's records written as CSV by ``cgformat.write`` (UTF-8, commas, its labels as
    the header): what a split of records in memory names as its source's content."""
    sink = _Hashing()
    writer = formats.open_writer(sink, "csv", table.info.labels, options=WriteOptions())  # type: ignore[arg-type]
    writer.write(table.frame)
    writer.close()
    return sink.digest.hexdigest()


LARGE_SOURCE = 256 << 20
"""Bytes: a validating split of a larger source reads batches of half the default size."""


def _size(stream: BinaryIO) -> int:
    """The size of a stream's file in bytes (0 when it has none)."""
    try:
        return os.fstat(stream.fileno()).st_size
    except (OSError, AttributeError, io.UnsupportedOperation):
        return 0


def _read_choices(options: ReadOptions) -> dict[str, object]:
    """The read options given that change which records are read (another sheet of one workbook must not
    give parts the same names); none given adds nothing, so the names of such splits stay as they were."""
    chosen = {"sheet": options.sheet, "header_row": options.header_row, "encoding": options.encoding,
              "in_delimiter": options.delimiter, "record_tag": options.record_tag}
    return {f"read_{key}": value for key, value in chosen.items() if value is not None}


def run_split(data: BinaryIO | Table, *, source: str, out_dir: Path, options: SplitOptions,
              progress: Progress | None = None) -> SplitResult:
    """Split a seekable binary stream, or a table in memory, into parts in ``out_dir``; see
    :func:`cgformat.jobs.split.split_file`."""
    prepare_out_dir(out_dir, force=options.force)
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="cgformat-split") as pool:
        try:
            return _split(pool, stop, data, source=source, out_dir=out_dir, job=options, progress=progress)
        finally:
            stop.set()   # a hash still running is not needed any more (on success it is done already)
            pool.shutdown(wait=True, cancel_futures=True)


def _split(pool: Executor, stop: threading.Event, data: BinaryIO | Table, *, source: str, out_dir: Path,
           job: SplitOptions, progress: Progress | None) -> SplitResult:
    if isinstance(data, Table):
        digest: Future[str] = Future()
        digest.set_result(table_digest(data))
    else:
        digest = source_digest(data, pool, stop)
    schema, out_fmt, prof = job.schema, job.out_fmt, job.profile
    # CSV parts may be copied from a CSV source's own bytes (see same_dialect below). Without validation the
    # reader works up to three batches ahead, so that neither it nor the packing of parts waits for the other
    # when one batch takes longer (benchmark case split-1000k); validation has a thread of its own and holds
    # more per batch: one ahead
    validating = job.validating
    read_options = job.read
    if validating and read_options.batch_size == DEFAULT_BATCH_SIZE and not isinstance(data, Table) \
            and _size(data) > LARGE_SOURCE:
        # the validator keeps every distinct key to find duplicates across parts (16 bytes a key, twice that
        # while two runs of its store merge): in a large file smaller batches leave it the room (benchmark
        # case memory-5000k), at some cost in time
        read_options = dataclasses.replace(read_options, batch_size=DEFAULT_BATCH_SIZE // 2)
    reader = frame_reader(data, read_options) if isinstance(data, Table) else \
        formats.open_reader(data, job.in_fmt, source=source, options=read_options,
                            read_ahead=1 if validating else 3, keep_raw=out_fmt == "csv")
    info = reader.info
    labels = info.labels
    wopts = job.write
    # parts and rejects carry one header in every format: with a type, CG's field names (XML: its tags)
    header = output_header(labels, out_fmt, schema=schema, source_xml=info.format == "xml",
                           xml_tags=wopts.xml_tags)
    ident_tags = wopts.xml_tags if wopts.xml_tags is not None or schema is None else header.labels
    out_labels = labels if out_fmt == "xml" else header.labels
    shown = shown_names(info.columns, header.labels)   # how the rejects' _errors names each column
    if out_fmt == "xml":
        wopts = dataclasses.replace(wopts, xml_tags=header.labels)
    stem = Path(source).stem if source not in ("-", "<stream>", "<bytes>") else "stdin"

    validator = Validator(schema, info, profile=prof) if validating else None
    key_cols: list[str] = []
    if schema is not None and schema.dedupe_key:
        resolved = {m.field.name: m.column for m in schema.resolve(labels, xml=info.format == "xml").columns
                    if m.field is not None and m.how != "duplicate"}
        if all(name in resolved for name in schema.dedupe_key):
            key_cols = [resolved[name] for name in schema.dedupe_key]

    work = out_dir / f".split-{os.getpid()}-{secrets.token_hex(4)}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    collector = ReportCollector(max_issues=job.max_issues)
    # the validator's header issues hold the reader's (non-UTF-8 and delimiter come back graded by finish)
    collector.add(list(validator.header_issues) if validator else list(info.issues))
    collector.add(header.issues(line=header_line(info)))
    # a CSV record may hold fields beyond the header (a ragged row): the rejects keep them in a column
    extra = info.format == "csv"
    reasons = (EXTRA_COLUMN, ERRORS_COLUMN) if extra else (ERRORS_COLUMN,)
    rej_labels = (*out_labels, *reasons)
    rejects_path = work / f"rejects.{out_fmt}"
    rejected = 0
    total = 0
    pw = PartWriter(work, out_fmt, out_labels, wopts, prof, pool)
    try:
        with rejects_path.open("wb") as rej_stream:
            rej_writer = formats.open_writer(rej_stream, out_fmt, rej_labels, options=WriteOptions(
                bom=wopts.bom, delimiter=wopts.delimiter,
                xml_tags=(*wopts.xml_tags, *reasons) if wopts.xml_tags else None,
                root_tag=wopts.root_tag, record_tag=wopts.record_tag, sheet_name=wopts.sheet_name))

            def reject(rows: pl.DataFrame, records: pl.Series) -> None:
                """Write rejected records: their values, then the reasons columns (see partition_batch)."""
                nonlocal rejected
                if rows.height:
                    rej_writer.write(rows, records=records)
                    rejected += rows.height

            def too_large(frame: pl.DataFrame, records: pl.Series, code: str) -> None:
                """Reject one record no part can hold; it has no fields beyond the header (it was read exactly)."""
                more = [pl.lit("", dtype=pl.String).alias("~cgformat_extra")] if extra else []
                reject(frame.with_columns(*more, pl.lit(code, dtype=pl.String).alias("~cgformat_errors")), records)

            # a CSV source's own bytes are copied into CSV parts of the same dialect, instead of encoded again
            same_dialect = out_fmt == "csv" and info.format == "csv" and wopts.delimiter == info.delimiter \
                and not wopts.bom
            carry = _Carry(frame=pl.DataFrame({c: pl.Series(c, [], dtype=pl.String) for c in info.columns}),
                           records=pl.Series("record", [], dtype=pl.Int64))
            for batch in reader.batches():
                frame, recs = batch.frame, batch.records
                total += frame.height
                result = _check(batch, validator)
                collector.add(result.issues)
                ok = result.ok
                good, bad = partition_batch(batch, result, shown, extra=extra)
                if bad.height:
                    reject(bad, recs.filter(~ok))
                    recs = recs.filter(ok)
                raw, sizes = (raw_segments(batch) if same_dialect and not bad.height else None) or (None, None)
                carry = carry.extend(good, recs, raw=raw, sizes=sizes)
                carry = _pack(pw, carry, key_cols, final=False, reject=too_large, collector=collector)
                if progress is not None:
                    progress(total)
            if progress is not None and not total:
                progress(0)
            _pack(pw, carry, key_cols, final=True, reject=too_large, collector=collector)
            rej_writer.close()
        if validator is not None:
            collector.add([i for i in validator.finish(records=total, bytes=info.bytes)
                           if str(i.code) not in _SPLIT_SOLVES])
        source_sha = digest.result()
        ident = split_id(source_sha, {"type": schema.name if schema else None, "format": out_fmt,
                                      "max_records": prof.max_records, "max_bytes": prof.max_bytes,
                                      "validate": validating,
                                      "bom": wopts.bom, "delimiter": wopts.delimiter,
                                      "xml_tags": ident_tags if out_fmt == "xml" else None,
                                      **({"labels": out_labels} if out_fmt != "xml" and header.renamed else {}),
                                      **_read_choices(read_options)})
        manifest = commit(pw, out_dir=out_dir, work=work, ident=ident, stem=stem, source=source,
                          source_sha=source_sha, schema=schema, out_fmt=out_fmt, prof=prof, total=total,
                          rejected=rejected, rejects_path=rejects_path, force=job.force,
                          renamed=tuple((r.column, r.label, r.written, r.why) for r in header.renamed))
    finally:
        wait(pw.parts)  # the background writes end before their folder is removed
        shutil.rmtree(work, ignore_errors=True)
    report = collector.report(source=source, type=schema.name if schema else "", format=info.format,
                              encoding=info.encoding, delimiter=info.delimiter, records=total, bytes=info.bytes)
    return SplitResult(manifest=manifest, out_dir=out_dir, report=report, encodes=pw.encodes, recuts=pw.recuts,
                       key_cuts=pw.key_cuts)


def _check(batch: RecordBatch, validator: Validator | None) -> BatchResult:
    """Which records of a batch may go to a part, the issues found in it and each record's reasons.

    Without validation only the reader's findings count: a record it could not read exactly (a ragged
    row) never goes to a part.
    """
    if validator is not None:
        return validator.check(batch)
    issues = issues_frame(batch.issues)
    ok = pl.repeat(True, batch.frame.height, dtype=pl.Boolean, eager=True).alias("ok")
    bad = issues.filter(pl.col("severity") == Severity.ERROR.value, pl.col("record").is_not_null())["record"]
    if bad.len():
        ok = ok & ~batch.records.is_in(bad.implode())
    return BatchResult(ok=ok, issues=issues, first_record=batch.first_record)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Carry:
    """Records waiting for a part: their frame and numbers, and, when known for all of them, their bytes as
    the part writer would write them (``raw``) with each record's share (``sizes``)."""

    frame: pl.DataFrame
    records: pl.Series
    raw: tuple[bytes | memoryview, ...] | None = None   # the records' bytes, in consecutive segments
    sizes: pl.Series | None = None

    def extend(self, frame: pl.DataFrame, records: pl.Series, *, raw: tuple[bytes | memoryview, ...] | None,
               sizes: pl.Series | None) -> _Carry:
        """These records followed by more; the bytes stay known only if they are known for both."""
        if self.frame.height == 0:
            known = raw is not None and sizes is not None
            return _Carry(frame=frame, records=records, raw=raw if known else None,
                          sizes=sizes if known else None)
        if raw is None or sizes is None or self.raw is None or self.sizes is None:
            return _Carry(frame=pl.concat([self.frame, frame], how="vertical"),
                          records=pl.concat([self.records, records]))
        return _Carry(frame=pl.concat([self.frame, frame], how="vertical"), records=pl.concat([self.records, records]),
                      raw=(*self.raw, *raw), sizes=pl.concat([self.sizes, sizes]))

    def rest(self, start: int, offset: int | None) -> _Carry:
        """The records from ``start`` on (``offset``: where record ``start`` begins in ``raw``)."""
        raw = _between(self.raw, offset, None) if self.raw is not None and offset is not None else None
        return _Carry(frame=self.frame.slice(start), records=self.records.slice(start), raw=raw,
                      sizes=self.sizes.slice(start) if raw is not None and self.sizes is not None else None)


def _between(segments: tuple[bytes | memoryview, ...], start: int, end: int | None) -> tuple[memoryview, ...]:
    """Views of bytes ``start`` to ``end`` (None: the end) of consecutive segments, nothing copied."""
    out = []
    at = 0
    for seg in segments:
        lo, hi = max(start - at, 0), len(seg) if end is None else min(end - at, len(seg))
        if lo < hi:
            out.append(memoryview(seg)[lo:hi])
        at += len(seg)
    return tuple(out)


def _pack(pw: PartWriter, carry: _Carry, key_cols: list[str], *, final: bool,
          reject: Callable[[pl.DataFrame, pl.Series, str], None], collector: ReportCollector) -> _Carry:
    """Write every complete part of the carried records; return the records left for the next batch."""
    import numpy as np  # loaded by the first split, not by every command (the CLI sets its threads first)

    prof = pw.profile
    frame, records = carry.frame, carry.records
    raw = carry.raw if pw.exact and carry.sizes is not None else None
    if raw is not None and carry.sizes is not None:
        sizes = carry.sizes
    else:
        sizes = formats.record_sizes(pw.fmt, frame, pw.labels, options=pw.options).cast(pl.Int64)
    # keys as the validator judges duplicates (trimmed, case-insensitive, a key with a blank part is none),
    # hashed to one integer so that grouping is cheap; a hash collision could only cut a part early
    prev = previous_same_key(key_hash_column(frame, key_cols).to_frame()) if key_cols else None

    def too_large(i: int) -> None:
        issue = Issue(code=IssueCode.RECORD_TOO_LARGE, severity=Severity.ERROR, record=int(records[i]),
                      message=(f"this record alone takes {int(sizes[i]) + pw.envelope} bytes as "
                               f"{pw.fmt}, over the limit of {prof.max_bytes}: shorten its values"))
        collector.add([issue])
        reject(frame.slice(i, 1), records.slice(i, 1), str(issue.code))

    if pw.exact:
        # sizes are exact: plan every part at once, encode the records once, and cut the bytes
        plan = plan_parts(sizes, envelope=pw.envelope, max_records=prof.max_records, max_bytes=prof.max_bytes,
                          prev=prev, final=final)
        for i in plan.too_large:
            too_large(i)
        pw.key_cuts += len(plan.key_cuts)
        offsets = np.concatenate(([0], np.cumsum(sizes.to_numpy())))
        if plan.parts:
            # each part is the envelope around a stretch of the body, handed over without copying it
            body = raw if raw is not None else (pw.encode_body(frame.slice(0, plan.parts[-1][1]), sizes),)
            for start, end in plan.parts:
                pw.store((pw.head, *_between(body, int(offsets[start]), int(offsets[end])), pw.tail),
                         records.slice(start, end - start))
        return _Carry(frame=frame, records=records, raw=raw, sizes=sizes).rest(plan.rest, int(offsets[plan.rest]))

    s = 0
    n = frame.height
    while s < n:
        window = min(n - s, prof.max_records + 1)
        plan = plan_parts(sizes.slice(s, window), envelope=pw.envelope, max_records=prof.max_records,
                          max_bytes=prof.max_bytes, prev=None if prev is None else (prev.slice(s, window) - s),
                          final=final or window < n - s)
        if plan.too_large and plan.too_large[0] == 0:
            too_large(s)
            s += 1
            continue
        if not plan.parts:
            break  # the unfinished tail waits for the next batch
        end = s + plan.parts[0][1]
        s = write_xlsx_part(pw, frame, records, s, end)
        pw.key_cuts += s == end and 0 in plan.key_cuts   # not when re-cut for size: then bytes ended it
    return _Carry(frame=frame, records=records).rest(s, None)


