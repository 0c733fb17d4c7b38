"""The validation report: issues kept in a polars DataFrame, counted by code, serialised as versioned JSON.

The JSON document (``cgformat_report: 1``) has a published JSON Schema shipped in the package
(``cgformat/report.schema.json``, see :func:`report_json_schema`). Every issue is counted, even when the
listing is capped (``truncated``). When no report could be made (a program error: the file is missing or
unreadable, the schema is bad), ``cgformat validate --json`` prints the other shape that JSON Schema
allows, :func:`error_document`: ``valid`` false and an ``error`` object instead of the counts and issues.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

import polars as pl

from .limits import LimitProfile
from .model import Issue, Severity, same_values

__all__ = [
    "ISSUE_SCHEMA",
    "REPORT_VERSION",
    "TALLY_SCHEMA",
    "Report",
    "ReportCollector",
    "error_document",
    "issues_frame",
    "report_json_schema",
]

REPORT_VERSION = 1
ISSUE_SCHEMA: dict[str, pl.DataType] = {
    "code": pl.String(), "severity": pl.String(), "record": pl.Int64(), "line": pl.Int64(),
    "field": pl.String(), "value": pl.String(), "message": pl.String(),
}
"""The columns of every issue frame, in order."""
TALLY_SCHEMA: dict[str, pl.DataType] = {
    "code": pl.String(), "severity": pl.String(), "field": pl.String(), "count": pl.Int64(),
}
"""The columns of :attr:`Report.tally`."""
MAX_VALUE_CHARS = 200
"""Values longer than this are cut in issues (with a trailing ``…``): a report never carries a huge cell."""


def issues_frame(issues: Iterable[Issue] = ()) -> pl.DataFrame:
    """Issue values as a frame with :data:`ISSUE_SCHEMA` columns."""
    rows = [i.to_dict() for i in issues]
    cols = {k: [r[k] for r in rows] for k in ISSUE_SCHEMA}
    return pl.DataFrame(cols, schema=ISSUE_SCHEMA)


def clip_values(frame: pl.DataFrame) -> pl.DataFrame:
    """Cut over-long ``value`` cells to :data:`MAX_VALUE_CHARS` characters plus ``…``."""
    v = pl.col("value")
    return frame.with_columns(
        pl.when(v.str.len_chars() > MAX_VALUE_CHARS)
        .then(v.str.slice(0, MAX_VALUE_CHARS) + pl.lit("…")).otherwise(v).alias("value"))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Report:
    """The outcome of validating one source against one schema.

    ``issues`` lists at most ``max_issues`` issues (file and header issues first, then by record);
    ``by_code`` counts every issue found: columns code, count, first_record. ``valid`` is true when there
    is no error (with ``strict``, no warning either).
    """

    source: str
    type: str
    format: str
    encoding: str | None
    delimiter: str | None
    records: int
    bytes: int
    errors: int
    warnings: int
    by_code: pl.DataFrame
    issues: pl.DataFrame
    truncated: bool = False
    strict: bool = False
    tally: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=TALLY_SCHEMA))
    """Every issue counted by code, severity and field (field null for file-level issues): columns
    code, severity, field, count."""

    def __eq__(self, other: object) -> bool:
        """Equal when every count, fact and issue frame is (frames by value: columns, dtypes, values)."""
        return same_values(self, other) if isinstance(other, Report) else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # frames are not hashable

    @property
    def valid(self) -> bool:
        """No error-severity issue (and, with ``strict``, no warning)."""
        return self.errors == 0 and (not self.strict or self.warnings == 0)

    def issue_list(self) -> list[Issue]:
        """The listed issues as :class:`Issue` values."""
        return [Issue(code=r["code"], severity=Severity(r["severity"]), message=r["message"],
                      record=r["record"], line=r["line"], field=r["field"], value=r["value"])
                for r in self.issues.iter_rows(named=True)]

    def head(self, n: int) -> Report:
        """This report listing at most ``n`` issues (file and header issues always stay); counts unchanged."""
        keep = max(n, int(self.issues["record"].is_null().sum()))
        if self.issues.height <= keep:
            return self
        return replace(self, issues=self.issues.head(keep), truncated=True)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report document (see ``report.schema.json``)."""
        by_code = {r["code"]: {"count": int(r["count"]), "first_record": r["first_record"]}
                   for r in self.by_code.iter_rows(named=True)}
        return {
            "cgformat_report": REPORT_VERSION,
            "valid": self.valid,
            "source": self.source,
            "type": self.type,
            "format": self.format,
            "encoding": self.encoding or "utf-8",
            "delimiter": self.delimiter,
            "records": self.records,
            "bytes": self.bytes,
            "counts": {"errors": self.errors, "warnings": self.warnings, "by_code": by_code},
            "truncated": self.truncated,
            "issues": list(self.issues.iter_rows(named=True)),
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """The JSON report as text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def to_html(self, *, profile: LimitProfile | None = None, records: pl.DataFrame | None = None,
                labels: Sequence[str] | None = None, max_records: int = 200) -> str:
        """The report as one self-contained HTML page (see :func:`cgformat.report_html.render_html`)."""
        from .report_html import render_html

        return render_html(self, profile=profile, records=records, labels=labels, max_records=max_records)


@dataclass(slots=True, kw_only=True)
class ReportCollector:
    """Accumulates issues batch by batch: counts all, keeps the first ``max_issues`` for the listing.

    File- and header-level issues (no record) are always listed first and never dropped from the listing.
    """

    max_issues: int = 1000
    _file: list[pl.DataFrame] = field(default_factory=list)
    _records: list[pl.DataFrame] = field(default_factory=list)
    _kept: int = 0
    _counts: dict[tuple[str, str], list[int | None]] = field(default_factory=dict)
    _order: list[str] = field(default_factory=list)
    _total: int = 0
    _tally: list[pl.DataFrame] = field(default_factory=list)

    def add(self, issues: pl.DataFrame | Sequence[Issue]) -> None:
        """Count these issues and keep as many as the listing has room for."""
        frame = issues if isinstance(issues, pl.DataFrame) else issues_frame(issues)
        if frame.height == 0:
            return
        frame = frame.select(list(ISSUE_SCHEMA)).cast(ISSUE_SCHEMA)  # type: ignore[arg-type]
        self._total += frame.height
        self._tally.append(frame.group_by("code", "severity", "field").agg(pl.len().cast(pl.Int64).alias("count")))
        stats = frame.group_by("code", "severity", maintain_order=True).agg(
            pl.len().alias("n"), pl.col("record").min().alias("first"))
        for code, sev, n, first in stats.iter_rows():
            slot = self._counts.get((code, sev))
            if slot is None:
                self._counts[(code, sev)] = [int(n), first]
                if code not in self._order:
                    self._order.append(code)
            else:
                slot[0] = int(slot[0] or 0) + int(n)
                if first is not None and (slot[1] is None or first < slot[1]):
                    slot[1] = first
        file_level = frame.filter(pl.col("record").is_null())
        if file_level.height:
            self._file.append(clip_values(file_level))
        rec = frame.filter(pl.col("record").is_not_null())
        room = self.max_issues - self._kept
        if rec.height and room > 0:
            take = clip_values(rec.head(room))
            self._records.append(take)
            self._kept += take.height

    def report(self, *, source: str, type: str, format: str, encoding: str | None, delimiter: str | None,
               records: int, bytes: int, strict: bool = False) -> Report:
        """The report of everything added so far."""
        errors = sum(int(v[0] or 0) for (_, s), v in self._counts.items() if s == Severity.ERROR)
        warnings = sum(int(v[0] or 0) for (_, s), v in self._counts.items() if s == Severity.WARNING)
        rows: list[dict[str, Any]] = []
        for code in self._order:
            n = 0
            first: int | None = None
            for (c, _), (cnt, fr) in self._counts.items():
                if c == code:
                    n += int(cnt or 0)
                    if fr is not None and (first is None or fr < first):
                        first = fr
            rows.append({"code": code, "count": n, "first_record": first})
        by_code = pl.DataFrame(rows, schema={"code": pl.String, "count": pl.Int64, "first_record": pl.Int64})
        file_issues = pl.concat(self._file) if self._file else issues_frame()
        rec = pl.concat(self._records) if self._records else issues_frame()
        listing = pl.concat([file_issues, rec])
        listed = listing.height
        if listed > max(self.max_issues, file_issues.height):
            listing = listing.head(max(self.max_issues, file_issues.height))
        truncated = self._total > listing.height
        tally = (pl.concat(self._tally).group_by("code", "severity", "field").agg(pl.col("count").sum())
                 .sort("count", "code", "field", descending=[True, False, False], nulls_last=True)
                 if self._tally else pl.DataFrame(schema=TALLY_SCHEMA))
        return Report(source=source, type=type, format=format, encoding=encoding, delimiter=delimiter,
                      records=records, bytes=bytes, errors=errors, warnings=warnings, by_code=by_code,
                      issues=listing, truncated=truncated, strict=strict, tally=tally)


def error_document(*, source: str, code: str, message: str, exit: int) -> dict[str, Any]:
    """The JSON document of a validation that made no report: the program error that stopped it.

    ``code`` is the error's stable kebab-case name (``read-error``, ``schema-error`` ...), ``exit`` the
    command line's exit code for it. It is the second shape of ``report.schema.json``: a reader tells the
    two apart by the ``error`` key, and ``valid`` is false in both when the file cannot be uploaded as is.
    """
    return {"cgformat_report": REPORT_VERSION, "valid": False, "source": source,
            "error": {"code": code, "message": message, "exit": exit}}


def report_json_schema() -> dict[str, Any]:
    """The published JSON Schema of the report document and of the error document
    (``cgformat/report.schema.json``)."""
    text = resources.files("cgformat").joinpath("report.schema.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc
