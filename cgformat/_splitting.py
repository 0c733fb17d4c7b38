"""Run a split: read in batches, validate, pack parts with :mod:`cgformat.split`, write them and a manifest.

Nothing in the output folder looks finished until the end: parts are written in a hidden work folder
and moved into place with their final names (which carry the part count) just before the manifest,
which is written last. A failed run leaves no manifest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import polars as pl

from . import formats
from ._atomic import atomic_output, fsync_dir
from ._labels import output_header, shown_names
from .errors import ReadError, UsageError, WriteError
from .formats import DEFAULT_BATCH_SIZE, ReadOptions, WriteOptions
from .limits import LimitProfile, get_profile
from .manifest import MANIFEST_NAME, Manifest, Part
from .model import Issue, IssueCode, RecordBatch, Severity, unique_columns
from .plan import part_name, plan_parts, previous_same_key, split_id
from .report import Report, ReportCollector, issues_frame
from .validation import BatchResult, Validator, extra_fields, key_hash_column

if TYPE_CHECKING:
    from .schema import Schema

__all__ = ["SplitResult", "run_split"]

JOURNAL_NAME = "upload-journal.json"
# file-level findings of validation that a split solves: its parts are within the limits, UTF-8, comma-separated,
# without Excel's sep= line
_SPLIT_SOLVES = {IssueCode.TOO_MANY_RECORDS.value, IssueCode.FILE_TOO_LARGE.value, IssueCode.NON_UTF8.value,
                 IssueCode.DELIMITER.value, IssueCode.SEP_LINE.value, IssueCode.TRAILING_DELIMITER.value}


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
    buffer = bytearray(1 << 20)    # read into one buffer: a fresh one per read costs page faults (0.04 s a 139 MB file)
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


def source_digest(stream: BinaryIO, pool: ThreadPoolExecutor, stop: threading.Event) -> Future[str]:
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


# bytes of parts encoded and waiting for the background writer, at most (CSV parts copied from the source are
# views of the batches read, so this bounds how many batches stay in memory for them)
_PENDING_BYTES = 32 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class _Written:
    path: Path
    records: int
    bytes: int
    sha256: str
    first_record: int
    last_record: int


class _PartWriter:
    """Encodes parts into the work folder and checks each against the limits, bytes measured as written."""

    def __init__(self, work: Path, fmt: str, labels: tuple[str, ...], options: WriteOptions,
                 profile: LimitProfile, pool: ThreadPoolExecutor) -> None:
        self.work, self.fmt, self.labels, self.options, self.profile = work, fmt, labels, options, profile
        self.pool = pool
        self.envelope = formats.envelope_size(fmt, labels, options=options)
        self.exact = fmt != "xlsx"
        self.parts: list[Future[_Written]] = []
        self._checked = 0
        self._sizes: list[int] = []     # each part's bytes
        self._pending = 0               # bytes of the parts stored and not yet checked written
        self.encodes = 0
        self.recuts = 0
        self.key_cuts = 0
        if self.exact:
            # an empty file is head + tail; records go between them, each exactly its record size
            empty = self.encode(pl.DataFrame({c: pl.Series(c, [], dtype=pl.String) for c in unique_columns(labels)}))
            self.tail = f"</{options.root_tag}>\n".encode() if fmt == "xml" else b""
            if len(empty) != self.envelope or not empty.endswith(self.tail):
                raise WriteError(f"internal error: the {fmt} writer's envelope is not what split expects; "
                                 "please report this")
            self.head = empty[: len(empty) - len(self.tail)]

    def encode_body(self, frame: pl.DataFrame, sizes: pl.Series) -> bytes:
        """The bytes of ``frame``'s records alone, checked against their exact sizes."""
        data = self.encode(frame)
        body = data[len(self.head): len(data) - len(self.tail)]
        want = int(sizes.slice(0, frame.height).sum())
        if len(body) != want or not data.startswith(self.head) or not data.endswith(self.tail):
            raise WriteError(f"internal error: {frame.height} records took {len(body)} bytes as {self.fmt}, "
                             f"planned {want}; please report this")
        return body

    def encode(self, frame: pl.DataFrame) -> bytes:
        """The bytes of one part holding ``frame``."""
        self.encodes += 1
        sink = io.BytesIO()
        writer = formats.open_writer(sink, self.fmt, self.labels, options=self.options)
        writer.write(frame)
        writer.close()
        return sink.getvalue()

    def store(self, pieces: tuple[bytes | memoryview, ...], records: pl.Series) -> None:
        """Keep an encoded part (its ``pieces`` one after the other) in the work folder under a provisional
        name, written and hashed by a background thread while the next batch is read."""
        path = self.work / f"part-{len(self.parts) + 1:07d}.{self.fmt}"
        count, first, last = records.len(), int(records[0]), int(records[-1])

        def write() -> _Written:
            digest = hashlib.sha256()
            with path.open("wb") as sink:
                for piece in pieces:
                    sink.write(piece)
                    digest.update(piece)
            return _Written(path=path, records=count, bytes=sum(len(p) for p in pieces),
                            sha256=digest.hexdigest(), first_record=first, last_record=last)

        self.parts.append(self.pool.submit(write))
        self._sizes.append(sum(len(p) for p in pieces))
        self._pending += self._sizes[-1]
        # the parts waiting for the writer hold at most _PENDING_BYTES (memory stays bounded); one that could
        # not be written stops the run here
        while self._checked < len(self.parts) and (self.parts[self._checked].done()
                                                   or self._pending > _PENDING_BYTES):
            self.parts[self._checked].result()
            self._pending -= self._sizes[self._checked]
            self._checked += 1

    def written(self) -> list[_Written]:
        """The parts stored so far, once they are on disk (a failed write raises here)."""
        return [part.result() for part in self.parts]


