"""Commands: upload (CG's File API) and sandbox (a local stand-in for it); status and undo live in
:mod:`._status_undo`, what they share in :mod:`._upload_common`.

Credentials come from the environment only: ``CG_API_KEY``, or ``CG_CLIENT_ID`` + ``CG_CLIENT_SECRET``.
Progress goes to stderr; ``--json`` documents and the ``status`` table go to stdout.
"""

from __future__ import annotations

import contextlib
import hashlib
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
import polars as pl
from rich.console import Console

from ..errors import ApiError, CgformatError, ManifestError, TransportError, UploadError, UsageError
from ..limits import PROFILES, LimitProfile, get_profile
from ..manifest import MANIFEST_NAME, Manifest, Part, load_manifest
from ..upload.client import (
    DEFAULT_UPLOAD_PATHS,
    STATISTICS_PATHS,
    UPLOAD_TYPES,
    CgClient,
    is_cg_host,
)
from ..upload.journal import (
    Journal,
    journal_lock,
    journal_path_for,
    to_iso,
)
from ..upload.runner import (
    RetryPolicy,
    Uploader,
    UploadEvent,
    UploadSummary,
    check_part,
    schedule,
    summarize,
)
from ..upload.sandbox import Sandbox, parse_fault
from ._app import EXIT_DATA, EXIT_INCOMPLETE, main
from ._upload_common import credentials, emit_json, endpoints, http, records, server_options

CG_INTERVAL_S = 600     # CG's one upload every 10 minutes (spec §4)
_UPLOAD_FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xls": "xls", ".xml": "xml"}


# --------------------------------------------------------------------------------------------- helpers
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


