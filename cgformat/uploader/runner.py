"""Send the parts of a journal to CG in order, one at a time, on the interval, surviving faults and restarts.

Time, sleep, randomness and the stop request are parameters, so tests run a day of uploads in a millisecond.
The interval runs on a monotonic clock within a run; the journal's wall-clock times carry it across runs.
While it waits for the next slot, the uploader looks each sent part up in CG's statistics (by evidence: see
:mod:`.match`) and keeps CG's id, status, counts and logs in the journal; a last pass after the final part
does the same for the parts still unconfirmed. A part in doubt is looked up before it is sent again: only
what CG did not store is resent, never sooner than the interval.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ApiError, ManifestError, TransportError, UploadError
from .client import CODE_ALREADY_PROCESSED, CgClient, RetryableError, content_type_for
from .journal import Journal, PartEntry, PartState, to_iso
from .match import find_upload, id_floor

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
    """Something the uploader did, for progress display (``on_event``).

    ``kind``: start, clock-warning, wait, sending, sent, already-processed, retry, failed, confirmed, lookup-failed,
    stopped, done. An event of a part (``part`` set, 1-based, of ``parts``) carries ``attempt``: how many times
    the part was sent so far, this send included (``sending`` 2 is its first resend). ``records_sent`` of
    ``records_total`` are delivered; ``next_send_at`` and ``eta_at`` are wall-clock times.
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
    in_doubt: int = 0                # parts that may be in CG, not settled yet
    undone: int = 0
    rejected_records: int = 0        # unsuccessful records in CG's statistics of the delivered parts
    rejected_parts: int = 0
    unconfirmed: int = 0             # delivered parts CG's statistics do not list yet

    def to_dict(self, journal: Journal | None = None) -> dict[str, Any]:
        """The ``--json`` summary (with the per-part entries when the journal is given)."""
        doc: dict[str, Any] = {
            "cgformat_upload": 1, "journal": self.journal, "complete": self.complete, "stopped": self.stopped,
            "error": self.error, "parts": self.parts, "delivered": self.delivered, "confirmed": self.confirmed,
            "failed": self.failed, "pending": self.pending, "in_doubt": self.in_doubt, "undone": self.undone,
            "records": self.records, "records_delivered": self.records_delivered,
            "rejected_records": self.rejected_records, "rejected_parts": self.rejected_parts,
            "unconfirmed": self.unconfirmed}
        if journal is not None:
            doc.update(type=journal.type, base_url=journal.base_url, upload_path=journal.upload_path,
                       last_send_at=to_iso(journal.last_send_at),
                       part_states=[{"index": e.index, "file": e.file, "state": str(e.state), "records": e.records,
                                     "attempts": e.attempts, "already_processed": e.already_processed,
                                     "in_doubt": e.in_doubt, "sent_at": e.sent_at, "error": e.error}
                                    | stats_fields(e)
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
    delivered = [e for e in journal.parts if e.delivered]
    rejected = [e for e in delivered if (e.unsuccessful_records or 0) > 0]
    return UploadSummary(journal=str(journal.path), parts=len(journal.parts), delivered=c["delivered"],
                         confirmed=c["confirmed"], failed=c["failed"], pending=len(journal.parts) - c["delivered"],
                         records=sum(e.records for e in journal.parts), records_delivered=c["records_delivered"],
                         complete=c["delivered"] == len(journal.parts), stopped=stopped, error=error,
                         in_doubt=c["in_doubt"], undone=c["undone"],
                         rejected_records=sum(e.unsuccessful_records or 0 for e in rejected),
                         rejected_parts=len(rejected),
                         unconfirmed=sum(1 for e in delivered if e.state is not PartState.CONFIRMED))


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
    """Each part with the earliest time it can be sent (``None`` for parts already delivered or undone).

    A last send time in the future (a clock stepped back, an edited journal) counts as now: the wait is never
    longer than one interval.
    """
    out: list[tuple[PartEntry, float | None]] = []
    due = now if journal.last_send_at is None else max(now, min(journal.last_send_at, now) + interval_s)
    for entry in journal.parts:
        if entry.delivered or entry.state is PartState.UNDONE:
            out.append((entry, None))
        else:
            out.append((entry, due))
            due += interval_s
    return out


class Uploader:
    """Sends a journal's parts: one at a time, in order, at least ``interval_s`` apart (across restarts).

    ``clock`` is the wall clock (journal times), ``monotonic`` times the interval within the run (default:
    ``clock``, as tests give one fake clock for both).
    """

    def __init__(self, *, client: CgClient, journal: Journal, interval_s: float,
                 clock: Callable[[], float], sleep: Callable[[float], object], rng: random.Random,
                 retry: RetryPolicy | None = None, should_stop: Callable[[], bool] = lambda: False,
                 on_event: Callable[[UploadEvent], None] | None = None, lookup: bool = True,
                 lookup_delay_s: float = 5.0, lookup_every_s: float = 15.0, confirm_wait_s: float = 60.0,
                 monotonic: Callable[[], float] | None = None) -> None:
        self.client = client
        self.journal = journal
        self.interval_s = interval_s
        self.clock = clock
        self.monotonic = monotonic or clock
        self.sleep = sleep
        self.rng = rng
        self.retry = retry or RetryPolicy()
        self.should_stop = should_stop
        self.on_event = on_event
        self.lookup = lookup and journal.statistics_path is not None
        self.lookup_delay_s = lookup_delay_s
        self.lookup_every_s = max(0.01, lookup_every_s)  # never a busy loop
        self.confirm_wait_s = confirm_wait_s
        self._lookup_at: dict[int, float] = {}        # monotonic times
        self._lookup_warned: set[int] = set()
        self._next_send_mono: float | None = None     # the interval, within this run

    # --- events -----------------------------------------------------------------------------------------
    def _emit(self, kind: str, entry: PartEntry | None = None, **extra: Any) -> None:
        if self.on_event is None:
            return
        parts = self.journal.parts
        now = self.clock()
        if entry is not None:
            extra.setdefault("attempt", entry.attempts)   # every event of a part carries its attempt number
        plan = schedule(self.journal, interval_s=self.interval_s, now=now)
        upcoming = [due for _, due in plan if due is not None]
        self.on_event(UploadEvent(
            kind=kind, at=now, parts=len(parts), part=entry.index if entry else None,
            file=entry.file if entry else None, records=entry.records if entry else 0, entry=entry,
            records_sent=sum(e.records for e in parts if e.delivered), records_total=sum(e.records for e in parts),
            delivered=sum(1 for e in parts if e.delivered),
            next_send_at=upcoming[0] if upcoming else None, eta_at=upcoming[-1] if upcoming else None, **extra))

    # --- the run ----------------------------------------------------------------------------------------
    def _start(self) -> None:
        """Settle what the journal says before the first send: a part left ``sending`` (the run that sent it
        ended mid-request) is in doubt; a last send time in the future waits one interval at most."""
        journal = self.journal
        for entry in journal.parts:
            if entry.state is PartState.SENDING:
                journal.update(entry.index, state=PartState.IN_DOUBT, maybe_stored=True,
                               first_sending_at=entry.first_sending_at or entry.sending_at)
        now, mono = self.clock(), self.monotonic()
        last = journal.last_send_at
        if last is not None and last > now:
            self._emit("clock-warning", message=f"the journal's last send time is {last - now:.0f} s in the future "
                       "(a clock stepped back, or an edited journal): counted as now, so the next send waits "
                       "one interval")
            journal.last_send_at = now
            journal.save()
            last = now
        if last is not None:
            self._next_send_mono = mono + max(0.0, last + self.interval_s - now)

    def run(self) -> UploadSummary:
        """Send every part not yet delivered; return when all are, or when asked to stop.

        Raises :class:`ApiError` when CG refuses a part (other than 400103), :class:`TransportError` when
        faults outlive the retries, :class:`ManifestError` when a part file does not match the manifest.
        The journal is saved in every case.
        """
        journal = self.journal
        if not journal.path.exists():
            journal.save()
        if any(e.state is PartState.UNDONE for e in journal.parts):
            raise UploadError(f"the uploads of {journal.path} were undone: move that journal away to send the "
                              "parts again")
        for entry in journal.parts:  # check every part before the first send, not hours later
            if not entry.delivered:
                check_part(journal.folder, entry)
        self._start()
        for entry in journal.parts:
            if self.lookup and (entry.delivered and entry.upload_id is None):
                self._lookup_at[entry.index] = self.monotonic()
        self._emit("start")
        for index in range(1, len(journal.parts) + 1):
            entry = journal.part(index)
            if entry.delivered:
                continue
            if entry.in_doubt and self._settle(index):
                continue
            due = self.monotonic() if self._next_send_mono is None else self._next_send_mono
            if self.monotonic() < due:
                self._emit("wait", entry, delay_s=due - self.monotonic())
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

    def _settle(self, index: int) -> bool:
        """Look a part in doubt up in CG's statistics: True (confirmed, not to be sent again) if CG holds it."""
        if not self.lookup:
            return False
        entry = self.journal.part(index)
        try:
            found = find_upload(self.client, self.journal, entry)
        except UploadError as exc:
            # not settled: a resend is safe (CG answers 400103 for a file it holds)
            self._emit("lookup-failed", entry, message=str(exc))
            return False
        if found is None:
            return False
        entry = self.journal.update(index, state=PartState.CONFIRMED, confirmed_at=to_iso(self.clock()),
                                    maybe_stored=False, error=None, **found)
        self._lookup_at.pop(index, None)
        self._emit("confirmed", entry)
        return True

    def _send(self, index: int, data: bytes) -> bool:
        """Send one part until CG has it; False if a stop was asked for during a wait."""
        journal = self.journal
        retries = 0
        first = journal.part(index)
        if self.lookup and first.first_sending_at is None and first.id_floor is None:
            # what CG lists before this part leaves is not this part's upload
            floor = id_floor(self.client, journal, now=self.clock())
            if floor is not None:
                journal.update(index, id_floor=floor)
        while True:
            before = journal.part(index)
            now = self.clock()
            self._next_send_mono = self.monotonic() + self.interval_s   # every attempt counts for CG's rule
            # the attempt has no end yet: a run cut off now leaves a window open to the time it is looked up
            entry = journal.update(index, state=PartState.SENDING, attempts=before.attempts + 1,
                                   sending_at=to_iso(now), first_sending_at=before.first_sending_at or to_iso(now),
                                   answered_at=None, last_send_at=now)
            self._emit("sending", entry, attempt=entry.attempts)
            try:
                answer = self.client.upload(journal.upload_path, filename=entry.file, content=data,
                                            content_type=content_type_for(entry.file))
            except ApiError as exc:
                if exc.code == CODE_ALREADY_PROCESSED:
                    # CG already has this very file (a resend after a crash or a lost answer): delivered.
                    entry = journal.update(index, state=PartState.SENT, sent_at=to_iso(self.clock()),
                                           answered_at=to_iso(self.clock()), already_processed=True, error=None,
                                           maybe_stored=False,
                                           answer={"status": exc.status, "data": None, "code": exc.code,
                                                   "message": exc.api_message})
                    self._sent(entry, "already-processed")
                    return True
                # a refusal of this attempt: an earlier one in doubt stays in doubt
                journal.update(index, state=PartState.FAILED, answered_at=to_iso(self.clock()),
                               first_sending_at=before.first_sending_at if before.maybe_stored else None,
                               error={"kind": "api", "status": exc.status, "code": exc.code,
                                      "message": exc.api_message or str(exc)})
                self._emit("failed", journal.part(index), message=str(exc))
                raise
            except RetryableError as exc:
                retries += 1
                doubt = exc.ambiguous or before.maybe_stored
                error = {"kind": "transport", "status": exc.status, "code": exc.code, "message": str(exc),
                         "ambiguous": exc.ambiguous}
                # a 429 or a refused connection: certainly not taken; anything else may have reached CG, and a
                # later 429 or 5xx never clears an earlier doubt
                entry = journal.update(index, state=PartState.IN_DOUBT if doubt else PartState.PENDING,
                                       maybe_stored=doubt, error=error, answered_at=to_iso(self.clock()),
                                       first_sending_at=entry.first_sending_at if doubt else None)
                if retries >= self.retry.max_attempts:
                    self._emit("failed", entry, message=str(exc))
                    state = ("in doubt: CG may hold it ('cgformat status' shows it; a resend is safe)" if doubt
                             else "not sent")
                    raise TransportError(f"part {index} ({entry.file}): {exc}; gave up after {retries} attempts, "
                                         f"the part is {state}. The journal is saved: run the same command again "
                                         "to resume") from None
                delay = self.retry.delay(retries, self.rng, exc.retry_after)
                if doubt:   # a resend is a send for CG's 10-minute rule
                    delay = max(delay, self._next_send_mono - self.monotonic())
                self._emit("retry", entry, attempt=entry.attempts, delay_s=delay, message=str(exc))
                if self._wait_until(self.monotonic() + delay):
                    return False
                if doubt and self._settle(index):
                    return True
                continue
            entry = journal.update(index, state=PartState.SENT, sent_at=to_iso(self.clock()),
                                   answered_at=to_iso(self.clock()), error=None, maybe_stored=False,
                                   answer=answer.to_dict())
            self._sent(entry, "sent")
            return True

    def _sent(self, entry: PartEntry, kind: str) -> None:
        if self.lookup:
            self._lookup_at[entry.index] = self.monotonic() + self.lookup_delay_s
        self._emit(kind, entry)

    # --- waiting, and looking parts up meanwhile --------------------------------------------------------
    def _wait_until(self, due: float) -> bool:
        """Wait until ``due`` (monotonic), looking sent parts up meanwhile; True if a stop was asked for."""
        while True:
            if self.should_stop():
                return True
            now = self.monotonic()
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
        now = self.monotonic()
        self._lookup_at = dict.fromkeys(self._lookup_at, now)
        deadline = now + self.confirm_wait_s
        while self._lookup_at:
            if self.should_stop():
                return True
            now = self.monotonic()
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
            found = find_upload(self.client, self.journal, entry)
        except UploadError as exc:
            self._lookup_at[index] = self.monotonic() + self.lookup_every_s
            if index not in self._lookup_warned:
                self._lookup_warned.add(index)
                self._emit("lookup-failed", entry, message=str(exc))
            return
        if found is None:
            self._lookup_at[index] = self.monotonic() + self.lookup_every_s
            return
        del self._lookup_at[index]
        entry = self.journal.update(index, state=PartState.CONFIRMED, confirmed_at=to_iso(self.clock()),
                                    maybe_stored=False, **found)
        self._emit("confirmed", entry)

    def find_upload(self, entry: PartEntry) -> dict[str, Any] | None:
        """CG's statistics row for a sent part, matched by evidence (see :mod:`.match`), as entry fields."""
        return find_upload(self.client, self.journal, entry)

