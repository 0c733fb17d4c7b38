"""The upload command: send a split folder's parts (or one file) to CG's File API, in order and on the interval.

What is sent and through which channel is :mod:`cgformat.upload.target`, the dry run
:mod:`cgformat.upload.plan`, the run :class:`cgformat.upload.Uploader`; how it shows is :mod:`._upload_render`.
Credentials come from the environment only: ``CG_API_KEY``, or ``CG_CLIENT_ID`` + ``CG_CLIENT_SECRET``.
"""

from __future__ import annotations

import contextlib
import random
import sys
import time
from pathlib import Path

import click

from ..errors import ApiError, TransportError, UploadError, UsageError
from ..limits import PROFILES
from ..upload.client import STATISTICS_PATHS, UPLOAD_TYPES, CgClient
from ..upload.journal import Journal, journal_lock
from ..upload.plan import plan_upload
from ..upload.runner import RetryPolicy, Uploader, summarize
from ..upload.target import Unsound, check_interval, resolve_target, upload_path_for
from ._app import EXIT_DATA, EXIT_INCOMPLETE, main
from ._upload_common import credentials, endpoints, http, server_options
from ._upload_render import Progress, Stop, finish, render_plan

_FILE_API_S = PROFILES["api"].interval_s


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
              help=f"Seconds between sends (default: the manifest's profile, {_FILE_API_S} for CG's File API).")
@click.option("--allow-short-interval", is_flag=True,
              help=f"Allow an --interval below CG's {_FILE_API_S} s against CG's own hosts (if your contract allows "
                   "it).")
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
    found = resolve_target(target, record_type=record_type, profile_name=profile_name)
    if isinstance(found, Unsound):
        click.echo(f"cgformat: error: {found.message()}", err=True)
        sys.exit(EXIT_DATA)
    manifest, journal_path, typ = found.manifest, found.journal_path, found.record_type
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
        path = upload_path or (previous.upload_path if previous is not None else upload_path_for(typ))
        interval_s = manifest.profile.interval_s if interval is None else interval
        check_interval(manifest, record_type=typ, url=url, interval_s=interval_s, given=interval is not None,
                       allow_short=allow_short_interval)
        if dry_run:
            plan = plan_upload(manifest, journal_path, record_type=typ, base_url=url, upload_path=path,
                               interval_s=interval_s, clock=time.time)
            render_plan(plan, as_json=as_json)
            plan.check()
            return
        journal = Journal.open(journal_path, manifest=manifest, type=typ, base_url=url, auth_url=token_url,
                               upload_path=path, statistics_path=STATISTICS_PATHS.get(typ), clock=time.time)
        _send(journal, target=target, url=url, token_url=token_url, path=path, interval_s=interval_s,
              retry=RetryPolicy(max_attempts=max_attempts, base_s=retry_wait, cap_s=retry_cap), timeout=timeout,
              confirm_wait=confirm_wait, xml_answers=xml_answers, as_json=as_json)


def _send(journal: Journal, *, target: Path, url: str, token_url: str, path: str, interval_s: float,
          retry: RetryPolicy, timeout: float, confirm_wait: float, xml_answers: bool, as_json: bool) -> None:
    """Run the uploader with progress on stderr; a stop, an abort or faults that outlive the retries end
    with exit 5 (resumable), a refusal by CG with its error (exit 4)."""
    creds = credentials()
    progress = Progress(target=str(target), url=url + path, interval_s=interval_s)
    stop = Stop(lambda line: progress.say(line, "stopped"))
    with http(url, timeout) as transport, stop.installed():
        client = CgClient(transport, base_url=url, credentials=creds, auth_url=token_url, timeout=timeout,
                          response_format="xml" if xml_answers else "json")
        uploader = Uploader(client=client, journal=journal, interval_s=interval_s, clock=time.time,
                            sleep=stop.sleep, should_stop=stop.event.is_set,
                            rng=random.Random(),  # noqa: S311  (jitter, not crypto)
                            retry=retry, on_event=progress, confirm_wait_s=confirm_wait, monotonic=time.monotonic)
        try:
            summary = uploader.run()
        except TransportError as exc:
            # faults outlived the retries: nothing was refused, the run can simply resume later (exit 5, not 4)
            progress.say(f"cgformat: error: {exc}", "failed")
            finish(journal, summarize(journal, stopped="error", error={"kind": "transport", "message": str(exc)}),
                   progress, as_json)
            sys.exit(EXIT_INCOMPLETE)
        except UploadError as exc:
            error = {"kind": "api" if isinstance(exc, ApiError) else "manifest", "message": str(exc),
                     "code": getattr(exc, "code", None)}
            # the error says what to do (fix the key, restore or split again): no blanket "resume" advice
            finish(journal, summarize(journal, stopped="error", error=error), progress, as_json, refused=True)
            raise
        except KeyboardInterrupt:
            progress.say("cgformat: aborted; a part in flight is in doubt: the next run looks it up in CG's "
                         "statistics and resends it only if CG does not hold it", "failed")
            finish(journal, summarize(journal, stopped="aborted"), progress, as_json)
            sys.exit(EXIT_INCOMPLETE)
    finish(journal, summary, progress, as_json)
    if not summary.complete:
        sys.exit(EXIT_INCOMPLETE)
    if summary.rejected_records:
        sys.exit(EXIT_DATA)
