"""Send the parts of a journal to CG in order, one at a time, on the interval, surviving faults and restarts.

Time, sleep, randomness and the stop request are parameters, so tests run a day of uploads in a millisecond.
While it waits for the next slot, the uploader looks each sent part up in CG's statistics (matching the
part's file name) and keeps CG's id, status, counts and logs in the journal; a last pass after the final part
does the same for the parts still unconfirmed.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import ApiError, ManifestError, TransportError, UploadError
from .client import CODE_ALREADY_PROCESSED, CgClient, RetryableError, content_type_for
from .journal import Journal, PartEntry, PartState, from_iso, to_iso

__all__ = ["RetryPolicy", "UploadEvent", "UploadSummary", "Uploader", "check_part", "find_upload", "schedule",
           "stats_fields", "summarize"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often and how patiently to retry connection errors, time-outs, 429 and 5xx."""

    max_attempts: int = 8            # attempts per part per run, the first included
    base_s: float = 2.0              # first backoff; doubled at each retry ...
    cap_s: float = 300.0             # ... up to this
    max_retry_after_s: float = 3600.0  # a Retry-After longer than this is cut to it

    def delay(self, retry: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based): Retry-After if given, else capped
        exponential backoff with equal jitter (half fixed, half random)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after_s)
        step = min(self.cap_s, self.base_s * 2.0 ** (retry - 1))
        return step / 2 + rng.uniform(0, step / 2)


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadEvent:
    """Something the uploader did, for progress display.

    ``kind``: start, wait, sending, sent, already-processed, retry, failed, confirmed, lookup-failed,
    stopped, done.
    """

    kind: str
    at: float
    parts: int
    part: int | None = None
    file: str | None = None
    records: int = 0
    attempt: int = 0
    records_sent: int = 0
    records_total: int = 0
    delivered: int = 0
    next_send_at: float | None = None
    eta_at: float | None = None
    delay_s: float | None = None
    message: str | None = None
    entry: PartEntry | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadSummary:
    """How a run ended: counts per state and whether every part is delivered."""

    journal: str
    parts: int
    delivered: int
    confirmed: int
    failed: int
    pending: int
    records: int
    records_delivered: int
    complete: bool
    stopped: str | None = None       # interrupted | error, when the run ended early
    error: dict[str, Any] | None = None

    def to_dict(self, journal: Journal | None = None) -> dict[str, Any]:
        """The ``--json`` summary (with the per-part entries when the journal is given)."""
        doc: dict[str, Any] = {
            "cgformat_upload": 1, "journal": self.journal, "complete": self.complete, "stopped": self.stopped,
            "error": self.error, "parts": self.parts, "delivered": self.delivered, "confirmed": self.confirmed,
            "failed": self.failed, "pending": self.pending, "records": self.records,
            "records_delivered": self.records_delivered}
        if journal is not None:
            doc.update(type=journal.type, base_url=journal.base_url, upload_path=journal.upload_path,
                       last_send_at=to_iso(journal.last_send_at),
                       part_states=[{"index": e.index, "file": e.file, "state": str(e.state), "records": e.records,
                                     "attempts": e.attempts, "already_processed": e.already_processed,
                                     "sent_at": e.sent_at, "error": e.error} | stats_fields(e)
                                    for e in journal.parts])
        return doc


def stats_fields(entry: PartEntry) -> dict[str, Any]:
    """CG's statistics of a part as the journal holds them."""
    return {"upload_id": entry.upload_id, "status": entry.status, "date_upload": entry.date_upload,
            "total_records": entry.total_records, "successful_records": entry.successful_records,
            "unsuccessful_records": entry.unsuccessful_records, "logs": list(entry.logs)}


