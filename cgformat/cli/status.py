"""Commands: status and undo of an upload (CG's statistics per part; deleting what was uploaded).

Thin layers over :func:`cgformat.uploader.jobs.status` and :func:`cgformat.uploader.jobs.undo`; the ``--id`` forms
ask CG directly.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .._naming import cli_naming
from ..errors import ApiError, UsageError
from ..uploader import jobs
from ..uploader.client import CODE_FILE_NOT_FOUND, STATISTICS_PATHS, resolve_base_url
from ..uploader.journal import PartEntry
from ._app import EXIT_UPLOAD, main
from ._upload_common import confirm, emit_json, records, server_options, session


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
@server_options
@click.option("--offline", is_flag=True, help="Show the journal as it is, without asking CG.")
@click.option("--timeout", type=click.FloatRange(min=0.05), default=60.0, show_default=True, metavar="SECONDS")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@cli_naming()
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
        with session(None, region, base_url, auth_url, timeout) as client:
            stats_path = STATISTICS_PATHS[record_type] or ""
            rows = [r for r in client.statistics(stats_path, upload_id=upload_id) if str(r.get("id")) == str(upload_id)]
        if not rows:
            raise ApiError(f"CG lists no {record_type} upload with id {upload_id}", code=CODE_FILE_NOT_FOUND)
        if as_json:
            emit_json({"cgformat_status": 1, "uploads": rows})
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
    st = jobs.status(target, region=region, base_url=base_url, auth_url=auth_url, offline=offline, timeout=timeout)
    if st.not_asked is not None and not offline:
        click.echo(f"cgformat: {st.not_asked}; shown as the journal stands", err=True)
    for unsettled in st.unsettled:
        click.echo(f"cgformat: {unsettled.message}", err=True)
    doc = st.to_dict()
    rows, c = doc["parts"], doc["counts"]
    ok, bad = st.successful_records, st.unsuccessful_records
    if as_json:
        emit_json(doc)
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
    if st.unsettled:
        # a part two uploads could be is not settled: the README promises exit 4, and a script must not go on
        sys.exit(EXIT_UPLOAD)


@main.command()
@click.argument("target", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--id", "upload_id", type=int, help="Delete one upload by CG's id.")
@server_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--timeout", type=click.FloatRange(min=0.05), default=60.0, show_default=True, metavar="SECONDS")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@cli_naming()
def undo(target: Path | None, upload_id: int | None, region: str | None, base_url: str | None,
         auth_url: str | None, yes: bool, timeout: float, as_json: bool) -> None:
    """Delete uploads from CG: every upload of TARGET's journal, or one --id.

    CG removes every record an upload created, completed survey responses included.
    """
    if (target is None) == (upload_id is None):
        raise UsageError("give an uploaded folder or file, or --id N")
    if upload_id is not None:
        url = resolve_base_url(region=region, base_url=base_url)
        confirm(f"Delete upload {upload_id} and every record it created from {url}?", yes)
        with session(None, region, base_url, auth_url, timeout) as client:
            client.delete(upload_id)
        click.echo(f"deleted upload {upload_id}", err=True)
        if as_json:
            emit_json({"cgformat_undo": 1, "deleted": [upload_id], "not_found": [], "unknown": []})
        return
    assert target is not None

    def ask(parts: tuple[PartEntry, ...], url: str) -> bool:
        confirm(f"Delete {len(parts)} uploads ({records(sum(e.records for e in parts))}) of {target} "
                f"from {url}? CG removes every record they created, survey responses included.", yes)
        return True   # not confirmed: confirm() ended the command

    def said(ev: jobs.UndoEvent) -> None:
        if ev.kind == "deleted":
            click.echo(f"part {ev.part} of {ev.parts}: deleted upload {ev.upload_id} ({ev.file})", err=True)
        else:
            click.echo(f"part {ev.part} of {ev.parts}: upload {ev.upload_id} was already gone (400200)", err=True)

    done = jobs.undo(target, region=region, base_url=base_url, auth_url=auth_url, timeout=timeout, confirm=ask,
                     on_event=said)
    n = done.parts
    for unsettled in done.unsettled:
        click.echo(f"cgformat: not deleted: {unsettled.message}", err=True)
    for e in done.unlisted:
        if e.delivered:
            click.echo(f"part {e.index} of {n}: not deleted: CG said it stored {e.file}, but its statistics do not "
                       "list it yet, so its id is unknown: run this undo again in a few minutes", err=True)
        else:
            click.echo(f"part {e.index} of {n}: not deleted: {e.file} is in doubt (its request may have reached CG) "
                       "and CG's statistics do not list it: CG most likely does not hold it, but statistics can "
                       "lag: run this undo again in a few minutes to be sure", err=True)
    if not done.looked_up:
        click.echo(f"nothing to undo: the journal of {target} records no part that CG may hold", err=True)
    if as_json:
        emit_json(done.to_dict())
    if not done.complete:
        sys.exit(EXIT_UPLOAD)
