"""An Airflow-style upload task, with cgformat's public names only (a test runs it against a sandbox).

``prepare_task`` takes the day's records as a polars DataFrame (from a database query, say), checks them
against the record type, fixes what is safe to fix and splits them into parts that fit CG's limits, with
progress; the records CG would refuse go to the folder's rejects file. ``upload_task`` is what a
``PythonOperator`` (or a TaskFlow ``@task``) calls: it sends a split folder's parts
to CG's File API on the interval, logs progress per part and returns counts for the next task (XCom). Its
``stop`` event is what the operator's ``on_kill`` sets: the upload ends within a second, also while it waits
for the interval, with its journal kept, and the task's next try resumes where it stopped (a part is never
sent twice). A second worker started on the same folder meanwhile is refused (``JournalBusy``) and sends
nothing. ``undo_task`` deletes from CG what the upload stored.

Credentials come from the environment (``CG_API_KEY``, or ``CG_CLIENT_ID`` + ``CG_CLIENT_SECRET``; in Airflow, a
connection's secret exported there) unless a ``cgformat.Credentials`` is given.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import polars as pl

import cgformat

log = logging.getLogger("upload_task")


def prepare_task(records: pl.DataFrame, folder: str | Path, *, record_type: str = "transactional",
                 progress: cgformat.Progress | None = None) -> dict[str, int]:
    """Check, fix and split ``records`` into ``folder``; counts for the next task (XCom)."""
    before = cgformat.validate(records, record_type)
    fixed = cgformat.fix(records, schema=record_type)           # in memory: a Normalized, every change listed
    manifest = cgformat.split(fixed.frame, folder, schema=record_type, progress=progress)
    return {"records": records.height, "errors_before_fix": before.errors, "changed_cells": fixed.changed_cells,
            "parts": len(manifest.parts), "rejected": manifest.rejected}


def log_progress(event: cgformat.UploadEvent) -> None:
    """Progress in the task's log: one line per part sent, and each retry with its attempt number."""
    if event.kind in ("sent", "already-processed"):
        log.info("part %s of %s sent (attempt %s): %s of %s records delivered", event.part, event.parts,
                 event.attempt, event.records_sent, event.records_total)
    elif event.kind == "retry":
        log.warning("part %s, attempt %s: %s; retrying in %.0f s", event.part, event.attempt, event.message,
                    event.delay_s or 0)


def upload_task(folder: str | Path, *, stop: threading.Event, region: str | None = None,
                base_url: str | None = None, interval: float | None = None,
                credentials: cgformat.Credentials | None = None,
                progress: Callable[[cgformat.UploadEvent], None] = log_progress) -> dict[str, int]:
    """Upload ``folder`` (written by ``cgformat.split``) and read back what CG made of it.

    Raises ``RuntimeError`` when stopped (the next try resumes), and cgformat's errors (a
    ``cgformat.errors.JournalBusy`` while another worker uploads the same folder).
    """
    summary = cgformat.upload(folder, region=region, base_url=base_url, interval=interval,
                              credentials=credentials, on_event=progress, stop=stop)
    if not summary.complete:
        raise RuntimeError(f"upload stopped with {summary.delivered} of {summary.parts} parts delivered; "
                           "the next try resumes")
    status = cgformat.status(folder, region=region, base_url=base_url, credentials=credentials)
    return {"parts": summary.parts, "delivered": summary.delivered, "confirmed": status.counts["confirmed"],
            "successful_records": status.successful_records, "unsuccessful_records": status.unsuccessful_records}


def undo_task(folder: str | Path, *, region: str | None = None, base_url: str | None = None,
              credentials: cgformat.Credentials | None = None) -> list[int]:
    """Delete from CG every upload of ``folder``; CG's ids of the uploads deleted."""
    done = cgformat.undo(folder, region=region, base_url=base_url, credentials=credentials)
    if not done.complete:
        raise RuntimeError(f"{len(done.unlisted) + len(done.unsettled)} part(s) of {folder} could not be matched "
                           "in CG's statistics yet: run the undo again in a few minutes")
    return list(done.deleted)
