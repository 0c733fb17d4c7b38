"""The upload journal: what has been sent of a split, replaced atomically at every change.

``DIR/upload-journal.json`` (or ``FILE.upload-journal.json`` beside a single file) holds one entry per part
in manifest order, each in one state::

    pending -> sending -> sent -> confirmed        (confirmed: found in CG's statistics, with its id)
                  |   \\-> failed                    (CG refused it, or faults outlived the retries)
                  \\-> pending                       (a 429 / 5xx answer: certainly not taken; retried)

``sending`` is written *before* a request starts, so a crash leaves the part marked as possibly sent: a
resumed run sends it again, and CG's 400103 ("already processed") then counts as delivered. The time of the
last send is kept so that a restart still keeps the interval. No secret is ever written here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from .._atomic import atomic_output
from ..errors import ManifestError, UsageError
from ..manifest import Manifest, Part

__all__ = [
    "DELIVERED",
    "JOURNAL_NAME",
    "JOURNAL_VERSION",
    "Journal",
    "JournalBusy",
    "PartEntry",
    "PartState",
    "atomic_write",
    "from_iso",
    "journal_lock",
    "journal_path_for",
    "to_iso",
]

JOURNAL_NAME = "upload-journal.json"
JOURNAL_SUFFIX = ".upload-journal.json"
JOURNAL_VERSION = 1


class PartState(StrEnum):
    """Where a part stands."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    CONFIRMED = "confirmed"
    FAILED = "failed"


DELIVERED = frozenset({PartState.SENT, PartState.CONFIRMED})


def to_iso(t: float | None) -> str | None:
    """Epoch seconds as an ISO-8601 UTC time (microseconds kept), or ``None``."""
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat()


def from_iso(s: str | None) -> float | None:
    """An ISO-8601 time written by :func:`to_iso` back to epoch seconds, or ``None``."""
    return None if not s else datetime.fromisoformat(s).timestamp()


class JournalBusy(UsageError):
    """Another process holds the journal's lock (see :func:`journal_lock`)."""


