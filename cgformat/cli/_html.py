"""``validate --html``: the report page, with the records that have issues read again from the source."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .. import api
from .._atomic import atomic_output
from ..errors import CgformatError, WriteError
from ..formats import ReadOptions
from ..limits import LimitProfile
from ..report import Report

RECORDS_SHOWN = 200
"""The records with issues a page shows whole."""


def records_with_issues(src: str, report: Report, *, fmt: str | None, options: ReadOptions | None,
                        limit: int = RECORDS_SHOWN) -> tuple[pl.DataFrame, tuple[str, ...]] | None:
    """The first ``limit`` records that have a listed issue, read again from ``src`` (the record number,
    the line, then the source's columns), and the source's labels; ``None`` when the source cannot be read twice
    (standard input) or no longer reads."""
    wanted = report.issues["record"].drop_nulls().unique().sort().head(limit)
    if src == "-" or wanted.len() == 0:
        return None
    last = int(wanted.max())  # type: ignore[arg-type]
    found: list[pl.DataFrame] = []
    try:
        with api.open_source(src, fmt=fmt, options=options) as reader:
            labels = reader.info.labels
            for batch in reader.batches():
                if batch.first_record > last:
                    break
                rec, line = "#record", "#line"
                while rec in batch.frame.columns or line in batch.frame.columns:
                    rec, line = "#" + rec, "#" + line
                frame = batch.frame.select(batch.records.alias(rec), batch.lines.alias(line), pl.all())
                hit = frame.filter(pl.col(rec).is_in(wanted.implode()))
                if hit.height:
                    found.append(hit)
    except (CgformatError, OSError):   # moved or changed since it was validated: the page goes without rows
        return None
    if not found:
        return None
    return pl.concat(found), labels


def write_html(path: str, report: Report, *, src: str, fmt: str | None, options: ReadOptions | None,
               profile: LimitProfile) -> None:
    """Write the report page to ``path`` (atomically), the records with issues shown whole."""
    rows = records_with_issues(src, report, fmt=fmt, options=options)
    page = report.to_html(profile=profile, records=None if rows is None else rows[0],
                          labels=None if rows is None else rows[1], max_records=RECORDS_SHOWN)
    target = Path(path)
    if target.is_dir():
        raise WriteError(f"--html {path}: is a folder, not a file")
    try:
        with atomic_output(target) as out:
            out.write(page.encode("utf-8", "replace"))
    except OSError as exc:
        raise WriteError(f"--html {path}: cannot write: {exc.strerror or exc}") from None