def summarize(journal: Journal, *, stopped: str | None = None, error: dict[str, Any] | None = None) -> UploadSummary:
    """Count a journal's parts into a summary."""
    c = journal.counts()
    return UploadSummary(journal=str(journal.path), parts=len(journal.parts), delivered=c["delivered"],
                         confirmed=c["confirmed"], failed=c["failed"], pending=len(journal.parts) - c["delivered"],
                         records=sum(e.records for e in journal.parts), records_delivered=c["records_delivered"],
                         complete=c["delivered"] == len(journal.parts), stopped=stopped, error=error)


def check_part(folder: Path, entry: PartEntry) -> bytes:
    """Read a part file and check its size and sha256 against the manifest; :class:`ManifestError` if off."""
    path = folder / entry.file
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError(f"part {entry.index} ({path}) is missing") from None
    except OSError as exc:
        raise ManifestError(f"part {entry.index} ({path}) cannot be read: {exc.strerror or exc}") from None
    if len(data) != entry.bytes:
        raise ManifestError(f"part {entry.index} ({path}) is {len(data)} bytes, the manifest says {entry.bytes}: "
                            "the file changed since the split; split again")
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise ManifestError(f"part {entry.index} ({path}) does not match the manifest's sha256: "
                            "the file changed since the split; split again")
    return data


def schedule(journal: Journal, *, interval_s: float, now: float) -> list[tuple[PartEntry, float | None]]:
    """Each part with the earliest time it can be sent (``None`` for parts already delivered)."""
    out: list[tuple[PartEntry, float | None]] = []
    due = now if journal.last_send_at is None else max(now, journal.last_send_at + interval_s)
    for entry in journal.parts:
        if entry.delivered:
            out.append((entry, None))
        else:
            out.append((entry, due))
            due += interval_s
    return out