def _prepare_out_dir(out: Path, *, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder")
    if (out / JOURNAL_NAME).exists():
        from .upload.journal import describe_upload  # only on this refusal: the uploader stays unloaded
        raise UsageError(f"{out} holds an upload journal ({JOURNAL_NAME}): {describe_upload(out / JOURNAL_NAME)}; "
                         "'cgformat status' and 'cgformat undo' need it with these parts. Split into a new folder.")
    if (out / MANIFEST_NAME).exists() and not force:
        raise UsageError(f"{out} already holds a split ({MANIFEST_NAME}); use a new folder or --force to replace it")
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(".split-*.partial"):   # left by a split that was killed: its process is gone
        pid = stale.name[len(".split-"):-len(".partial")].split("-")[0]
        if not (pid.isdigit() and _alive(int(pid))):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether a process with this id runs (it may be splitting into the same folder: its work is left alone)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _old_outputs(out: Path) -> Iterator[Path]:
    """Files of an earlier split in ``out`` (listed in its manifest), removed when --force replaces it."""
    from .manifest import load_manifest

    try:
        old = load_manifest(out)
    except Exception:  # noqa: BLE001 - an unreadable old manifest leaves its files alone
        return
    for p in old.parts:
        yield out / p.file
    if old.rejects_file:
        yield out / old.rejects_file


_LARGE_SOURCE = 256 << 20   # bytes: a validating split of a larger source reads smaller batches


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


def run_split(stream: BinaryIO, *, source: str, in_fmt: str, out_dir: Path, out_fmt: str | None = None,
              read_options: ReadOptions | None = None, schema: Schema | None = None,
              profile: LimitProfile | str | None = None, max_records: int | None = None,
              max_bytes: int | None = None, do_validate: bool = True, force: bool = False,
              write_options: WriteOptions | None = None, max_issues: int = 1000,
              progress: Callable[[int], None] | None = None) -> SplitResult:
    """Split a seekable binary stream into parts in ``out_dir``; see ``cgformat.api.split_file``."""
    out_fmt = formats.check_format(out_fmt or (in_fmt if in_fmt != "xls" else "xlsx"), write=True)
    base = get_profile(profile if profile is not None else (schema.profile if schema is not None else None))
    prof = base.with_overrides(max_records=max_records, max_bytes=max_bytes)
    _prepare_out_dir(out_dir, force=force)
    # background threads hash the source and write and hash the parts while polars reads and encodes (two:
    # the source's hash, started first, must not hold up the parts)
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="cgformat-split") as pool:
        try:
            return _split(pool, stop, stream, source=source, in_fmt=in_fmt, out_dir=out_dir, out_fmt=out_fmt,
                          read_options=read_options, schema=schema, prof=prof, do_validate=do_validate,
                          force=force, write_options=write_options, max_issues=max_issues, progress=progress)
        finally:
            stop.set()   # a hash still running is not needed any more (on success it is done already)
            pool.shutdown(wait=True, cancel_futures=True)


