"""Commands: upload, status, undo (CG's File API) and sandbox (a local stand-in for it).

Credentials come from the environment only: ``CG_API_KEY``, or ``CG_CLIENT_ID`` + ``CG_CLIENT_SECRET``.
Progress goes to stderr; ``--json`` documents and the ``status`` table go to stdout.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

import click
import httpx
import polars as pl
from rich.console import Console

from ..errors import ApiError, CgformatError, ManifestError, TransportError, UploadError, UsageError
from ..limits import PROFILES, LimitProfile, get_profile
from ..manifest import MANIFEST_NAME, Manifest, Part, load_manifest
from ..upload._exchange import http_client
from ..upload.client import (
    AUTH_URLS,
    CODE_FILE_NOT_FOUND,
    DEFAULT_UPLOAD_PATHS,
    REGIONS,
    STATISTICS_PATHS,
    TOKEN_PATH,
    UPLOAD_TYPES,
    CgClient,
    Credentials,
    check_url,
    is_cg_host,
    origin,
    resolve_auth_url,
    resolve_base_url,
)
from ..upload.journal import (
    Journal,
    JournalBusy,
    PartEntry,
    PartState,
    journal_lock,
    journal_path_for,
    to_iso,
)
from ..upload.match import AmbiguousMatch, find_upload
from ..upload.runner import (
    RetryPolicy,
    Uploader,
    UploadEvent,
    UploadSummary,
    check_part,
    schedule,
    stats_fields,
    summarize,
)
from ..upload.sandbox import Sandbox, parse_fault
from ._app import EXIT_DATA, EXIT_INCOMPLETE, EXIT_UPLOAD, EXIT_USAGE, main

CG_INTERVAL_S = 600     # CG's one upload every 10 minutes (spec §4)
_UPLOAD_FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xls": "xls", ".xml": "xml"}


# --------------------------------------------------------------------------------------------- helpers
def _server_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--auth-url", metavar="URL",
                     help="OAuth2 token endpoint (default: the region's, or BASE_URL/oauth2/token).")(f)
    f = click.option("--base-url", metavar="URL",
                     help="API base URL instead of a region's, e.g. a 'cgformat sandbox' (http://127.0.0.1:8765).")(f)
    f = click.option("--region", type=click.Choice(["eu", "us", "au"]), help="CG's region (its API host).")(f)
    return f


def _hhmmss(t: float | None) -> str:
    if t is None:
        return "-"
    when = datetime.fromtimestamp(t)
    return when.strftime("%H:%M:%S" if when.date() == datetime.now().date() else "%Y-%m-%d %H:%M:%S")


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


def _records(n: int) -> str:
    return f"{n:,} record" + ("" if n == 1 else "s")


def _upload_path(record_type: str) -> str:
    """The record type's upload path from its schema, else the client's table of defaults."""
    try:
        from ..schema import load_schema
        path = load_schema(record_type).upload_path
    except (ImportError, CgformatError):
        path = None
    return path or DEFAULT_UPLOAD_PATHS[record_type]


def _http(base_url: str, timeout: float) -> httpx.Client:
    # --timeout bounds each whole exchange; a proxy from the environment never catches a local sandbox's
    return http_client(base_url, timeout)


def _credentials() -> Credentials:
    return Credentials.from_env(os.environ)


def _emit_json(doc: dict[str, Any]) -> None:
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False))


class _Stop:
    """Ctrl-C handling: the first asks to stop (a wait ends at once, a send is let finish), a second aborts."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.event = threading.Event()
        self._say = say

    def handler(self, signum: int, frame: FrameType | None) -> None:
        """The SIGINT handler."""
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()
        self._say("cgformat: stopping after the current step (the journal is kept); Ctrl-C again to abort")

    def sleep(self, seconds: float) -> None:
        """Sleep, waking at once when a stop is asked for."""
        self.event.wait(seconds)

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Install the handler for the duration (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, self.handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


class _Progress:
    """Upload events as lines on stderr: styled with rich on a terminal, plain otherwise."""

    _STYLES: ClassVar[dict[str, str]] = {
        "sent": "green", "already-processed": "green", "confirmed": "cyan", "retry": "yellow",
        "lookup-failed": "yellow", "failed": "bold red", "stopped": "yellow", "wait": "dim"}

    def __init__(self, *, target: str, url: str, interval_s: float) -> None:
        self.target, self.url, self.interval_s = target, url, interval_s
        self.console = Console(stderr=True, highlight=False) if sys.stderr.isatty() else None

    def say(self, line: str, kind: str = "") -> None:
        """Print one progress line."""
        if self.console is not None:
            self.console.print(line, style=self._STYLES.get(kind), markup=False)
        else:
            click.echo(line, err=True)

    def __call__(self, ev: UploadEvent) -> None:
        line = self.describe(ev)
        if line:
            self.say(line, ev.kind)

    def describe(self, ev: UploadEvent) -> str | None:
        """The line for an event (None: nothing to show)."""
        where = f"part {ev.part} of {ev.parts}"
        e = ev.entry
        if ev.kind == "start":
            left = ev.parts - ev.delivered
            head = (f"upload: {ev.parts} parts, {_records(ev.records_total)} of {self.target} -> {self.url}; "
                    f"interval {_duration(self.interval_s)}")
            if ev.delivered:
                head += f"; resuming: {ev.delivered} parts already delivered, {left} left"
            if left:
                head += f"; ETA {_hhmmss(ev.eta_at)}"
            return head
        if ev.kind == "wait":
            return f"{where}: waiting {_duration(ev.delay_s or 0)}, until {_hhmmss(ev.next_send_at)} (the interval)"
        if ev.kind == "sending":
            extra = f", attempt {ev.attempt}" if ev.attempt > 1 else ""
            return f"{where}: sending {ev.file} ({_records(ev.records)}){extra}"
        if ev.kind in ("sent", "already-processed"):
            what = "sent" if ev.kind == "sent" else "CG already had this file (400103): counted as delivered"
            line = f"{where}: {what}; {ev.records_sent:,} of {_records(ev.records_total)} sent"
            if ev.next_send_at is not None:
                line += (f"; next send {_hhmmss(ev.next_send_at)} (in {_duration(ev.next_send_at - ev.at)}); "
                         f"ETA {_hhmmss(ev.eta_at)}")
            return line
        if ev.kind == "retry":
            return f"{where}: {ev.message}; retrying in {_duration(ev.delay_s or 0)}"
        if ev.kind == "failed":
            return f"{where}: failed: {ev.message}"
        if ev.kind == "confirmed" and e is not None:
            return (f"{where}: CG lists it as upload {e.upload_id}: {e.status}, {e.total_records} records, "
                    f"{e.successful_records} successful, {e.unsuccessful_records} unsuccessful")
        if ev.kind == "lookup-failed":
            return f"{where}: statistics lookup failed ({ev.message}); will try again"
        return None


# ---------------------------------------------------------------------------------------------- upload
def _single_file_manifest(path: Path, record_type: str, profile: LimitProfile) -> Manifest:
    """A one-part manifest for a file sent as it is, after checking it against the profile's limits and for
    what CG would garble or refuse whatever the customer's column mapping: an encoding other than UTF-8, a
    delimiter other than a comma, broken (ragged) records, control characters (a split folder was
    checked when it was split)."""
    fmt = _UPLOAD_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"{path}: CG takes .csv, .xls, .xlsx or .xml files; convert it first ('cgformat convert')")
    data = path.read_bytes()
    split_hint = f"split it first: cgformat split {path} --out DIR --type {record_type}, then upload DIR"
    if len(data) > profile.max_bytes:
        raise UsageError(f"{path} is {len(data):,} bytes, over the {profile.name} profile's "
                         f"{profile.max_bytes:,}-byte limit: {split_hint}")
    from .. import api  # reading the file to count its records needs the data layer (the CLI may use it)
    from ..validate import validate

    table = api.read_file(path)
    records = table.frame.height
    if records > profile.max_records:
        raise UsageError(f"{path} holds {records:,} records, over the {profile.name} profile's "
                         f"{profile.max_records:,}-record limit: {split_hint}")
    # no record type's columns here (a customer's mapping may name them otherwise): the file's own soundness
    report = validate(table, None, profile=profile, max_issues=10 * profile.max_records)   # every one listed
    if report.errors:
        codes = report.by_code.filter(pl.col("code").is_in(
            report.issues.filter(pl.col("severity") == "error")["code"].unique().implode()))
        found = ", ".join(f"{code} x{count}" for code, count, _ in codes.iter_rows())
        recode = {"non-utf8", "delimiter"} & set(codes["code"].to_list())
        click.echo(f"cgformat: error: {path} is not sent: {report.errors} error(s) CG would garble or refuse "
                   f"({found}); 'cgformat validate {path}' lists them"
                   + (f"; 'cgformat fix {path} FIXED' writes a UTF-8, comma-separated copy" if recode else ""),
                   err=True)
        sys.exit(EXIT_DATA)
    digest = hashlib.sha256(data).hexdigest()
    part = Part(file=path.name, records=records, bytes=len(data), sha256=digest, first_record=1,
                last_record=records)
    return Manifest(source=str(path), source_sha256=digest, type=record_type, format=fmt, profile=profile,
                    records=records, rejected=0, parts=(part,))


