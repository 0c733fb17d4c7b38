"""The upload, status and undo jobs, one call each: what ``cgformat upload``, ``status`` and ``undo`` do.

As :mod:`cgformat.jobs` holds the jobs on files, this module holds the jobs on CG's File API; the commands
are thin layers over them. Each job takes the journal's lock (a second run on the same parts, in another
thread or process, gets :class:`~cgformat.errors.JournalBusy` and sends or deletes nothing), makes the same
checks and refusals as the command, and reads credentials from the environment (``CG_API_KEY``, or
``CG_CLIENT_ID`` + ``CG_CLIENT_SECRET``) unless given a :class:`Credentials`. A job names its options as
keyword parameters in its messages; a command runs it under :func:`cgformat._naming.cli_naming`, so that
the same message names the flag.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeAlias

import httpx

from .._naming import option
from ..errors import ApiError, JournalBusy, NotSent, UsageError
from ..manifest import Manifest
from ._exchange import http_client
from .client import (
    AUTH_URLS,
    CODE_FILE_NOT_FOUND,
    REGIONS,
    STATISTICS_PATHS,
    TOKEN_PATH,
    CgClient,
    Credentials,
    check_url,
    is_cg_host,
    origin,
    resolve_auth_url,
    resolve_base_url,
)
from .journal import Journal, PartEntry, PartState, is_busy, journal_lock, journal_path_for, to_iso
from .match import AmbiguousMatch, find_upload
from .plan import UploadPlan, plan_upload
from .runner import RetryPolicy, Uploader, UploadEvent, UploadSummary, stats_fields
from .target import Unsound, check_interval, resolve_target, upload_path_for

__all__ = ["PreparedUpload", "StopRequest", "UndoEvent", "UndoSummary", "Unsettled", "UploadStatus", "connect",
           "endpoints", "http", "locked_journal", "prepare_upload", "status", "stop_functions", "undo", "upload",
           "upload_plan"]

StopRequest: TypeAlias = threading.Event | Callable[[], bool]
"""A request to stop: a :class:`threading.Event` set from another thread, or a callable that says whether
to stop now (asked at least every quarter second while the uploader waits)."""

_POLL_S = 0.25   # how often a callable stop request is asked during a wait


def stop_functions(stop: StopRequest | None) -> tuple[Callable[[], bool], Callable[[float], object]]:
    """``(should_stop, sleep)`` for the uploader: a sleep that ends as soon as a stop is asked for."""
    if stop is None:
        return (lambda: False), time.sleep
    if isinstance(stop, threading.Event):
        return stop.is_set, stop.wait
    asked = stop

    def sleep(seconds: float) -> None:
        end = time.monotonic() + seconds
        while not asked():
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, _POLL_S))

    return (lambda: bool(asked())), sleep


def http(base_url: str, timeout: float) -> httpx.Client:
    """The HTTP client of a job (tests replace it): ``timeout`` bounds each whole exchange, and a proxy from
    the environment never catches a local sandbox's."""
    return http_client(base_url, timeout)


def endpoints(journal: Journal | None, region: str | None, base_url: str | None,
              auth_url: str | None) -> tuple[str, str]:
    """(base URL, token endpoint) the credentials go to: a host named by the caller, or CG's own.

    A journal is a file anyone who can write the parts folder can edit: the server it names is used without
    ``base_url`` only when it is one of CG's hosts; another one needs the same ``base_url`` again. A token
    endpoint is taken from the journal only when it is CG's, or on the host the base URL names.
    """
    if region or base_url:
        url = resolve_base_url(region=region, base_url=base_url)
    elif journal is None:
        url = resolve_base_url()   # says how to name one
    else:
        url = check_url(journal.base_url, f"base URL of {journal.path}")
        if not is_cg_host(url):
            raise UsageError(f"{journal.path} says its parts went to {url!r}, which is not one of CG's hosts: "
                             f"credentials go only to a host named by the caller, so give {option('base_url', url)} "
                             "again (if that is where they went)")
    if auth_url:
        return url, resolve_auth_url(auth_url=auth_url)
    stored = journal.auth_url if journal is not None else None
    if stored:
        try:
            stored = check_url(stored, "auth URL")
        except UsageError:
            stored = None
    if stored and (is_cg_host(stored) or origin(stored) == origin(url)):
        return url, stored
    if region or base_url:
        return url, resolve_auth_url(region=region, base_url=base_url)
    named = next((r for r, u in REGIONS.items() if origin(u) == origin(url)), None)
    return url, AUTH_URLS[named] if named else url + TOKEN_PATH


