"""The upload journal: what has been sent of a split, replaced atomically at every change.

``DIR/upload-journal.json`` (or ``FILE.upload-journal.json`` beside a single file) holds one entry per part
in manifest order, each in one state::

    pending   never sent, or every attempt was certainly turned away (a 429, a refused connection)
    sending   a request is under way; found so in a journal no run holds, it is in doubt (a crash mid-send)
    in-doubt  a request may have reached CG (a time-out, a dropped connection, a 5xx, an answer that is no
              proof): settled only by a 400103 on a resend or by CG's statistics
    sent      CG's answer proved it stored the part (HTTP 200 with its Data envelope, or 400103)
    confirmed found in CG's statistics, with its id and counts
    failed    CG refused it; ``maybe_stored`` says an earlier attempt of it is still in doubt
    undone    deleted from CG by ``cgformat undo``

``sending`` is written *before* a request starts, so a crash never causes a silent double send or a silent
skip. The time of the last send is kept so that a restart still keeps the interval. No secret is ever
written here. A journal is checked field by field when it is read: a damaged one is named, never guessed at.
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
from ..errors import JournalBusy, JournalDamaged, ManifestError, NotUploaded, ReadError, UsageError
from ..manifest import Manifest, Part

__all__ = [
    "DELIVERED",
    "DOUBTFUL",
    "JOURNAL_NAME",
    "JOURNAL_VERSION",
    "Journal",
    "JournalBusy",
    "JournalDamaged",
    "NotUploaded",
    "PartEntry",
    "PartState",
    "atomic_write",
    "describe_upload",
    "from_iso",
    "is_busy",
    "journal_lock",
    "journal_path_for",
    "to_iso",
]

JOURNAL_NAME = "upload-journal.json"
JOURNAL_SUFFIX = ".upload-journal.json"
JOURNAL_VERSION = 1
_AFRESH = ("; move it away to start afresh, after checking with CG what it already holds "
           "('cgformat status --id N --type T', or CG's upload list)")


class PartState(StrEnum):
    """Where a part stands."""

    PENDING = "pending"
    SENDING = "sending"
    IN_DOUBT = "in-doubt"
    SENT = "sent"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    UNDONE = "undone"


DELIVERED = frozenset({PartState.SENT, PartState.CONFIRMED})
DOUBTFUL = frozenset({PartState.SENDING, PartState.IN_DOUBT})


def to_iso(t: float | None) -> str | None:
    """Epoch seconds as an ISO-8601 UTC time (microseconds kept), or ``None``."""
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat()


def from_iso(s: str | None) -> float | None:
    """An ISO-8601 time written by :func:`to_iso` back to epoch seconds, or ``None``."""
    return None if not s else datetime.fromisoformat(s).timestamp()


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
            who = ("another run in this process" if holder == str(os.getpid())
                   else f"another cgformat (process {holder})")
            raise JournalBusy(f"{who} is uploading or undoing the parts of "
                              f"{path} now, so {doing} is refused: run it again once that one has finished "
                              "(or is stopped)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(fd)   # releases the lock


def is_busy(path: Path) -> bool:
    """True while a run holds the lock of the journal at ``path`` (see :func:`journal_lock`)."""
    try:
        import fcntl
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDONLY)
    except (ImportError, OSError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def describe_upload(path: Path) -> str:
    """What a journal says of its parts, in words true for every state (for a refusal to overwrite them)."""
    if is_busy(path):
        return "an upload or undo of its parts is running now"
    try:
        journal = Journal.load(path, clock=lambda: 0.0)
    except (ReadError, UsageError):
        return "a journal that cannot be read (see 'cgformat status')"
    c = journal.counts()
    n = len(journal.parts)
    if c["undone"]:
        return f"{c['undone']} of its {n} parts were uploaded and then undone"
    said = [f"{c['delivered']} of its {n} parts were delivered to CG"]
    if c["in_doubt"]:
        said.append(f"{c['in_doubt']} may have reached CG (in doubt)")
    if c["delivered"] + c["in_doubt"] == 0:
        said = [f"an upload of its {n} parts was started; none has reached CG"]
    return ", ".join(said)


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


_STR, _OPT_STR, _INT, _OPT_INT, _BOOL, _OPT_DICT, _STR_LIST = "s", "s?", "i", "i?", "b", "d?", "l"
_NAMES = {_STR: "a string", _OPT_STR: "a string or null", _INT: "a whole number",
          _OPT_INT: "a whole number or null", _BOOL: "true or false", _OPT_DICT: "an object or null",
          _STR_LIST: "a list of strings"}
_FIELD_TYPES = {"index": _INT, "file": _STR, "records": _INT, "bytes": _INT, "sha256": _STR, "state": _STR,
                "attempts": _INT, "sending_at": _OPT_STR, "first_sending_at": _OPT_STR, "answered_at": _OPT_STR,
                "maybe_stored": _BOOL, "id_floor": _OPT_INT, "sent_at": _OPT_STR, "confirmed_at": _OPT_STR,
                "answer": _OPT_DICT,
                "already_processed": _BOOL, "error": _OPT_DICT, "upload_id": _OPT_INT, "status": _OPT_STR,
                "date_upload": _OPT_STR, "total_records": _OPT_INT, "successful_records": _OPT_INT,
                "unsuccessful_records": _OPT_INT, "logs": _STR_LIST, "undone_at": _OPT_STR}
_REQUIRED = {"index", "file", "records", "bytes", "sha256"}
_TIMES = ("sending_at", "first_sending_at", "answered_at", "sent_at", "confirmed_at", "undone_at")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def _fits(value: Any, expected: str) -> bool:
    if expected.endswith("?") and value is None:
        return True
    base = expected.rstrip("?")
    if base == "s":
        return isinstance(value, str)
    if base == "i":
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2 ** 63
    if base == "b":
        return isinstance(value, bool)
    if base == "d":
        return isinstance(value, dict)
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


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
    first_sending_at: str | None = None     # start of the first attempt that may have reached CG
    answered_at: str | None = None          # end of the latest attempt (answer, fault or time-out)
    maybe_stored: bool = False              # an attempt may have reached CG and is not settled
    id_floor: int | None = None             # the highest upload id CG listed just before the first send
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

    @property
    def in_doubt(self) -> bool:
        """CG may hold the file and nothing has settled it yet."""
        return self.state in DOUBTFUL or (self.state is PartState.FAILED and self.maybe_stored)

    @property
    def may_be_in_cg(self) -> bool:
        """What an undo must look for: delivered, or in doubt."""
        return self.delivered or self.in_doubt

    def to_dict(self) -> dict[str, Any]:
        """The entry as the journal file holds it."""
        doc = {f.name: getattr(self, f.name) for f in fields(self)}
        doc["state"] = str(self.state)
        doc["logs"] = list(self.logs)
        return doc

    @classmethod
    def from_dict(cls, doc: Any, *, where: str = "a part") -> PartEntry:
        """Read an entry back, checking every field's type; :class:`JournalDamaged` names what is wrong."""
        if not isinstance(doc, dict):
            raise JournalDamaged(f"{where} is {_kind(doc)}, not an object")
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in doc:
                if f.name in _REQUIRED:
                    raise JournalDamaged(f"{where} has no {f.name!r}")
                continue
            value = doc[f.name]
            expected = _FIELD_TYPES[f.name]
            if not _fits(value, expected):
                raise JournalDamaged(f"{where}: {f.name!r} is {_kind(value)}, not {_NAMES[expected]}")
            values[f.name] = value
        try:
            values["state"] = PartState(values.get("state", "pending"))
        except ValueError:
            raise JournalDamaged(f"{where}: unknown state {doc.get('state')!r}") from None
        values["logs"] = tuple(values.get("logs") or ())
        for name in _TIMES:
            if values.get(name) is not None:
                try:
                    from_iso(values[name])
                except (ValueError, OverflowError):
                    raise JournalDamaged(f"{where}: {name!r} is not a time ({values[name]!r:.40})") from None
        if min(values["index"], values["records"], values["bytes"]) < 0 or values.get("attempts", 0) < 0:
            raise JournalDamaged(f"{where}: a negative count")
        entry = cls(**values)
        if entry.undone_at and entry.state in DELIVERED:
            entry = replace(entry, state=PartState.UNDONE)   # journals before the undone state
        return entry

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
        """Read a journal, checking its shape and every field's type.

        :class:`NotUploaded` when there is none, :class:`JournalDamaged` naming what is wrong otherwise.
        """
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotUploaded(f"nothing was uploaded from {path.parent if path.name == JOURNAL_NAME else path}: "
                              f"there is no upload journal ({path.name})") from None
        except (OSError, ValueError, RecursionError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise JournalDamaged(f"cannot read the upload journal {path} ({reason}){_AFRESH}") from None
        if not isinstance(doc, dict) or doc.get("cgformat_upload_journal") != JOURNAL_VERSION:
            raise JournalDamaged(f"{path} is not a cgformat upload journal (version {JOURNAL_VERSION})")
        try:
            return cls._from_doc(path, doc, clock=clock, write=write)
        except JournalDamaged as exc:
            raise JournalDamaged(f"the upload journal {path} is damaged: {exc}{_AFRESH}") from None

    @classmethod
    def _from_doc(cls, path: Path, doc: dict[str, Any], *, clock: Callable[[], float],
                  write: Callable[[Path, bytes], None]) -> Journal:
        texts: dict[str, str] = {}
        for name in ("source", "source_sha256", "type", "format", "base_url", "upload_path", "created_at",
                     "updated_at"):
            value = doc.get(name)
            if not isinstance(value, str):
                raise JournalDamaged(f"{name!r} is {_kind(value)}, not a string")
            texts[name] = value
        optional: dict[str, str | None] = {}
        for name in ("auth_url", "statistics_path", "last_send_at"):
            value = doc.get(name)
            if value is not None and not isinstance(value, str):
                raise JournalDamaged(f"{name!r} is {_kind(value)}, not a string or null")
            optional[name] = value
        try:
            last_send_at = from_iso(optional["last_send_at"])
        except (ValueError, OverflowError):
            raise JournalDamaged(f"'last_send_at' is not a time ({optional['last_send_at']!r:.40})") from None
        raw_parts = doc.get("parts")
        if not isinstance(raw_parts, list):
            raise JournalDamaged(f"'parts' is {_kind(raw_parts)}, not a list")
        parts = [PartEntry.from_dict(p, where=f"part {i}") for i, p in enumerate(raw_parts, start=1)]
        if [e.index for e in parts] != list(range(1, len(parts) + 1)):
            raise JournalDamaged("the parts are not numbered 1, 2, 3 ... in order")
        return cls(path=path, source=texts["source"], source_sha256=texts["source_sha256"], type=texts["type"],
                   format=texts["format"], base_url=texts["base_url"], auth_url=optional["auth_url"],
                   upload_path=texts["upload_path"], statistics_path=optional["statistics_path"],
                   created_at=texts["created_at"], updated_at=texts["updated_at"], last_send_at=last_send_at,
                   parts=parts, clock=clock, write=write)

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
        """Parts per state (``sending`` found in a journal counts as in doubt), plus ``delivered``,
        ``in_doubt`` (failed parts with an attempt in doubt included) and the records delivered."""
        out = {str(s): 0 for s in PartState}
        for e in self.parts:
            out[str(e.state)] += 1
        out["delivered"] = sum(1 for e in self.parts if e.delivered)
        out["in_doubt"] = sum(1 for e in self.parts if e.in_doubt)
        out["records_delivered"] = sum(e.records for e in self.parts if e.delivered)
        return out

    @property
    def undone(self) -> bool:
        """True once ``cgformat undo`` deleted any upload of this journal."""
        return any(e.undone_at or e.state is PartState.UNDONE for e in self.parts)