@contextmanager
def journal_lock(path: Path, *, doing: str) -> Iterator[None]:
    """Hold the lock of the journal at ``path`` (``JOURNAL.lock`` beside it) while a run sends or deletes its
    parts: a second run on the same parts (another terminal, an overlapping cron job) is refused instead of
    sending them again, ahead of the interval, and racing for the journal. The operating system drops the
    lock when the process ends, however it ends: a crash leaves nothing to clean up. ``doing`` names the
    refused run's own job in the message."""
    try:
        import fcntl
    except ImportError:   # pragma: no cover - not POSIX: runs are not kept apart
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise JournalBusy(f"another cgformat (process {holder}) is uploading or undoing the parts of "
                              f"{path} now: {doing} waits until it has finished (or is stopped)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(fd)   # releases the lock


def journal_path_for(target: str | Path) -> Path:
    """The journal of a split folder (``DIR/upload-journal.json``) or of a single file (``FILE.upload-journal.json``).

    A journal path itself is returned as it is.
    """
    target = Path(target)
    if target.is_dir():
        return target / JOURNAL_NAME
    if target.name == JOURNAL_NAME or target.name.endswith(JOURNAL_SUFFIX):
        return target
    return target.with_name(target.name + JOURNAL_SUFFIX)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data``: temp file, fsync, rename, fsync of the folder."""
    with atomic_output(path) as stream:
        stream.write(data)


@dataclass(frozen=True, slots=True, kw_only=True)
class PartEntry:
    """One part's state, times (ISO-8601 UTC), attempts, CG's answer and CG's statistics of the upload."""

    index: int                              # 1-based, manifest order
    file: str
    records: int
    bytes: int
    sha256: str
    state: PartState = PartState.PENDING
    attempts: int = 0
    sending_at: str | None = None           # start of the latest attempt
    sent_at: str | None = None
    confirmed_at: str | None = None
    answer: dict[str, Any] | None = None    # status, data, code, message of the accepting answer
    already_processed: bool = False        # CG answered 400103: it had the file already
    error: dict[str, Any] | None = None     # kind (api | transport), status, code, message of the last failure
    upload_id: int | None = None
    status: str | None = None               # CG's statistics from here on
    date_upload: str | None = None
    total_records: int | None = None
    successful_records: int | None = None
    unsuccessful_records: int | None = None
    logs: tuple[str, ...] = ()
    undone_at: str | None = None

    @property
    def delivered(self) -> bool:
        """CG has the file (sent or confirmed)."""
        return self.state in DELIVERED

    def to_dict(self) -> dict[str, Any]:
        """The entry as the journal file holds it."""
        doc = {f.name: getattr(self, f.name) for f in fields(self)}
        doc["state"] = str(self.state)
        doc["logs"] = list(self.logs)
        return doc

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> PartEntry:
        """Read an entry back; :class:`ManifestError` for a damaged one."""
        known = {f.name for f in fields(cls)}
        try:
            values = {k: v for k, v in doc.items() if k in known}
            values["state"] = PartState(values.get("state", "pending"))
            values["logs"] = tuple(str(x) for x in values.get("logs") or ())
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise ManifestError(f"a journal entry is damaged: {exc}") from None

    @classmethod
    def from_part(cls, index: int, part: Part) -> PartEntry:
        """A pending entry for a manifest part."""
        return cls(index=index, file=part.file, records=part.records, bytes=part.bytes, sha256=part.sha256)


@dataclass(slots=True, kw_only=True)
class Journal:
    """The journal of one upload run (and its resumptions); every change is saved at once, atomically."""

    path: Path
    source: str
    source_sha256: str
    type: str
    format: str
    base_url: str
    auth_url: str | None
    upload_path: str
    statistics_path: str | None
    created_at: str
    updated_at: str
    last_send_at: float | None = None
    parts: list[PartEntry] = field(default_factory=list)
    clock: Callable[[], float] = field(default=lambda: datetime.now(UTC).timestamp(), repr=False)
    write: Callable[[Path, bytes], None] = field(default=atomic_write, repr=False)

    # --- building ---------------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, *, manifest: Manifest, type: str, base_url: str, auth_url: str | None,
               upload_path: str, statistics_path: str | None, clock: Callable[[], float],
               write: Callable[[Path, bytes], None] = atomic_write) -> Journal:
        """A fresh journal (every part pending) for a manifest; not written until :meth:`save`."""
        now = to_iso(clock()) or ""
        return cls(path=Path(path), source=manifest.source, source_sha256=manifest.source_sha256, type=type,
                   format=manifest.format, base_url=base_url, auth_url=auth_url, upload_path=upload_path,
                   statistics_path=statistics_path, created_at=now, updated_at=now,
                   parts=[PartEntry.from_part(i, p) for i, p in enumerate(manifest.parts, start=1)],
                   clock=clock, write=write)

    @classmethod
    def load(cls, path: str | Path, *, clock: Callable[[], float],
             write: Callable[[Path, bytes], None] = atomic_write) -> Journal:
        """Read a journal; :class:`ManifestError` says what is wrong with it."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ManifestError(f"no upload journal at {path}: nothing was uploaded from there yet") from None
        except (OSError, ValueError) as exc:
            raise ManifestError(f"cannot read the upload journal {path}: {exc}") from None
        if not isinstance(doc, dict) or doc.get("cgformat_upload_journal") != JOURNAL_VERSION:
            raise ManifestError(f"{path} is not a cgformat upload journal (version {JOURNAL_VERSION})")
        try:
            parts = [PartEntry.from_dict(p) for p in doc["parts"]]
            return cls(path=path, source=str(doc["source"]), source_sha256=str(doc["source_sha256"]),
                       type=str(doc["type"]), format=str(doc["format"]), base_url=str(doc["base_url"]),
                       auth_url=doc.get("auth_url"), upload_path=str(doc["upload_path"]),
                       statistics_path=doc.get("statistics_path"), created_at=str(doc["created_at"]),
                       updated_at=str(doc["updated_at"]), last_send_at=from_iso(doc.get("last_send_at")),
                       parts=parts, clock=clock, write=write)
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(f"the upload journal {path} is damaged ({exc}); move it away to start afresh, "
                                "after checking with CG what was already received") from None

    @classmethod
    def open(cls, path: str | Path, *, manifest: Manifest, type: str, base_url: str, auth_url: str | None,
             upload_path: str, statistics_path: str | None, clock: Callable[[], float],
             write: Callable[[Path, bytes], None] = atomic_write) -> Journal:
        """Resume the journal at ``path`` if there is one (after checking it fits), else start one."""
        path = Path(path)
        if not path.exists():
            return cls.create(path, manifest=manifest, type=type, base_url=base_url, auth_url=auth_url,
                              upload_path=upload_path, statistics_path=statistics_path, clock=clock, write=write)
        journal = cls.load(path, clock=clock, write=write)
        journal.check_fits(manifest, type=type, base_url=base_url, upload_path=upload_path)
        journal.auth_url, journal.statistics_path = auth_url, statistics_path  # may change between runs
        return journal

    def check_fits(self, manifest: Manifest, *, type: str, base_url: str, upload_path: str) -> None:
        """Refuse to resume a journal written for other parts, another record type or another server."""
        planned = [(p.file, p.sha256, p.bytes, p.records) for p in manifest.parts]
        journaled = [(e.file, e.sha256, e.bytes, e.records) for e in self.parts]
        if planned != journaled:
            raise ManifestError(f"the upload journal {self.path} was written for other parts than the manifest "
                                "lists now (the split was redone?): move the journal away to start afresh, after "
                                "checking with 'cgformat status' what CG already received")
        for label, was, now in (("record type", self.type, type), ("base URL", self.base_url, base_url),
                                ("upload path", self.upload_path, upload_path)):
            if was != now:
                raise UsageError(f"the upload journal {self.path} was started with {label} {was!r}, not {now!r}: "
                                 f"resume with the same {label}, or move the journal away to start afresh")

    # --- changing ---------------------------------------------------------------------------------------
    def part(self, index: int) -> PartEntry:
        """The entry of part ``index`` (1-based)."""
        return self.parts[index - 1]

    def update(self, index: int, *, last_send_at: float | None = None, **changes: Any) -> PartEntry:
        """Change one part (and the last send time) and save the journal at once."""
        entry = replace(self.parts[index - 1], **changes)
        self.parts[index - 1] = entry
        if last_send_at is not None:
            self.last_send_at = last_send_at
        self.save()
        return entry

    def save(self) -> None:
        """Write the journal atomically."""
        self.updated_at = to_iso(self.clock()) or self.updated_at
        data = (json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        self.write(self.path, data)

    # --- reading ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The journal document."""
        return {"cgformat_upload_journal": JOURNAL_VERSION, "source": self.source,
                "source_sha256": self.source_sha256, "type": self.type, "format": self.format,
                "base_url": self.base_url, "auth_url": self.auth_url, "upload_path": self.upload_path,
                "statistics_path": self.statistics_path, "created_at": self.created_at,
                "updated_at": self.updated_at, "last_send_at": to_iso(self.last_send_at),
                "parts": [p.to_dict() for p in self.parts]}

    @property
    def folder(self) -> Path:
        """The folder holding the part files."""
        return self.path.parent

    def counts(self) -> dict[str, int]:
        """Parts per state, plus ``delivered`` and the records delivered."""
        out = {str(s): 0 for s in PartState}
        for e in self.parts:
            out[str(e.state)] += 1
        out["delivered"] = sum(1 for e in self.parts if e.delivered)
        out["records_delivered"] = sum(e.records for e in self.parts if e.delivered)
        return out

    @property
    def undone(self) -> bool:
        """True once ``cgformat undo`` deleted any upload of this journal."""
        return any(e.undone_at for e in self.parts)
