"""Record checks across fields: the schema's rules (require-any, requires, not-after), a record that is the
header again, an empty record. Duplicate keys, which span batches, are in :mod:`.duplicates`."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from .. import checks
from ..model import Issue, IssueCode, Severity, SourceInfo
from ..schema import Resolution, Schema
from . import messages
from .cells import Check, parse_datetime
from .header import column_of, header_line

__all__ = ["empty_record", "repeated_header", "rule_checks"]


def rule_checks(schema: Schema | None, resolution: Resolution | None, info: SourceInfo,
                missing_values: Sequence[str]) -> tuple[list[Check], list[Issue]]:
    """The checks of the schema's rules, and the header issues of rules that no column can meet."""
    if schema is None:
        return [], []
    out: list[Check] = []
    header: list[Issue] = []

    def empty(col: str) -> pl.Expr:
        return ~checks.non_empty(pl.col(col), missing=missing_values)

    for rule in schema.rules:
        cols = [column_of(resolution, n) for n in rule.fields]
        if rule.kind == "require-any":
            present = [c for c in cols if c is not None]
            if not present:
                header.append(Issue(code=IssueCode.MISSING_LABEL, severity=Severity.ERROR, line=header_line(info),
                                    field=rule.fields[0],
                                    message=messages.no_column_for_any(rule.fields, rule.message)))
                continue
            out.append(Check(code=rule.code, severity=rule.severity, column=present[0], field=present[0],
                             fails=pl.all_horizontal([empty(c) for c in present]),
                             message=rule.message or messages.rule_require_any(rule.fields)))
        elif rule.kind == "requires":
            a, b = cols
            if a is None:
                continue
            fails = ~empty(a) if b is None else (~empty(a) & empty(b))
            out.append(Check(code=rule.code, severity=rule.severity, column=b, field=b or rule.fields[1],
                             fails=fails, message=rule.message or messages.rule_requires(*rule.fields[:2])))
        elif rule.kind == "not-after":
            a, b = cols
            fa = schema.field(rule.fields[0])
            fb = schema.field(rule.fields[1])
            if a is None or b is None or fa is None or fb is None:
                continue
            pa = parse_datetime(pl.col(a), fa)
            pb = parse_datetime(pl.col(b), fb)
            out.append(Check(code=rule.code, severity=rule.severity, column=a, field=a,
                             fails=(pa > pb).fill_null(False),
                             message=rule.message or messages.rule_not_after(*rule.fields[:2])))
    return out, header


def repeated_header(info: SourceInfo) -> list[Check]:
    """A record that is the header row again (two exports joined into one file): an error, found on the
    rows whose first value is the first label (a cheap screen)."""
    labels, columns = info.labels, info.columns
    if info.format == "xml" or len(columns) < 2 or not any(label.strip() for label in labels):
        return []
    return [Check(code=IssueCode.REPEATED_HEADER, severity=Severity.ERROR, column=columns[0], field=columns[0],
                  fails=pl.all_horizontal([pl.col(c) == label for c, label in zip(columns, labels, strict=True)]),
                  message=messages.REPEATED_HEADER, screen=pl.col(columns[0]) == labels[0])]


def empty_record(columns: Sequence[str]) -> list[Check]:
    """A record of empty values only (a line of delimiters, a row Excel left behind): one error, found on
    the rows whose first value is empty (a cheap screen)."""
    if not columns:
        return []
    return [Check(code=IssueCode.EMPTY_RECORD, severity=Severity.ERROR, column=None, field=columns[0],
                  fails=pl.all_horizontal([pl.col(c) == "" for c in columns]),
                  message=messages.EMPTY_RECORD, screen=pl.col(columns[0]) == "")]