def _split(pool: ThreadPoolExecutor, stop: threading.Event, stream: BinaryIO, *, source: str, in_fmt: str,
           out_dir: Path, out_fmt: str,
           read_options: ReadOptions | None, schema: Schema | None, prof: LimitProfile, do_validate: bool,
           force: bool, write_options: WriteOptions | None, max_issues: int,
           progress: Callable[[int], None] | None) -> SplitResult:
    digest = source_digest(stream, pool, stop)
    # CSV parts may be copied from a CSV source's own bytes (see same_dialect below). Without validation the
    # reader works up to three batches ahead, so that neither it nor the packing of parts waits for the other
    # when one batch takes longer (1M records: 2.41 s instead of 2.70 s, median of 8; peak memory 305 MB at
    # 1M and 5M); validation has a thread of its own and holds more per batch: one ahead
    validating = schema is not None and do_validate
    read_options = dataclasses.replace(read_options or ReadOptions(), keep_raw=out_fmt == "csv",
                                       read_ahead=1 if validating else 3)
    if validating and read_options.batch_size == DEFAULT_BATCH_SIZE and _size(stream) > _LARGE_SOURCE:
        # the validator keeps every distinct key to find duplicates across parts (16 bytes a key, twice that
        # while two runs of its store merge): in a large file smaller batches leave it the room (5M records:
        # 581 -> 461 MB peak, about 20% more time)
        read_options = dataclasses.replace(read_options, batch_size=DEFAULT_BATCH_SIZE // 2)
    reader = formats.open_reader(stream, in_fmt, source=source, options=read_options)
    info = reader.info
    labels = info.labels
    wopts = write_options or WriteOptions()
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
    collector = ReportCollector(max_issues=max_issues)
    # the validator's header issues hold the reader's (non-UTF-8 and delimiter come back graded by finish)
    collector.add(list(validator.header_issues) if validator else list(info.issues))
    collector.add(header.issues(line=None if info.format == "xml" else info.header_line or 1))
    # a CSV record may hold fields beyond the header (a ragged row): the rejects keep them in a column
    extra = info.format == "csv"
    reasons = ("_extra", "_errors") if extra else ("_errors",)
    rej_labels = (*out_labels, *reasons)
    rejects_path = work / f"rejects.{out_fmt}"
    rejected = 0
    total = 0
    pw = _PartWriter(work, out_fmt, out_labels, wopts, prof, pool)
    try:
        with rejects_path.open("wb") as rej_stream:
            rej_writer = formats.open_writer(rej_stream, out_fmt, rej_labels, options=WriteOptions(
                bom=wopts.bom, delimiter=wopts.delimiter,
                xml_tags=(*wopts.xml_tags, *reasons) if wopts.xml_tags else None,
                root_tag=wopts.root_tag, record_tag=wopts.record_tag, sheet_name=wopts.sheet_name))

            def reject(frame: pl.DataFrame, records: pl.Series, reasons: pl.Series,
                       fields: pl.Series | None = None) -> None:
                nonlocal rejected
                if frame.height == 0:
                    return
                more = [] if not extra else [fields if fields is not None
                                             else pl.Series([""] * frame.height, dtype=pl.String)]
                rej_writer.write(frame.with_columns(*(m.alias("~cgformat_extra") for m in more),
                                                    reasons.alias("~cgformat_errors")), records=records)
                rejected += frame.height

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
                if not ok.all():
                    reject(frame.filter(~ok), recs.filter(~ok), result.errors_column(shown).filter(~ok),
                           extra_fields(batch).filter(~ok) if extra else None)
                carry = carry.extend(frame.filter(ok), recs.filter(ok),
                                     raw=batch.raw if same_dialect and ok.all() else None, sizes=batch.raw_sizes)
                carry = _pack(pw, carry, key_cols, final=False, reject=reject, collector=collector)
                if progress is not None:
                    progress(total)
            _pack(pw, carry, key_cols, final=True, reject=reject, collector=collector)
            rej_writer.close()
        if validator is not None:
            collector.add([i for i in validator.finish(records=total, bytes=info.bytes)
                           if str(i.code) not in _SPLIT_SOLVES])
        source_sha = digest.result()
        ident = split_id(source_sha, {"type": schema.name if schema else None, "format": out_fmt,
                                      "max_records": prof.max_records, "max_bytes": prof.max_bytes,
                                      "validate": bool(schema is not None and do_validate),
                                      "bom": wopts.bom, "delimiter": wopts.delimiter,
                                      "xml_tags": ident_tags if out_fmt == "xml" else None,
                                      **({"labels": out_labels} if out_fmt != "xml" and header.renamed else {}),
                                      **_read_choices(read_options)})
        manifest = _commit(pw, out_dir=out_dir, work=work, ident=ident, stem=stem, source=source,
                           source_sha=source_sha, schema=schema, out_fmt=out_fmt, prof=prof, total=total,
                           rejected=rejected, rejects_path=rejects_path, force=force,
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


def _pack(pw: _PartWriter, carry: _Carry, key_cols: list[str], *, final: bool,
          reject: Callable[[pl.DataFrame, pl.Series, pl.Series], None], collector: ReportCollector) -> _Carry:
    """Write every complete part of the carried records; return the records left for the next batch."""
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
        reject(frame.slice(i, 1), records.slice(i, 1), pl.Series([f"{issue.code}"]))

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
        s = _write_part(pw, frame, records, s, end)
        pw.key_cuts += s == end and 0 in plan.key_cuts   # not when re-cut for size: then bytes ended it
    return _Carry(frame=frame, records=records).rest(s, None)


def _write_part(pw: _PartWriter, frame: pl.DataFrame, records: pl.Series, s: int, e: int) -> int:
    """Encode rows ``[s, e)`` as one xlsx part, re-cut when the size estimate was off; return its end."""
    data = pw.encode(frame.slice(s, e - s))
    limit = pw.profile.max_bytes
    if len(data) > limit:
        pw.recuts += 1
        lo, hi = s + 1, e - 1  # the largest end in [lo, hi] that fits; s+1 always fits (checked alone)
        best = frame.slice(s, 1)
        best_data = pw.encode(best)
        best_end = s + 1
        while lo <= hi:
            mid = (lo + hi) // 2
            trial = pw.encode(frame.slice(s, mid - s))
            if len(trial) <= limit:
                best_data, best_end, lo = trial, mid, mid + 1
            else:
                hi = mid - 1
        data, e = best_data, best_end
        if len(data) > limit:
            raise WriteError(f"record {records[s]} alone does not fit in {limit} bytes as xlsx")
    pw.store((data,), records.slice(s, e - s))
    return e


def _commit(pw: _PartWriter, *, out_dir: Path, work: Path, ident: str, stem: str, source: str, source_sha: str,
            schema: Any, out_fmt: str, prof: LimitProfile, total: int, rejected: int, rejects_path: Path,
            force: bool, renamed: tuple[tuple[int, str, str, str], ...]) -> Manifest:
    """Move the parts into place under their final names, then write the manifest (last, atomically)."""
    n = len(pw.parts)
    written = pw.written()   # every part on disk before anything old is removed
    if force:
        for old in _old_outputs(out_dir):
            with contextlib.suppress(OSError):
                old.unlink()
        with contextlib.suppress(OSError):
            (out_dir / MANIFEST_NAME).unlink()
    parts: list[Part] = []
    for i, w in enumerate(written, start=1):
        name = part_name(stem, ident, i, n, out_fmt)
        os.replace(w.path, out_dir / name)
        parts.append(Part(file=name, records=w.records, bytes=w.bytes, sha256=w.sha256,
                          first_record=w.first_record, last_record=w.last_record))
    rejects_file = None
    if rejected:
        rejects_file = f"rejects.{out_fmt}"
        os.replace(rejects_path, out_dir / rejects_file)
    elif (out_dir / f"rejects.{out_fmt}").exists() and force:
        (out_dir / f"rejects.{out_fmt}").unlink()
    fsync_dir(out_dir)
    manifest = Manifest(source=source, source_sha256=source_sha, type=schema.name if schema else None,
                        format=out_fmt, profile=prof, records=total, rejected=rejected, parts=tuple(parts),
                        rejects_file=rejects_file, renamed=renamed)
    with atomic_output(out_dir / MANIFEST_NAME) as f:
        f.write(manifest.to_json().encode("utf-8"))
    return manifest