def _upload_path(record_type: str) -> str:
    """The record type's upload path from its schema, else the client's table of defaults."""
    try:
        from ..schema import load_schema
        path = load_schema(record_type).upload_path
    except (ImportError, CgformatError):
        path = None
    return path or DEFAULT_UPLOAD_PATHS[record_type]


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
        "lookup-failed": "yellow", "failed": "bold red", "stopped": "yellow", "wait": "dim",
        "clock-warning": "yellow"}

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
            head = (f"upload: {ev.parts} parts, {records(ev.records_total)} of {self.target} -> {self.url}; "
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
            return f"{where}: sending {ev.file} ({records(ev.records)}){extra}"
        if ev.kind in ("sent", "already-processed"):
            what = "sent" if ev.kind == "sent" else "CG already had this file (400103): counted as delivered"
            line = f"{where}: {what}; {ev.records_sent:,} of {records(ev.records_total)} sent"
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
        if ev.kind == "clock-warning":
            return f"warning: {ev.message}"
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
    from ..validation import validate

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
        emit_json({"cgformat_upload_plan": 1, "url": url, "type": record_type, "interval_s": interval_s,
                    "journal": str(journal_path), "parts": rows, "to_send": len(dues), "problems": problems,
                    "first_send_at": to_iso(dues[0]) if dues else None,
                    "last_send_at": to_iso(dues[-1]) if dues else None})
    else:
        click.echo(f"plan: {len(rows)} parts, {records(sum(r['records'] for r in rows))}, type {record_type} "
                   f"-> {url}; interval {_duration(interval_s)}; journal {journal_path}")
        for r, (_, due) in zip(rows, plan, strict=True):
            when = f"send at {_hhmmss(due)}" if due is not None else f"already {r['state']}"
            click.echo(f"  part {r['index']:>4} of {len(rows)}  {r['file']}  {records(r['records'])}, "
                       f"{r['bytes']:,} bytes  {r['check']}  {when}")
        click.echo(f"{len(dues)} to send" + (f", the last at {_hhmmss(dues[-1])}" if dues else "")
                   + "; nothing was sent (dry run)")
    if problems:
        raise ManifestError(f"{problems} part(s) do not match the manifest: see the plan above")


@main.command()
@click.argument("target", type=click.Path(exists=True, path_type=Path))
@click.option("--type", "record_type", type=click.Choice(UPLOAD_TYPES),
              help="Record type (default: the manifest's; required for a single file).")
@server_options
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
    CG_CLIENT_SECRET, in the environment. Exit 0 all delivered, 1 delivered but CG's statistics list
    rejected records, 2 a usage problem (credentials, a refused URL, another run holds the journal), 3 a
    damaged journal, 4 refused by CG, 5 stopped with parts left (in-doubt ones included).
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
        url, token_url = endpoints(previous, region, base_url, auth_url)
        path = upload_path or (previous.upload_path if previous is not None else _upload_path(typ))
        interval_s = manifest.profile.interval_s if interval is None else interval
        if interval_s < CG_INTERVAL_S and is_cg_host(url) and not allow_short_interval:
            raise UsageError(f"an interval of {interval_s:g} s is shorter than CG's one upload every "
                             f"{CG_INTERVAL_S} s: CG may refuse or queue the parts. Give --interval "
                             f"{CG_INTERVAL_S}, or, if your contract with CG allows a shorter one, say so with "
                             "--allow-short-interval")
        if dry_run:
            _dry_run(manifest, journal_path, record_type=typ, base_url=url, upload_path=path, interval_s=interval_s,
                     as_json=as_json)
            return
        creds = credentials()
        journal = Journal.open(journal_path, manifest=manifest, type=typ, base_url=url, auth_url=token_url,
                               upload_path=path, statistics_path=STATISTICS_PATHS.get(typ), clock=time.time)
        progress = _Progress(target=str(target), url=url + path, interval_s=interval_s)
        stop = _Stop(lambda line: progress.say(line, "stopped"))
        with http(url, timeout) as transport, stop.installed():
            client = CgClient(transport, base_url=url, credentials=creds, auth_url=token_url, timeout=timeout,
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
                     f"({records(summary.records_delivered)}), {summary.confirmed} confirmed in CG's statistics",
                     "sent")
        if summary.unconfirmed:
            progress.say(f"{summary.unconfirmed} part(s) not in CG's statistics yet: 'cgformat status "
                         f"{journal.folder}' shows later what CG made of them", "wait")
        if summary.rejected_records:
            progress.say(f"records rejected: CG's statistics list {records(summary.rejected_records)} as "
                         f"unsuccessful in {summary.rejected_parts} part(s); 'cgformat status {journal.folder}' "
                         "shows CG's reason for each (its logs)", "failed")
    elif refused:
        progress.say(f"stopped by the error below: {summary.delivered} of {summary.parts} parts delivered "
                     f"({records(summary.records_delivered)}), as the journal records", "stopped")
    else:
        progress.say(f"stopped: {summary.delivered} of {summary.parts} parts delivered "
                     f"({records(summary.records_delivered)}); run the same command again to resume", "stopped")
    if summary.in_doubt and not summary.complete:
        progress.say(f"{summary.in_doubt} part(s) in doubt: their request may have reached CG. The next run looks "
                     "them up in CG's statistics and resends only what CG does not hold; 'cgformat undo' deletes "
                     "what CG holds of them", "stopped")
    if as_json:
        emit_json(summary.to_dict(journal))


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
@click.option("--statistics-lag", type=click.FloatRange(min=0), default=0.0, show_default=True, metavar="SECONDS",
              help="List an upload in the statistics only this long after it arrived (CG's can lag).")
@click.option("--token-ttl", type=click.IntRange(min=1), default=3600, show_default=True, metavar="SECONDS",
              help="Lifetime of OAuth2 tokens.")
@click.option("--fault", "faults", multiple=True, metavar="KIND[:ARG]@N",
              help="Inject a fault into the Nth upload request: 503@3, 429:2@5 (Retry-After 2), timeout:3@8 "
                   "(hold 3 s, drop unprocessed), late:3@9 (store, answer after 3 s), drop@12 (store, no answer).")
@click.option("--quiet", is_flag=True, help="Do not log requests.")
def sandbox(host: str, port: int, data_dir: Path | None, interval: float, statistics_lag: float, token_ttl: int,
            faults: tuple[str, ...], quiet: bool) -> None:
    """Serve a local stand-in for CG's File API, to rehearse an upload without sending a survey.

    Point upload / status / undo at it with --base-url. It accepts the credentials in CG_API_KEY or
    CG_CLIENT_ID + CG_CLIENT_SECRET when set, any credentials otherwise. Ctrl-C stops it.
    """
    env = os.environ
    key = env.get("CG_API_KEY", "").strip()
    cid, secret = env.get("CG_CLIENT_ID", "").strip(), env.get("CG_CLIENT_SECRET", "").strip()
    box = Sandbox(host=host, port=port, data_dir=data_dir, interval_s=interval, token_ttl_s=token_ttl,
                  statistics_lag_s=statistics_lag, api_keys={key} if key else None,
                  clients={cid: secret} if cid and secret else None)
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


from . import _status_undo  # noqa: E402, F401  (registers status and undo on main)