def _resolve_target(target: Path, record_type: str | None, profile_name: str | None
                    ) -> tuple[Manifest, Path, str]:
    """(manifest, journal path, record type) for a split folder, its manifest.json, or a single file."""
    if target.is_dir() or target.name == MANIFEST_NAME:
        folder = target if target.is_dir() else target.parent
        manifest = load_manifest(folder)
        if profile_name is not None:
            raise UsageError("--profile applies to a single file; a split folder's limits are in its manifest")
        typ = manifest.type
        if record_type and typ and record_type != typ:
            raise UsageError(f"--type {record_type} does not match the manifest's record type {typ!r}")
        typ = record_type or typ
        if typ is None:
            raise UsageError("the manifest names no record type: say --type "
                             + "|".join(UPLOAD_TYPES))
        return manifest, journal_path_for(folder), typ
    if record_type is None:
        raise UsageError("say which record type the file holds: --type " + "|".join(UPLOAD_TYPES))
    profile = get_profile(profile_name or ("revenue" if record_type == "revenue" else "api"))
    return _single_file_manifest(target, record_type, profile), journal_path_for(target), record_type


def _dry_run(manifest: Manifest, journal_path: Path, *, record_type: str, base_url: str, upload_path: str,
             interval_s: float, as_json: bool) -> None:
    url = base_url + upload_path
    if journal_path.exists():
        # the checks of the real run: a journal of another server, path or type is refused, not planned
        journal = Journal.load(journal_path, clock=time.time)
        journal.check_fits(manifest, type=record_type, base_url=base_url, upload_path=upload_path)
    else:
        journal = Journal.create(journal_path, manifest=manifest, type=record_type, base_url=url, auth_url=None,
                                 upload_path="", statistics_path=None, clock=time.time)
    plan = schedule(journal, interval_s=interval_s, now=time.time())
    rows: list[dict[str, Any]] = []
    for entry, due in plan:
        try:
            check_part(journal.folder, entry)
            check = "ok"
        except ManifestError as exc:
            check = str(exc)
        rows.append({"index": entry.index, "file": entry.file, "records": entry.records, "bytes": entry.bytes,
                     "state": str(entry.state), "check": check, "send_at": to_iso(due)})
    dues = [due for _, due in plan if due is not None]
    problems = sum(1 for r in rows if r["check"] != "ok")
    if as_json:
        _emit_json({"cgformat_upload_plan": 1, "url": url, "type": record_type, "interval_s": interval_s,
                    "journal": str(journal_path), "parts": rows, "to_send": len(dues), "problems": problems,
                    "first_send_at": to_iso(dues[0]) if dues else None,
                    "last_send_at": to_iso(dues[-1]) if dues else None})
    else:
        click.echo(f"plan: {len(rows)} parts, {_records(sum(r['records'] for r in rows))}, type {record_type} "
                   f"-> {url}; interval {_duration(interval_s)}; journal {journal_path}")
        for r, (_, due) in zip(rows, plan, strict=True):
            when = f"send at {_hhmmss(due)}" if due is not None else f"already {r['state']}"
            click.echo(f"  part {r['index']:>4} of {len(rows)}  {r['file']}  {_records(r['records'])}, "
                       f"{r['bytes']:,} bytes  {r['check']}  {when}")
        click.echo(f"{len(dues)} to send" + (f", the last at {_hhmmss(dues[-1])}" if dues else "")
                   + "; nothing was sent (dry run)")
    if problems:
        raise ManifestError(f"{problems} part(s) do not match the manifest: see the plan above")