@contextmanager
def connect(journal: Journal | None, *, region: str | None, base_url: str | None, auth_url: str | None,
            timeout: float, credentials: Credentials | None) -> Iterator[CgClient]:
    """A client for CG (or a sandbox). With a journal, the server is the one its parts went to: another one
    is refused (its upload ids are not these uploads: deleting them there would delete someone else's)."""
    url, token_url = endpoints(journal, region, base_url, auth_url)
    if journal is not None and url != journal.base_url:
        raise UsageError(f"the uploads of {journal.path} went to {journal.base_url!r}, not {url!r}: give "
                         f"{option('base_url', journal.base_url)} (or leave it out, if that is one of CG's hosts)")
    creds = credentials if credentials is not None else Credentials.from_env(os.environ)
    with http(url, timeout) as client:
        yield CgClient(client, base_url=url, credentials=creds, auth_url=token_url, timeout=timeout)


@contextmanager
def locked_journal(path: Path, *, doing: str) -> Iterator[Journal]:
    """The journal at ``path``, read under its lock (see :func:`journal_lock`); a missing or damaged journal
    is refused first, before a lock file is made beside it."""
    Journal.load(path, clock=time.time)
    with journal_lock(path, doing=doing):
        yield Journal.load(path, clock=time.time)


# --- upload ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class _Settled:
    """An upload's target, server, path and interval, checked; the journal a previous run left, if any."""

    manifest: Manifest
    journal_path: Path
    record_type: str
    previous: Journal | None
    url: str
    token_url: str
    upload_path: str
    interval_s: float


def _found(target: Path, *, record_type: str | None, profile: str | None) -> tuple[Manifest, Path, str]:
    """The manifest, journal path and record type of a target, or :class:`NotSent` when nothing would go."""
    found = resolve_target(target, record_type=record_type, profile_name=profile)
    if isinstance(found, Unsound):
        raise NotSent(found.message(), codes=found.codes)
    manifest = found.manifest
    if not any(part.records for part in manifest.parts):
        # nothing to send: say why, and leave no journal (it would keep the folder from a new split)
        why = (f"all {manifest.rejected:,} record(s) of {manifest.source} were rejected: see "
               f"{target / (manifest.rejects_file or 'rejects')} (column _errors), fix them and split again"
               if manifest.rejected else f"{manifest.source} had no records")
        raise NotSent(f"nothing to upload in {target}: {why}")
    return manifest, found.journal_path, found.record_type


