"""Commands: status and undo of an upload (CG's statistics per part; deleting what was uploaded)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from ..errors import ApiError, UsageError
from ..upload.client import CODE_FILE_NOT_FOUND, STATISTICS_PATHS, CgClient, resolve_base_url
from ..upload.journal import Journal, JournalBusy, PartEntry, PartState, is_busy, journal_path_for, to_iso
from ..upload.match import AmbiguousMatch, find_upload
from ..upload.runner import stats_fields
from ._app import EXIT_UPLOAD, main
from ._upload_common import confirm, emit_json, locked_journal, records, server_options, session


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
@server_options
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
    path = journal_path_for(target)
    journal: Journal | None = None
    unclear: list[AmbiguousMatch] = []
    if not offline:
        # refreshing writes the journal: not while an upload writes it too (the older copy would win)
        try:
            with locked_journal(path, doing="asking CG") as journal, \
                    session(journal, region, base_url, auth_url, timeout) as client:
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
    if not is_busy(path):   # no run holds the journal: a part left sending was cut off mid-request
        for row in rows:
            if row["state"] == str(PartState.SENDING):
                row["state"] = str(PartState.IN_DOUBT)
    live = [r for r in rows if r["state"] != str(PartState.UNDONE)]   # what was deleted counts for nothing
    ok = sum(r["successful_records"] or 0 for r in live)
    bad = sum(r["unsuccessful_records"] or 0 for r in live)
    c = journal.counts()
    if as_json:
        emit_json({"cgformat_status": 1, "journal": str(journal.path), "base_url": journal.base_url,
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
    if unclear:
        # a part two uploads could be is not settled: the README promises exit 4, and a script must not go on
        sys.exit(EXIT_UPLOAD)


@main.command()
@click.argument("target", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--id", "upload_id", type=int, help="Delete one upload by CG's id.")
@server_options
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
        confirm(f"Delete upload {upload_id} and every record it created from {url}?", yes)
        with session(None, region, base_url, auth_url, timeout) as client:
            client.delete(upload_id)
        click.echo(f"deleted upload {upload_id}", err=True)
        if as_json:
            emit_json({"cgformat_undo": 1, "deleted": [upload_id], "not_found": [], "unknown": []})
        return
    assert target is not None
    with locked_journal(journal_path_for(target), doing="this undo") as journal:   # not while an upload sends
        todo = [e for e in journal.parts if e.may_be_in_cg]
        deleted: list[int] = []
        not_found: list[int] = []
        unclear: list[tuple[PartEntry, AmbiguousMatch]] = []
        unlisted: list[PartEntry] = []
        n = len(journal.parts)
        if todo:
            with session(journal, region, base_url, auth_url, timeout) as client:
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
                    confirm(f"Delete {len(known)} uploads ({records(sum(e.records for e in known))}) of {target} "
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
        emit_json({"cgformat_undo": 1, "journal": str(journal.path), "deleted": deleted, "not_found": not_found,
                    "unknown": [e.file for e in unlisted],
                    "in_doubt_unlisted": [e.file for e in unlisted if not e.delivered],
                    "ambiguous": [{"part": e.index, "file": e.file,
                                   "candidates": [c.upload_id for c in amb.candidates]} for e, amb in unclear]})
    if unlisted or unclear:
        sys.exit(EXIT_UPLOAD)