@main.command()
@click.argument("target", type=click.Path(exists=True, path_type=Path))
@click.option("--type", "record_type", type=click.Choice(UPLOAD_TYPES),
              help="Record type (default: the manifest's; required for a single file).")
@_server_options
@click.option("--upload-path", metavar="PATH",
              help="Endpoint path for this type instead of the schema's (e.g. CG's anonymous-survey path).")
@click.option("--profile", "profile_name", type=click.Choice(list(PROFILES)),
              help="Limits to check a single file against (default api; revenue for revenue).")
@click.option("--interval", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Seconds between sends (default: the manifest's profile, 600 for CG's File API).")
@click.option("--allow-short-interval", is_flag=True,
              help="Allow an --interval below CG's 600 s against CG's own hosts (if your contract allows it).")
@click.option("--max-attempts", type=click.IntRange(min=1), default=8, show_default=True,
              help="Attempts per part for connection errors, time-outs, 429 and 5xx.")
@click.option("--retry-wait", type=click.FloatRange(min=0), default=2.0, show_default=True, metavar="SECONDS",
              help="First backoff after a fault; doubled at each retry, with jitter.")
@click.option("--retry-cap", type=click.FloatRange(min=0), default=300.0, show_default=True, metavar="SECONDS",
              help="Longest backoff.")
@click.option("--timeout", type=click.FloatRange(min=0.05), default=120.0, show_default=True, metavar="SECONDS",
              help="Time-out of one whole exchange with CG (connect, send, the full answer).")
@click.option("--confirm-wait", type=click.FloatRange(min=0), default=60.0, show_default=True, metavar="SECONDS",
              help="After the last send, how long to look for the uploads in CG's statistics.")
@click.option("--xml", "xml_answers", is_flag=True, help="Ask CG for XML answers instead of JSON.")
@click.option("--dry-run", is_flag=True, help="Check every part, print the plan and schedule, send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def upload(target: Path, record_type: str | None, region: str | None, base_url: str | None, auth_url: str | None,
           upload_path: str | None, profile_name: str | None, interval: float | None, allow_short_interval: bool,
           max_attempts: int,
           retry_wait: float, retry_cap: float, timeout: float, confirm_wait: float, xml_answers: bool,
           dry_run: bool, as_json: bool) -> None:
    """Send a split folder's parts (or one file) to CG's File API, in order and on the interval.

    TARGET is a folder written by 'cgformat split' (its manifest.json lists the parts) or a single file.
    Progress is kept in TARGET/upload-journal.json (FILE.upload-journal.json for a file): run the same
    command again to resume after a stop or a crash. Credentials: CG_API_KEY, or CG_CLIENT_ID and
    CG_CLIENT_SECRET, in the environment. Exit 0 all sent, 4 refused by CG, 5 stopped with parts left.
    """
    manifest, journal_path, typ = _resolve_target(target, record_type, profile_name)
    if not any(part.records for part in manifest.parts):
        # nothing to send: say why, and leave no journal (it would keep the folder from a new split)
        why = (f"all {manifest.rejected:,} record(s) of {manifest.source} were rejected: see "
               f"{target / (manifest.rejects_file or 'rejects')} (column _errors), fix them and split again"
               if manifest.rejected else f"{manifest.source} had no records")
        click.echo(f"cgformat: nothing to upload in {target}: {why}", err=True)
        sys.exit(EXIT_DATA)
    # one run at a time on these parts: a second one would send them again, ahead of the interval
    with contextlib.nullcontext() if dry_run else journal_lock(journal_path, doing="this upload"):
        previous = Journal.load(journal_path, clock=time.time) if journal_path.exists() else None
        if previous is not None and previous.undone:
            raise UsageError(f"the uploads of {journal_path} were undone ('cgformat undo'); to send the parts again, "
                             f"move that journal away first")
        url, token_url = _endpoints(previous, region, base_url, auth_url)
        path = upload_path or (previous.upload_path if previous is not None else _upload_path(typ))
        interval_s = manifest.profile.interval_s if interval is None else interval
        if interval_s < CG_INTERVAL_S and is_cg_host(url) and not allow_short_interval:
            raise UsageError(f"an interval of {interval_s:g} s is shorter than CG's one upload every "
                             f"{CG_INTERVAL_S} s: CG may refuse or queue the parts. If your contract with CG "
                             "allows it, say so with --allow-short-interval")
        if dry_run:
            _dry_run(manifest, journal_path, record_type=typ, base_url=url, upload_path=path, interval_s=interval_s,
                     as_json=as_json)
            return
        credentials = _credentials()
        journal = Journal.open(journal_path, manifest=manifest, type=typ, base_url=url, auth_url=token_url,
                               upload_path=path, statistics_path=STATISTICS_PATHS.get(typ), clock=time.time)
        progress = _Progress(target=str(target), url=url + path, interval_s=interval_s)
        stop = _Stop(lambda line: progress.say(line, "stopped"))
        with _http(url, timeout) as http, stop.installed():
            client = CgClient(http, base_url=url, credentials=credentials, auth_url=token_url, timeout=timeout,
                              response_format="xml" if xml_answers else "json")
            uploader = Uploader(client=client, journal=journal, interval_s=interval_s, clock=time.time,
                                sleep=stop.sleep, should_stop=stop.event.is_set,
                                rng=random.Random(),  # noqa: S311  (jitter, not crypto)
                                retry=RetryPolicy(max_attempts=max_attempts, base_s=retry_wait, cap_s=retry_cap),
                                on_event=progress, confirm_wait_s=confirm_wait, monotonic=time.monotonic)
            try:
                summary = uploader.run()
            except TransportError as exc:
                # faults outlived the retries: nothing was refused, the run can simply resume later (exit 5, not 4)
                progress.say(f"cgformat: error: {exc}", "failed")
                _finish(journal, summarize(journal, stopped="error", error={"kind": "transport", "message": str(exc)}),
                        progress, as_json)
                sys.exit(EXIT_INCOMPLETE)
            except UploadError as exc:
                error = {"kind": "api" if isinstance(exc, ApiError) else "manifest", "message": str(exc),
                         "code": getattr(exc, "code", None)}
                # the error says what to do (fix the key, restore or split again): no blanket "resume" advice
                _finish(journal, summarize(journal, stopped="error", error=error), progress, as_json, refused=True)
                raise
            except KeyboardInterrupt:
                progress.say("cgformat: aborted; a part in flight is in doubt: the next run looks it up in CG's "
                             "statistics and resends it only if CG does not hold it", "failed")
                _finish(journal, summarize(journal, stopped="aborted"), progress, as_json)
                sys.exit(EXIT_INCOMPLETE)
        _finish(journal, summary, progress, as_json)
        if not summary.complete:
            sys.exit(EXIT_INCOMPLETE)
        if summary.rejected_records:
            sys.exit(EXIT_DATA)


def _finish(journal: Journal, summary: UploadSummary, progress: _Progress, as_json: bool, *,
            refused: bool = False) -> None:
    if summary.complete:
        progress.say(f"done: {summary.delivered} of {summary.parts} parts delivered "
                     f"({_records(summary.records_delivered)}), {summary.confirmed} confirmed in CG's statistics",
                     "sent")
        if summary.unconfirmed:
            progress.say(f"{summary.unconfirmed} part(s) not in CG's statistics yet: 'cgformat status "
                         f"{journal.folder}' shows later what CG made of them", "wait")
        if summary.rejected_records:
            progress.say(f"records rejected: CG's statistics list {_records(summary.rejected_records)} as "
                         f"unsuccessful in {summary.rejected_parts} part(s); 'cgformat status {journal.folder}' "
                         "shows CG's reason for each (its logs)", "failed")
    elif refused:
        progress.say(f"stopped by the error below: {summary.delivered} of {summary.parts} parts delivered "
                     f"({_records(summary.records_delivered)}), as the journal records", "stopped")
    else:
        progress.say(f"stopped: {summary.delivered} of {summary.parts} parts delivered "
                     f"({_records(summary.records_delivered)}); run the same command again to resume", "stopped")
    if summary.in_doubt and not summary.complete:
        progress.say(f"{summary.in_doubt} part(s) in doubt: their request may have reached CG. The next run looks "
                     "them up in CG's statistics and resends only what CG does not hold; 'cgformat undo' deletes "
                     "what CG holds of them", "stopped")
    if as_json:
        _emit_json(summary.to_dict(journal))


# ---------------------------------------------------------------------------------------------- status
def _endpoints(journal: Journal | None, region: str | None, base_url: str | None,
               auth_url: str | None) -> tuple[str, str]:
    """(base URL, token endpoint) the credentials go to: a host named on the command line, or CG's own.

    A journal is a file anyone who can write the parts folder can edit: the server it names is used without
    options only when it is one of CG's hosts; another one needs the same --base-url again. A token endpoint
    is taken from the journal only when it is CG's, or on the host the base URL names.
    """
    if region or base_url:
        url = resolve_base_url(region=region, base_url=base_url)
    elif journal is None:
        url = resolve_base_url()   # says how to name one
    else:
        url = check_url(journal.base_url, f"base URL of {journal.path}")
        if not is_cg_host(url):
            raise UsageError(f"{journal.path} says its parts went to {url!r}, which is not one of CG's hosts: "
                             f"credentials go only to a host named on the command line, so give --base-url {url} "
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
def _session(journal: Journal | None, region: str | None, base_url: str | None, auth_url: str | None,
             timeout: float) -> Iterator[CgClient]:
    """A client for CG (or a sandbox), with the credentials of the environment. With a journal, the server
    is the one its parts went to: another one is refused (its upload ids are not these uploads: deleting
    them there would delete someone else's)."""
    url, token_url = _endpoints(journal, region, base_url, auth_url)
    if journal is not None and url != journal.base_url:
        raise UsageError(f"the uploads of {journal.path} went to {journal.base_url!r}, not {url!r}: leave out "
                         f"--region / --base-url (the journal knows the server), or give that one")
    credentials = _credentials()
    with _http(url, timeout) as http:
        yield CgClient(http, base_url=url, credentials=credentials, auth_url=token_url, timeout=timeout)


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


def _status_row(e: PartEntry) -> dict[str, Any]:
    return {"index": e.index, "file": e.file, "state": str(e.state), "records": e.records, "attempts": e.attempts,
            "sent_at": e.sent_at, "already_processed": e.already_processed, "in_doubt": e.in_doubt,
            "undone_at": e.undone_at, "error": e.error} | stats_fields(e)


def _print_table(rows: list[dict[str, Any]]) -> None:
    head = ("part", "file", "state", "id", "status", "total", "ok", "failed", "logs")
    table: list[tuple[str, ...]] = [head]
    for r in rows:
        logs = r["logs"]
        first = (logs[0] if logs else "") + (f" (+{len(logs) - 1} more)" if len(logs) > 1 else "")
        state = r["state"] + (" (in doubt)" if r.get("in_doubt") and r["state"] == "failed" else "")
        table.append(tuple("" if v is None else str(v) for v in (
            r.get("index", ""), r.get("file", r.get("source_filename", "")), state, r["upload_id"], r["status"],
            r["total_records"], r["successful_records"], r["unsuccessful_records"], first)))
    widths = [max(len(row[i]) for row in table) for i in range(len(head) - 1)]
    for row in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1])