def _settle(manifest: Manifest, journal_path: Path, record_type: str, *, region: str | None,
            base_url: str | None, auth_url: str | None, upload_path: str | None, interval: float | None,
            allow_short_interval: bool) -> _Settled:
    previous = Journal.load(journal_path, clock=time.time) if journal_path.exists() else None
    if previous is not None and previous.undone:
        raise UsageError(f"the uploads of {journal_path} were undone ('cgformat undo'); to send the parts again, "
                         f"move that journal away first")
    url, token_url = endpoints(previous, region, base_url, auth_url)
    path = upload_path or (previous.upload_path if previous is not None else upload_path_for(record_type))
    interval_s = manifest.profile.interval_s if interval is None else interval
    check_interval(manifest, record_type=record_type, url=url, interval_s=interval_s, given=interval is not None,
                   allow_short=allow_short_interval)
    return _Settled(manifest=manifest, journal_path=journal_path, record_type=record_type, previous=previous,
                    url=url, token_url=token_url, upload_path=path, interval_s=interval_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedUpload:
    """An upload checked and holding its journal's lock: the journal (resumed or new) and where it sends."""

    journal: Journal
    url: str
    token_url: str
    upload_path: str
    interval_s: float

    def run(self, *, credentials: Credentials | None = None, retry: RetryPolicy | None = None,
            timeout: float = 120.0, confirm_wait: float = 60.0, xml_answers: bool = False,
            on_event: Callable[[UploadEvent], None] | None = None,
            stop: StopRequest | None = None) -> UploadSummary:
        """Send the parts not yet delivered (see :func:`upload`)."""
        creds = credentials if credentials is not None else Credentials.from_env(os.environ)
        should_stop, sleep = stop_functions(stop)
        with http(self.url, timeout) as transport:
            client = CgClient(transport, base_url=self.url, credentials=creds, auth_url=self.token_url,
                              timeout=timeout, response_format="xml" if xml_answers else "json")
            uploader = Uploader(client=client, journal=self.journal, interval_s=self.interval_s, clock=time.time,
                                sleep=sleep, should_stop=should_stop,
                                rng=random.Random(),  # noqa: S311  (jitter, not crypto)
                                retry=retry, on_event=on_event, confirm_wait_s=confirm_wait,
                                monotonic=time.monotonic)
            return uploader.run()


_LEAST_S = {"interval": 0.0, "timeout": 0.05, "confirm_wait": 0.0}


def _check_seconds(**values: float | None) -> None:
    """Refuse a duration below its least (a negative interval, a NaN), naming the parameter."""
    for name, value in values.items():
        if value is not None and not value >= _LEAST_S[name]:   # NaN too
            raise UsageError(f"{option(name, value)} is out of range: it is at least {_LEAST_S[name]:g} seconds")


@contextmanager
def prepare_upload(target: str | os.PathLike[str], *, record_type: str | None = None, region: str | None = None,
                   base_url: str | None = None, auth_url: str | None = None, upload_path: str | None = None,
                   profile: str | None = None, interval: float | None = None,
                   allow_short_interval: bool = False) -> Iterator[PreparedUpload]:
    """Check an upload and hold its journal's lock for the block: the first half of :func:`upload`."""
    _check_seconds(interval=interval)
    manifest, journal_path, typ = _found(Path(target), record_type=record_type, profile=profile)
    # one run at a time on these parts: a second one would send them again, ahead of the interval
    with journal_lock(journal_path, doing="this upload"):
        s = _settle(manifest, journal_path, typ, region=region, base_url=base_url, auth_url=auth_url,
                    upload_path=upload_path, interval=interval, allow_short_interval=allow_short_interval)
        journal = Journal.open(journal_path, manifest=manifest, type=typ, base_url=s.url, auth_url=s.token_url,
                               upload_path=s.upload_path, statistics_path=STATISTICS_PATHS.get(typ), clock=time.time)
        yield PreparedUpload(journal=journal, url=s.url, token_url=s.token_url, upload_path=s.upload_path,
                             interval_s=s.interval_s)


def upload(target: str | os.PathLike[str], *, record_type: str | None = None, region: str | None = None,
           base_url: str | None = None, auth_url: str | None = None, upload_path: str | None = None,
           profile: str | None = None, interval: float | None = None, allow_short_interval: bool = False,
           credentials: Credentials | None = None, retry: RetryPolicy | None = None, timeout: float = 120.0,
           confirm_wait: float = 60.0, xml_answers: bool = False,
           on_event: Callable[[UploadEvent], None] | None = None, stop: StopRequest | None = None) -> UploadSummary:
    """Send a split folder's parts (or one file) to CG's File API, in order and on the interval.

    ``target`` is a folder written by :func:`cgformat.split` (or its ``manifest.json``), or a single file
    (then ``record_type`` is required; it is checked first, against ``profile``'s limits). Where: ``region``
    (``eu``, ``us``, ``au``) or ``base_url`` (a sandbox's), and ``auth_url`` for OAuth2; a resumed upload
    goes where its journal says, if that is one of CG's hosts. ``interval`` (seconds between sends) defaults
    to the manifest's profile; a shorter one than CG's 600 s is refused against CG's hosts unless
    ``allow_short_interval``. Progress is kept in the journal (``DIR/upload-journal.json``): call again to
    resume. ``on_event`` receives an :class:`UploadEvent` at each step (every part's sending, with its
    attempt number, and its sent or confirmed). ``stop`` ends the run within a second, also during the wait
    for the interval (a send under way is let finish); the summary then says ``stopped="interrupted"``.

    Raises :class:`~cgformat.errors.JournalBusy` when another run (thread or process) holds the same journal,
    :class:`~cgformat.errors.NotSent` when there is nothing to send or a single file CG would garble,
    :class:`~cgformat.errors.UsageError` for options or credentials that do not fit,
    :class:`~cgformat.errors.ApiError` when CG refuses a part, :class:`~cgformat.errors.TransportError` when
    faults outlive the retries (the journal is saved: call again), :class:`~cgformat.errors.ManifestError`
    when a part file changed since the split.
    """
    _check_seconds(interval=interval, timeout=timeout, confirm_wait=confirm_wait)
    with prepare_upload(target, record_type=record_type, region=region, base_url=base_url, auth_url=auth_url,
                        upload_path=upload_path, profile=profile, interval=interval,
                        allow_short_interval=allow_short_interval) as prepared:
        return prepared.run(credentials=credentials, retry=retry, timeout=timeout, confirm_wait=confirm_wait,
                            xml_answers=xml_answers, on_event=on_event, stop=stop)


def upload_plan(target: str | os.PathLike[str], *, record_type: str | None = None, region: str | None = None,
                base_url: str | None = None, auth_url: str | None = None, upload_path: str | None = None,
                profile: str | None = None, interval: float | None = None,
                allow_short_interval: bool = False) -> UploadPlan:
    """The dry run of :func:`upload`: every part checked and scheduled as the run would send it, nothing sent
    and nothing written (no lock, no journal); the same refusals. ``plan.problems`` counts the parts that do
    not match the manifest."""
    _check_seconds(interval=interval)
    manifest, journal_path, typ = _found(Path(target), record_type=record_type, profile=profile)
    s = _settle(manifest, journal_path, typ, region=region, base_url=base_url, auth_url=auth_url,
                upload_path=upload_path, interval=interval, allow_short_interval=allow_short_interval)
    return plan_upload(manifest, journal_path, record_type=typ, base_url=s.url, upload_path=s.upload_path,
                       interval_s=s.interval_s, clock=time.time)


# --- status ---------------------------------------------------------------------------------------------
def _refresh(client: CgClient, journal: Journal, entry: PartEntry) -> tuple[PartEntry, AmbiguousMatch | None]:
    """The part after looking it up in CG's statistics by evidence, and the refusal when it is ambiguous."""
    try:
        found = find_upload(client, journal, entry)
    except AmbiguousMatch as exc:
        return entry, exc
    if found is None:
        return entry, None
    return journal.update(entry.index, state=PartState.CONFIRMED, maybe_stored=False,
                          confirmed_at=entry.confirmed_at or to_iso(time.time()), **found), None


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsettled:
    """A part CG's statistics cannot settle: more than one upload could be it (``candidates``, CG's ids)."""

    part: int
    file: str
    candidates: tuple[int | None, ...]   # None: a row whose id cannot be read
    message: str


def _unsettled(entry: PartEntry, exc: AmbiguousMatch) -> Unsettled:
    return Unsettled(part=entry.index, file=entry.file, candidates=tuple(c.upload_id for c in exc.candidates),
                     message=str(exc))


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadStatus:
    """What CG made of each part of an upload, as its journal holds it after asking CG's statistics.

    ``parts`` in order; a part left ``sending`` by a run that no longer holds the journal shows as in doubt.
    ``counts`` has the parts per state plus ``delivered``, ``in_doubt`` and ``records_delivered``.
    ``unsettled`` lists the parts two uploads could be (not settled: CG must be asked otherwise).
    ``not_asked`` says why CG was not asked (``offline``, or another run holds the journal), else None.
    """

    journal: str
    base_url: str
    record_type: str
    parts: tuple[PartEntry, ...]
    counts: Mapping[str, int]
    successful_records: int       # CG's statistics, undone parts left out
    unsuccessful_records: int
    unsettled: tuple[Unsettled, ...] = ()
    not_asked: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document (``cgformat_status`` 1)."""
        rows = [{"index": e.index, "file": e.file, "state": str(e.state), "records": e.records,
                 "attempts": e.attempts, "sent_at": e.sent_at, "already_processed": e.already_processed,
                 "in_doubt": e.in_doubt, "undone_at": e.undone_at, "error": e.error} | stats_fields(e)
                for e in self.parts]
        c = dict(self.counts)
        return {"cgformat_status": 1, "journal": self.journal, "base_url": self.base_url, "type": self.record_type,
                "counts": c, "undone": c["undone"], "in_doubt": c["in_doubt"],
                "successful_records": self.successful_records, "unsuccessful_records": self.unsuccessful_records,
                "parts": rows}


def status(target: str | os.PathLike[str], *, region: str | None = None, base_url: str | None = None,
           auth_url: str | None = None, credentials: Credentials | None = None, offline: bool = False,
           timeout: float = 60.0) -> UploadStatus:
    """What CG made of each uploaded part of ``target`` (a folder or file :func:`upload` sent).

    The parts CG may hold are looked up in CG's statistics (by evidence, never by name alone) and the
    journal is updated, under its lock; while another run holds it, or with ``offline``, the journal is
    shown as it stands (``not_asked`` says why). Raises :class:`~cgformat.errors.NotUploaded` when there is
    no journal, :class:`~cgformat.errors.JournalDamaged`, and the errors of asking CG.
    """
    _check_seconds(timeout=timeout)
    path = journal_path_for(os.fspath(target))
    journal: Journal | None = None
    unclear: list[Unsettled] = []
    not_asked: str | None = "offline" if offline else None
    if not offline:
        # refreshing writes the journal: not while an upload writes it too (the older copy would win)
        try:
            with locked_journal(path, doing="asking CG") as journal, \
                    connect(journal, region=region, base_url=base_url, auth_url=auth_url, timeout=timeout,
                            credentials=credentials) as client:
                for entry in journal.parts:
                    if entry.may_be_in_cg:
                        _, ambiguous = _refresh(client, journal, entry)
                        if ambiguous is not None:
                            unclear.append(_unsettled(entry, ambiguous))
        except JournalBusy as exc:
            not_asked = str(exc)
            journal = None
    if journal is None:
        journal = Journal.load(path, clock=time.time)
    parts = tuple(journal.parts)
    if not is_busy(path):   # no run holds the journal: a part left sending was cut off mid-request
        parts = tuple(replace(e, state=PartState.IN_DOUBT) if e.state is PartState.SENDING else e for e in parts)
    live = [e for e in parts if e.state is not PartState.UNDONE]   # what was deleted counts for nothing
    return UploadStatus(journal=str(journal.path), base_url=journal.base_url, record_type=journal.type, parts=parts,
                        counts=MappingProxyType(journal.counts()),
                        successful_records=sum(e.successful_records or 0 for e in live),
                        unsuccessful_records=sum(e.unsuccessful_records or 0 for e in live),
                        unsettled=tuple(unclear), not_asked=not_asked)


# --- undo -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class UndoEvent:
    """One upload deleted (``kind`` ``deleted``) or found gone already (``already-gone``, CG's 400200)."""

    kind: str
    part: int
    parts: int
    upload_id: int
    file: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UndoSummary:
    """What an undo deleted, and what it could not: ``complete`` when CG holds nothing of the upload now.

    ``looked_up``: the parts CG might hold (none: nothing to undo). ``unlisted``: parts CG may hold that its
    statistics do not list yet (their id is unknown: undo again in a few minutes). ``unsettled``: parts two
    uploads could be. ``declined``: ``confirm`` said no, and nothing was deleted.
    """

    journal: str
    parts: int
    looked_up: int
    deleted: tuple[int, ...] = ()
    not_found: tuple[int, ...] = ()
    unlisted: tuple[PartEntry, ...] = ()
    unsettled: tuple[Unsettled, ...] = ()
    declined: bool = False

    @property
    def complete(self) -> bool:
        """Every upload CG may hold of the journal was deleted (or was gone)."""
        return not (self.unlisted or self.unsettled or self.declined)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document (``cgformat_undo`` 1)."""
        return {"cgformat_undo": 1, "journal": self.journal, "deleted": list(self.deleted),
                "not_found": list(self.not_found), "unknown": [e.file for e in self.unlisted],
                "in_doubt_unlisted": [e.file for e in self.unlisted if not e.delivered],
                "ambiguous": [{"part": u.part, "file": u.file, "candidates": list(u.candidates)}
                              for u in self.unsettled]}


def undo(target: str | os.PathLike[str], *, region: str | None = None, base_url: str | None = None,
         auth_url: str | None = None, credentials: Credentials | None = None, timeout: float = 60.0,
         confirm: Callable[[tuple[PartEntry, ...], str], bool] | None = None,
         on_event: Callable[[UndoEvent], None] | None = None) -> UndoSummary:
    """Delete from CG every upload of ``target``'s journal (CG removes every record an upload created,
    completed survey responses included).

    The parts CG may hold are looked up in its statistics first; ``confirm(parts, base_url)`` is asked before
    the first delete (False: nothing is deleted). The journal's lock is held throughout (an upload of the same
    parts meanwhile gets :class:`~cgformat.errors.JournalBusy`, and so does this undo while one runs).
    Raises :class:`~cgformat.errors.NotUploaded` when there is no journal, and the errors of asking CG.
    """
    _check_seconds(timeout=timeout)
    deleted: list[int] = []
    not_found: list[int] = []
    unclear: list[Unsettled] = []
    unlisted: list[PartEntry] = []
    # not while an upload sends
    with locked_journal(journal_path_for(os.fspath(target)), doing="this undo") as journal:
        todo = [e for e in journal.parts if e.may_be_in_cg]
        n = len(journal.parts)
        if todo:
            with connect(journal, region=region, base_url=base_url, auth_url=auth_url, timeout=timeout,
                         credentials=credentials) as client:
                known: list[PartEntry] = []
                for part in todo:
                    e, ambiguous = _refresh(client, journal, part)
                    if ambiguous is not None:
                        unclear.append(_unsettled(e, ambiguous))
                    elif e.upload_id is None:
                        unlisted.append(e)
                    else:
                        known.append(e)
                if known and confirm is not None and not confirm(tuple(known), client.base_url):
                    return UndoSummary(journal=str(journal.path), parts=n, looked_up=len(todo),
                                       unlisted=tuple(unlisted), unsettled=tuple(unclear), declined=True)
                for e in known:
                    assert e.upload_id is not None
                    try:
                        client.delete(e.upload_id)
                        deleted.append(e.upload_id)
                        kind = "deleted"
                    except ApiError as exc:
                        if exc.code != CODE_FILE_NOT_FOUND:
                            raise
                        not_found.append(e.upload_id)
                        kind = "already-gone"
                    journal.update(e.index, state=PartState.UNDONE, maybe_stored=False,
                                   undone_at=to_iso(time.time()))
                    if on_event is not None:
                        on_event(UndoEvent(kind=kind, part=e.index, parts=n, upload_id=e.upload_id, file=e.file))
    return UndoSummary(journal=str(journal.path), parts=n, looked_up=len(todo), deleted=tuple(deleted),
                       not_found=tuple(not_found), unlisted=tuple(unlisted), unsettled=tuple(unclear))