def _to_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class Uploader:
    """Sends a journal's parts: one at a time, in order, at least ``interval_s`` apart (across restarts)."""

    def __init__(self, *, client: CgClient, journal: Journal, interval_s: float,
                 clock: Callable[[], float], sleep: Callable[[float], object], rng: random.Random,
                 retry: RetryPolicy | None = None, should_stop: Callable[[], bool] = lambda: False,
                 on_event: Callable[[UploadEvent], None] | None = None, lookup: bool = True,
                 lookup_delay_s: float = 5.0, lookup_every_s: float = 15.0, confirm_wait_s: float = 60.0) -> None:
        self.client = client
        self.journal = journal
        self.interval_s = interval_s
        self.clock = clock
        self.sleep = sleep
        self.rng = rng
        self.retry = retry or RetryPolicy()
        self.should_stop = should_stop
        self.on_event = on_event
        self.lookup = lookup and journal.statistics_path is not None
        self.lookup_delay_s = lookup_delay_s
        self.lookup_every_s = max(0.01, lookup_every_s)  # never a busy loop
        self.confirm_wait_s = confirm_wait_s
        self._lookup_at: dict[int, float] = {}
        self._lookup_warned: set[int] = set()

    # --- events -----------------------------------------------------------------------------------------
    def _emit(self, kind: str, entry: PartEntry | None = None, **extra: Any) -> None:
        if self.on_event is None:
            return
        parts = self.journal.parts
        now = self.clock()
        plan = schedule(self.journal, interval_s=self.interval_s, now=now)
        upcoming = [due for _, due in plan if due is not None]
        self.on_event(UploadEvent(
            kind=kind, at=now, parts=len(parts), part=entry.index if entry else None,
            file=entry.file if entry else None, records=entry.records if entry else 0, entry=entry,
            records_sent=sum(e.records for e in parts if e.delivered), records_total=sum(e.records for e in parts),
            delivered=sum(1 for e in parts if e.delivered),
            next_send_at=upcoming[0] if upcoming else None, eta_at=upcoming[-1] if upcoming else None, **extra))

    # --- the run ----------------------------------------------------------------------------------------
    def run(self) -> UploadSummary:
        """Send every part not yet delivered; return when all are, or when asked to stop.

        Raises :class:`ApiError` when CG refuses a part (other than 400103), :class:`TransportError` when
        faults outlive the retries, :class:`ManifestError` when a part file does not match the manifest.
        The journal is saved in every case.
        """
        journal = self.journal
        if not journal.path.exists():
            journal.save()
        for entry in journal.parts:  # check every part before the first send, not hours later
            if not entry.delivered:
                check_part(journal.folder, entry)
            elif self.lookup and entry.upload_id is None:
                self._lookup_at[entry.index] = self.clock()
        self._emit("start")
        for index in range(1, len(journal.parts) + 1):
            entry = journal.part(index)
            if entry.delivered:
                continue
            due = self.clock() if journal.last_send_at is None else journal.last_send_at + self.interval_s
            if self.clock() < due:
                self._emit("wait", entry, delay_s=due - self.clock())
            if self._wait_until(due):
                return self._stopped()
            data = check_part(journal.folder, entry)
            if not self._send(index, data):
                return self._stopped()
            if self.should_stop():
                return self._stopped()
        if self._final_lookups():
            return self._stopped()
        summary = summarize(journal)
        self._emit("done")
        return summary

    def _stopped(self) -> UploadSummary:
        self.journal.save()
        self._emit("stopped")
        return summarize(self.journal, stopped="interrupted")

    def _send(self, index: int, data: bytes) -> bool:
        """Send one part until CG has it; False if a stop was asked for during a backoff wait."""
        journal = self.journal
        retries = 0
        while True:
            now = self.clock()
            entry = journal.update(index, state=PartState.SENDING, attempts=journal.part(index).attempts + 1,
                                   sending_at=to_iso(now), last_send_at=now)
            self._emit("sending", entry, attempt=entry.attempts)
            try:
                answer = self.client.upload(journal.upload_path, filename=entry.file, content=data,
                                            content_type=content_type_for(entry.file))
            except ApiError as exc:
                if exc.code == CODE_ALREADY_PROCESSED:
                    # CG already has this very file (a resend after a crash or a lost answer): delivered.
                    entry = journal.update(index, state=PartState.SENT, sent_at=to_iso(self.clock()),
                                           already_processed=True, error=None,
                                           answer={"status": exc.status, "data": None, "code": exc.code,
                                                   "message": exc.api_message})
                    self._sent(entry, "already-processed")
                    return True
                journal.update(index, state=PartState.FAILED,
                               error={"kind": "api", "status": exc.status, "code": exc.code,
                                      "message": exc.api_message or str(exc)})
                self._emit("failed", journal.part(index), message=str(exc))
                raise
            except RetryableError as exc:
                retries += 1
                error = {"kind": "transport", "status": exc.status, "code": exc.code, "message": str(exc),
                         "ambiguous": exc.ambiguous}
                if retries >= self.retry.max_attempts:
                    journal.update(index, state=PartState.FAILED, error=error)
                    self._emit("failed", journal.part(index), message=str(exc))
                    raise TransportError(f"part {index} ({entry.file}): {exc}; gave up after {retries} attempts. "
                                         "The journal is saved: run the same command again to resume") from None
                # A 429 / 5xx answer means CG did not take the file; a lost answer leaves it in doubt (sending).
                state = PartState.SENDING if exc.ambiguous else PartState.PENDING
                entry = journal.update(index, state=state, error=error)
                delay = self.retry.delay(retries, self.rng, exc.retry_after)
                self._emit("retry", entry, attempt=entry.attempts, delay_s=delay, message=str(exc))
                if self._wait_until(self.clock() + delay):
                    return False
                continue
            entry = journal.update(index, state=PartState.SENT, sent_at=to_iso(self.clock()), error=None,
                                   answer=answer.to_dict())
            self._sent(entry, "sent")
            return True

    def _sent(self, entry: PartEntry, kind: str) -> None:
        if self.lookup:
            self._lookup_at[entry.index] = self.clock() + self.lookup_delay_s
        self._emit(kind, entry)

    # --- waiting, and looking parts up meanwhile --------------------------------------------------------
    def _wait_until(self, due: float) -> bool:
        """Wait until ``due``, looking sent parts up meanwhile; True if a stop was asked for."""
        while True:
            if self.should_stop():
                return True
            now = self.clock()
            if now >= due:
                return False
            ready = [i for i, t in sorted(self._lookup_at.items()) if t <= now]
            if ready:
                self._lookup_one(ready[0])
                continue
            next_lookup = min(self._lookup_at.values(), default=due)
            self.sleep(max(0.0, min(due, next_lookup) - now))

    def _final_lookups(self) -> bool:
        """After the last send: look up the parts still unconfirmed, for up to ``confirm_wait_s``."""
        if not self._lookup_at:
            return False
        now = self.clock()
        self._lookup_at = dict.fromkeys(self._lookup_at, now)
        deadline = now + self.confirm_wait_s
        while self._lookup_at:
            if self.should_stop():
                return True
            now = self.clock()
            ready = [i for i, t in sorted(self._lookup_at.items()) if t <= now]
            if ready:
                self._lookup_one(ready[0])
                continue
            next_lookup = min(self._lookup_at.values())
            if next_lookup > deadline:
                break
            self.sleep(max(0.0, next_lookup - now))
        return False

    def _lookup_one(self, index: int) -> None:
        entry = self.journal.part(index)
        try:
            found = self.find_upload(entry)
        except UploadError as exc:
            self._lookup_at[index] = self.clock() + self.lookup_every_s
            if index not in self._lookup_warned:
                self._lookup_warned.add(index)
                self._emit("lookup-failed", entry, message=str(exc))
            return
        if found is None:
            self._lookup_at[index] = self.clock() + self.lookup_every_s
            return
        del self._lookup_at[index]
        entry = self.journal.update(index, state=PartState.CONFIRMED, confirmed_at=to_iso(self.clock()),
                                    **found)
        self._emit("confirmed", entry)

    def find_upload(self, entry: PartEntry) -> dict[str, Any] | None:
        """CG's statistics row for a sent part (matched by file name, near its send date), as entry fields."""
        return find_upload(self.client, self.journal, entry)