@main.command()
@click.argument("target", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--id", "upload_id", type=int, help="Show one upload by CG's id (with --type).")
@click.option("--type", "record_type", type=click.Choice([t for t, p in STATISTICS_PATHS.items() if p]),
              help="Record type of --id.")
@_server_options
@click.option("--offline", is_flag=True, help="Show the journal as it is, without asking CG.")
@click.option("--timeout", type=click.FloatRange(min=0.05), default=60.0, show_default=True, metavar="SECONDS")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
def status(target: Path | None, upload_id: int | None, record_type: str | None, region: str | None,
           base_url: str | None, auth_url: str | None, offline: bool, timeout: float, as_json: bool) -> None:
    """Show what CG made of each uploaded part: id, status, successful / unsuccessful records, logs.

    TARGET is an uploaded folder or file (its journal is refreshed from CG's statistics), or use
    --id N --type T for one upload.
    """
    if (target is None) == (upload_id is None):
        raise UsageError("give an uploaded folder or file, or --id N --type T")
    if upload_id is not None:
        if record_type is None:
            raise UsageError("--id needs --type (the statistics are per record type)")
        with _session(None, region, base_url, auth_url, timeout) as client:
            stats_path = STATISTICS_PATHS[record_type] or ""
            rows = [r for r in client.statistics(stats_path, upload_id=upload_id) if str(r.get("id")) == str(upload_id)]
        if not rows:
            raise ApiError(f"CG lists no {record_type} upload with id {upload_id}", code=CODE_FILE_NOT_FOUND)
        if as_json:
            _emit_json({"cgformat_status": 1, "uploads": rows})
        else:
            _print_table([{"upload_id": r.get("id"), "source_filename": r.get("source_filename"), "state": "",
                           "status": r.get("status"), "total_records": r.get("total_records"),
                           "successful_records": r.get("successful_records"),
                           "unsuccessful_records": r.get("unsuccessful_records"),
                           "logs": r.get("logs") if isinstance(r.get("logs"), list) else []} for r in rows])
            for log_line in rows[0].get("logs") or []:
                click.echo(f"  {log_line}")
        return
    assert target is not None
    path = journal_path_for(target)
    journal: Journal | None = None
    unclear: list[AmbiguousMatch] = []
    if not offline:
        # refreshing writes the journal: not while an upload writes it too (the older copy would win)
        try:
            with _locked_journal(path, doing="asking CG") as journal, \
                    _session(journal, region, base_url, auth_url, timeout) as client:
                for entry in journal.parts:
                    if entry.may_be_in_cg:
                        _, ambiguous = _refresh(client, journal, entry)
                        if ambiguous is not None:
                            unclear.append(ambiguous)
        except JournalBusy as exc:
            click.echo(f"cgformat: {exc}; shown as the journal stands", err=True)
            journal = None
    if journal is None:
        journal = Journal.load(path, clock=time.time)
    for ambiguous in unclear:
        click.echo(f"cgformat: {ambiguous}", err=True)
    rows = [_status_row(e) for e in journal.parts]
    live = [r for r in rows if r["state"] != str(PartState.UNDONE)]   # what was deleted counts for nothing
    ok = sum(r["successful_records"] or 0 for r in live)
    bad = sum(r["unsuccessful_records"] or 0 for r in live)
    c = journal.counts()
    if as_json:
        _emit_json({"cgformat_status": 1, "journal": str(journal.path), "base_url": journal.base_url,
                    "type": journal.type, "counts": c, "undone": c["undone"], "in_doubt": c["in_doubt"],
                    "successful_records": ok, "unsuccessful_records": bad, "parts": rows})
    else:
        _print_table(rows)
        click.echo(f"{c['delivered']} of {len(rows)} parts delivered, {c['confirmed']} confirmed"
                   + (f", {c['in_doubt']} in doubt" if c["in_doubt"] else "")
                   + (f", {c['undone']} undone" if c["undone"] else "") + "; "
                   f"{ok:,} records successful, {bad:,} unsuccessful (CG's statistics"
                   + (", undone parts left out)" if c["undone"] else ")"))
        if c["in_doubt"]:
            click.echo("in doubt: the request may have reached CG and nothing has settled it yet; 'cgformat upload' "
                       "resends only what CG does not hold, 'cgformat undo' deletes what it holds")


@contextmanager
def _locked_journal(path: Path, *, doing: str) -> Iterator[Journal]:
    """The journal at ``path``, read under its lock (see :func:`journal_lock`); a missing or damaged journal
    is refused first, before a lock file is made beside it."""
    Journal.load(path, clock=time.time)
    with journal_lock(path, doing=doing):
        yield Journal.load(path, clock=time.time)


# ------------------------------------------------------------------------------------------------ undo
def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    try:
        ok = click.confirm(question, default=False, err=True)
    except click.Abort:
        ok = False
    if not ok:
        click.echo("cgformat: not confirmed: nothing deleted (--yes skips the question)", err=True)
        sys.exit(EXIT_USAGE)


@main.command()
@click.argument("target", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--id", "upload_id", type=int, help="Delete one upload by CG's id.")
@_server_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--timeout", type=click.FloatRange(min=0.05), default=60.0, show_default=True, metavar="SECONDS")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def undo(target: Path | None, upload_id: int | None, region: str | None, base_url: str | None,
         auth_url: str | None, yes: bool, timeout: float, as_json: bool) -> None:
    """Delete uploads from CG: every upload of TARGET's journal, or one --id.

    CG removes every record an upload created, completed survey responses included.
    """
    if (target is None) == (upload_id is None):
        raise UsageError("give an uploaded folder or file, or --id N")
    if upload_id is not None:
        url = resolve_base_url(region=region, base_url=base_url)
        _confirm(f"Delete upload {upload_id} and every record it created from {url}?", yes)
        with _session(None, region, base_url, auth_url, timeout) as client:
            client.delete(upload_id)
        click.echo(f"deleted upload {upload_id}", err=True)
        if as_json:
            _emit_json({"cgformat_undo": 1, "deleted": [upload_id], "not_found": [], "unknown": []})
        return
    assert target is not None
    with _locked_journal(journal_path_for(target), doing="this undo") as journal:   # not while an upload sends
        todo = [e for e in journal.parts if e.may_be_in_cg]
        deleted: list[int] = []
        not_found: list[int] = []
        unclear: list[tuple[PartEntry, AmbiguousMatch]] = []
        unlisted: list[PartEntry] = []
        n = len(journal.parts)
        if todo:
            with _session(journal, region, base_url, auth_url, timeout) as client:
                known: list[PartEntry] = []
                for part in todo:
                    e, ambiguous = _refresh(client, journal, part)
                    if ambiguous is not None:
                        unclear.append((e, ambiguous))
                    elif e.upload_id is None:
                        unlisted.append(e)
                    else:
                        known.append(e)
                if known:
                    _confirm(f"Delete {len(known)} uploads ({_records(sum(e.records for e in known))}) of {target} "
                             f"from {client.base_url}? CG removes every record they created, survey responses "
                             "included.", yes)
                for e in known:
                    assert e.upload_id is not None
                    try:
                        client.delete(e.upload_id)
                        deleted.append(e.upload_id)
                        click.echo(f"part {e.index} of {n}: deleted upload {e.upload_id} ({e.file})", err=True)
                    except ApiError as exc:
                        if exc.code != CODE_FILE_NOT_FOUND:
                            raise
                        not_found.append(e.upload_id)
                        click.echo(f"part {e.index} of {n}: upload {e.upload_id} was already gone (400200)",
                                   err=True)
                    journal.update(e.index, state=PartState.UNDONE, maybe_stored=False,
                                   undone_at=to_iso(time.time()))
    for _, ambiguous in unclear:
        click.echo(f"cgformat: not deleted: {ambiguous}", err=True)
    for e in unlisted:
        if e.delivered:
            click.echo(f"part {e.index} of {n}: not deleted: CG said it stored {e.file}, but its statistics do not "
                       "list it yet, so its id is unknown: run this undo again in a few minutes", err=True)
        else:
            click.echo(f"part {e.index} of {n}: not deleted: {e.file} is in doubt (its request may have reached CG) "
                       "and CG's statistics do not list it: CG most likely does not hold it, but statistics can "
                       "lag: run this undo again in a few minutes to be sure", err=True)
    if not todo:
        click.echo(f"nothing to undo: the journal of {target} records no part that CG may hold", err=True)
    if as_json:
        _emit_json({"cgformat_undo": 1, "journal": str(journal.path), "deleted": deleted, "not_found": not_found,
                    "unknown": [e.file for e in unlisted],
                    "in_doubt_unlisted": [e.file for e in unlisted if not e.delivered],
                    "ambiguous": [{"part": e.index, "file": e.file,
                                   "candidates": [c.upload_id for c in amb.candidates]} for e, amb in unclear]})
    if unlisted or unclear:
        sys.exit(EXIT_UPLOAD)


# --------------------------------------------------------------------------------------------- sandbox
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8765, show_default=True,
              help="Port (0: any free one).")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep received files and the sandbox's state here (across restarts).")
