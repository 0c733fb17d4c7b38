"""The upload command: send a split folder's parts (or one file) to CG's File API, in order and on the interval.

A thin layer over the library's job (:func:`cgformat.uploader.jobs.upload`, in two halves: checked and locked by
``prepare_upload``, sent by ``PreparedUpload.run``; the dry run ``upload_plan``); how it shows is
:mod:`._upload_render`.
Credentials come from the environment only: ``CG_API_KEY``, or ``CG_CLIENT_ID`` + ``CG_CLIENT_SECRET``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .._naming import cli_naming
from ..errors import ApiError, NotSent, TransportError, UploadError
from ..limits import PROFILES
from ..uploader.client import UPLOAD_TYPES
from ..uploader.jobs import PreparedUpload, prepare_upload, upload_plan
from ..uploader.runner import RetryPolicy, summarize
from ._app import EXIT_DATA, EXIT_INCOMPLETE, main
from ._upload_common import server_options
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
@cli_naming()
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
    try:
        if dry_run:
            plan = upload_plan(target, record_type=record_type, region=region, base_url=base_url,
                               auth_url=auth_url, upload_path=upload_path, profile=profile_name,
                               interval=interval, allow_short_interval=allow_short_interval)
            render_plan(plan, as_json=as_json)
            plan.check()
            return
        with prepare_upload(target, record_type=record_type, region=region, base_url=base_url,
                            auth_url=auth_url, upload_path=upload_path, profile=profile_name, interval=interval,
                            allow_short_interval=allow_short_interval) as prepared:
            _send(prepared, target=target, retry=RetryPolicy(max_attempts=max_attempts, base_s=retry_wait,
                                                             cap_s=retry_cap),
                  timeout=timeout, confirm_wait=confirm_wait, xml_answers=xml_answers, as_json=as_json)
    except NotSent as exc:
        # a file CG would garble is an error in it; an empty split, nothing to do
        click.echo(f"cgformat: error: {exc}" if exc.codes else f"cgformat: {exc}", err=True)
        sys.exit(EXIT_DATA)


def _send(prepared: PreparedUpload, *, target: Path, retry: RetryPolicy, timeout: float, confirm_wait: float,
          xml_answers: bool, as_json: bool) -> None:
    """Run the uploader with progress on stderr; a stop, an abort or faults that outlive the retries end
    with exit 5 (resumable), a refusal by CG with its error (exit 4)."""
    journal = prepared.journal
    progress = Progress(target=str(target), url=prepared.url + prepared.upload_path, interval_s=prepared.interval_s)
    stop = Stop(lambda line: progress.say(line, "stopped"))
    with stop.installed():
        try:
            summary = prepared.run(credentials=None, retry=retry, timeout=timeout, confirm_wait=confirm_wait,
                                   xml_answers=xml_answers, on_event=progress, stop=stop.event)
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