def _row_fields(row: dict[str, Any]) -> dict[str, Any]:
    logs = row.get("logs")
    return {"upload_id": _to_int(row.get("id")), "status": str(row.get("status", "")) or None,
            "date_upload": str(row.get("date_upload", "")) or None,
            "total_records": _to_int(row.get("total_records")),
            "successful_records": _to_int(row.get("successful_records")),
            "unsuccessful_records": _to_int(row.get("unsuccessful_records")),
            "logs": tuple(str(x) for x in logs) if isinstance(logs, list) else ()}


def find_upload(client: CgClient, journal: Journal, entry: PartEntry, *,
                max_pages: int = 20) -> dict[str, Any] | None:
    """Look a part up in CG's statistics: by its upload id if known, else by file name around its send date."""
    path = journal.statistics_path
    if path is None:
        return None
    if entry.upload_id is not None:
        rows = client.statistics(path, upload_id=entry.upload_id)
        matches = [r for r in rows if _to_int(r.get("id")) == entry.upload_id]
        return _row_fields(matches[0]) if matches else None
    sent = from_iso(entry.sent_at or entry.sending_at) or journal.clock()
    # CG's time zone is not documented: a day either side of the send date.
    day = datetime.fromtimestamp(sent, UTC).date()
    date_from, date_to = (day - timedelta(days=1)).isoformat(), (day + timedelta(days=1)).isoformat()
    taken = {e.upload_id for e in journal.parts if e.upload_id is not None and e.index != entry.index}
    best: dict[str, Any] | None = None
    limit = 1000
    for page in range(max_pages):
        rows = client.statistics(path, date_from=date_from, date_to=date_to, start=page * limit, limit=limit)
        for row in rows:
            uid = _to_int(row.get("id"))
            if row.get("source_filename") == entry.file and uid is not None and uid not in taken \
                    and (best is None or uid > best["upload_id"]):
                best = _row_fields(row)
        if len(rows) < limit:
            break
    return best