@click.option("--interval", type=click.FloatRange(min=0), default=600.0, show_default=True, metavar="SECONDS",
              help="Refuse an upload sooner than this after the previous one, as CG does (a rehearsal: the "
                   "uploader's --interval, e.g. 5).")
@click.option("--token-ttl", type=click.IntRange(min=1), default=3600, show_default=True, metavar="SECONDS",
              help="Lifetime of OAuth2 tokens.")
@click.option("--fault", "faults", multiple=True, metavar="KIND[:ARG]@N",
              help="Inject a fault into the Nth upload request: 503@3, 429:2@5 (Retry-After 2), timeout:3@8 "
                   "(hold 3 s, drop unprocessed), late:3@9 (store, answer after 3 s), drop@12 (store, no answer).")
@click.option("--quiet", is_flag=True, help="Do not log requests.")
def sandbox(host: str, port: int, data_dir: Path | None, interval: float, token_ttl: int, faults: tuple[str, ...],
            quiet: bool) -> None:
    """Serve a local stand-in for CG's File API, to rehearse an upload without sending a survey.

    Point upload / status / undo at it with --base-url. It accepts the credentials in CG_API_KEY or
    CG_CLIENT_ID + CG_CLIENT_SECRET when set, any credentials otherwise. Ctrl-C stops it.
    """
    env = os.environ
    key = env.get("CG_API_KEY", "").strip()
    cid, secret = env.get("CG_CLIENT_ID", "").strip(), env.get("CG_CLIENT_SECRET", "").strip()
    box = Sandbox(host=host, port=port, data_dir=data_dir, interval_s=interval, token_ttl_s=token_ttl,
                  api_keys={key} if key else None, clients={cid: secret} if cid and secret else None)
    for spec in faults:
        try:
            fault, at = parse_fault(spec)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        box.inject(fault, at=at)
    if not quiet:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("sandbox: %(message)s"))
        logger = logging.getLogger("cgformat.sandbox")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"cgformat sandbox: warning: listening on {host}, reachable from other machines", err=True)
    accepts = "the credentials in the environment" if (key or (cid and secret)) else "any credentials"
    def terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # SIGTERM stops it as cleanly as Ctrl-C

    signal.signal(signal.SIGTERM, terminate)
    try:
        box.bind()
        click.echo(f"cgformat sandbox: serving CG's File API on {box.url} (OAuth2 token endpoint {box.token_url}); "
                   f"accepting {accepts}; interval {interval:g} s; Ctrl-C stops it", err=True)
        box.serve_forever()
    except KeyboardInterrupt:
        click.echo("cgformat sandbox: stopped", err=True)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
