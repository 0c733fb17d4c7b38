"""The parts of a split: encoded, checked against the limits, written in a hidden work folder, and moved into
place under their final names just before the manifest, which is written last (a failed run leaves none)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from ... import formats
from ..._atomic import atomic_output, fsync_dir
from ...errors import UsageError, WriteError
from ...formats import WriteOptions
from ...limits import LimitProfile
from ...manifest import MANIFEST_NAME, Manifest, Part, load_manifest
from ...model import unique_columns
from .plan import part_name

if TYPE_CHECKING:
    from ...schema import Schema

__all__ = ["JOURNAL_NAME", "PartWriter", "commit", "prepare_out_dir", "write_xlsx_part"]

JOURNAL_NAME = "upload-journal.json"
"""The upload journal's name in a split folder (:mod:`cgformat.uploader.journal`): a folder holding one is
never split into."""


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


class PartWriter:
    """Encodes parts into the work folder and checks each against the limits, bytes measured as written."""

    def __init__(self, work: Path, fmt: str, labels: tuple[str, ...], options: WriteOptions,
                 profile: LimitProfile, pool: Executor) -> None:
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


def prepare_out_dir(out: Path, *, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"out_dir={out} is a file; give a folder", options=("out_dir",))
    if (out / JOURNAL_NAME).exists():
        from ...uploader.journal import describe_upload  # only on this refusal: the uploader stays unloaded
        raise UsageError(f"{out} holds an upload journal ({JOURNAL_NAME}): {describe_upload(out / JOURNAL_NAME)}; "
                         "'cgformat status' and 'cgformat undo' need it with these parts. Split into a new folder.")
    if (out / MANIFEST_NAME).exists() and not force:
        raise UsageError(f"{out} already holds a split ({MANIFEST_NAME}); use a new folder or force=True to replace "
                         f"it", options=("force",))
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
    """Files of an earlier split in ``out`` (listed in its manifest), removed when ``force`` replaces it."""
    try:
        old = load_manifest(out)
    except Exception:  # noqa: BLE001 - an unreadable old manifest leaves its files alone
        return
    for p in old.parts:
        yield out / p.file
    if old.rejects_file:
        yield out / old.rejects_file


def write_xlsx_part(pw: PartWriter, frame: pl.DataFrame, records: pl.Series, s: int, e: int) -> int:
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


def commit(pw: PartWriter, *, out_dir: Path, work: Path, ident: str, stem: str, source: str, source_sha: str,
            schema: Schema | None, out_fmt: str, prof: LimitProfile, total: int, rejected: int, rejects_path: Path,
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
