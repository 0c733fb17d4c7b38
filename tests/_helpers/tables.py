"""Hand-made tables for validation and normalizer tests (no reader needed)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from cgformat.model import Issue, SourceInfo, Table, unique_columns

TX = ("CustomerNumber", "Email", "SMS_Telephone", "FirstName", "LastName", "Country", "OrderDate")
GOOD_TX = ("0001", "anna@example.com", "31612345678", "Anna", "de Vries", "NL", "2025-03-01 10:00:00")


def make_table(labels: Sequence[str], rows: Sequence[Sequence[str]], *, source: str = "t.csv", fmt: str = "csv",
               lines: Sequence[int] | None = None, encoding: str | None = "utf-8", delimiter: str | None = ",",
               info_issues: Sequence[Issue] = (), issues: Sequence[Issue] = (), size: int = 100) -> Table:
    labels = tuple(labels)
    cols = unique_columns(labels)
    frame = pl.DataFrame({c: pl.Series(c, [r[i] for r in rows], dtype=pl.String) for i, c in enumerate(cols)})
    line_list = list(lines) if lines is not None else [i + 2 for i in range(len(rows))]
    info = SourceInfo(source=source, format=fmt, labels=labels, bytes=size, encoding=encoding,
                      delimiter=delimiter if fmt == "csv" else None, issues=tuple(info_issues))
    return Table(info=info, frame=frame, lines=pl.Series("line", line_list, dtype=pl.Int64),
                 issues=(*info_issues, *issues))


def tx(*changes: dict[str, str], n: int | None = None) -> Table:
    """A transactional table: one good row per change dict, each row with its changes applied and a unique
    email unless the change sets one."""
    rows = []
    for i, ch in enumerate(changes):
        row = dict(zip(TX, GOOD_TX, strict=True))
        row["Email"] = f"user{i + 1}@example.com"
        row["CustomerNumber"] = f"{i + 1:04d}"
        row.update(ch)
        rows.append(tuple(row[c] for c in TX))
    return make_table(TX, rows)


def at(report_or_frame: object) -> set[tuple[str, int | None, str | None]]:
    """The (code, record, field) triples of a report's issues or an issue frame."""
    frame = getattr(report_or_frame, "issues", report_or_frame)
    assert isinstance(frame, pl.DataFrame)
    return {(c, r, f) for c, r, f in frame.select("code", "record", "field").iter_rows()}
