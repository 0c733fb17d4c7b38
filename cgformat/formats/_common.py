"""Pieces every reader shares: header-label findings and a seekable view of any stream."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from typing import BinaryIO

from ..model import Issue, IssueCode, Severity, unique_columns

__all__ = ["HINT_ROWS", "label_issues", "seekable", "title_row_hint"]


def label_issues(labels: tuple[str, ...], line: int) -> list[Issue]:
    """Blank and repeated labels (errors) and labels with spaces around them (warnings), by position."""
    issues: list[Issue] = []
    columns = unique_columns(labels)
    seen: dict[str, int] = {}
    for position, (label, column) in enumerate(zip(labels, columns, strict=True), start=1):
        if label == "":
            issues.append(Issue(code=IssueCode.BLANK_LABEL, severity=Severity.ERROR, line=line, field=column,
                                value=label, message=f"header column {position} has no label; name it, or remove "
                                                     f"the column (`cgformat fix` removes it when it holds no value)"))
        elif label in seen:
            issues.append(Issue(code=IssueCode.DUPLICATE_LABEL, severity=Severity.ERROR, line=line,
                                field=column, value=label,
                                message=f"header column {position} repeats the label {label!r} of column "
                                        f"{seen[label]}; rename or remove one of them"))
        if label != label.strip():
            issues.append(Issue(code=IssueCode.PADDED_LABEL, severity=Severity.WARNING, line=line,
                                field=column, value=label,
                                message=f"header column {position} label {label!r} has leading or trailing "
                                        f"spaces; remove them"))
        seen.setdefault(label, position)
    return issues


HINT_ROWS = 30   # rows below a title-like header searched for the real one


def title_row_hint(labels: tuple[str, ...], header_line: int, rows: Sequence[tuple[Sequence[str], int]], *,
                   where: str) -> Issue | None:
    """A ``title-row`` warning when the header row holds at most one value (a title such as "Order export")
    and one of the next ``rows`` (values, line) holds several: it names that line for ``--header-row``.
    ``where`` is "line" (CSV) or "sheet row" (Excel)."""
    filled = [label for label in labels if label.strip()]
    if len(filled) > 1:
        return None
    # the header is taken to be the first row as full as any (a subtitle above it holds fewer values)
    counts = [(sum(1 for v in values if v.strip()), line) for values, line in rows[:HINT_ROWS]]
    widest = max((n for n, _ in counts), default=0)
    if widest < 2:
        return None
    line = next(line for n, line in counts if n == widest)
    title = f" ({filled[0][:60]!r})" if filled else ""
    return Issue(code=IssueCode.TITLE_ROW, severity=Severity.WARNING, line=header_line,
                 value=filled[0] if filled else None,
                 message=f"{where} {header_line} holds {'one value' if filled else 'nothing'}{title} "
                         f"where the header should be: if the header is {where} {line}, give "
                         f"--header-row {line} (with `cgformat fix --header-row {line}` the rows above "
                         f"it are left out of the file written)")


def seekable(stream: BinaryIO) -> BinaryIO:
    """The stream itself when it can seek, else a temporary file holding its content (read twice by readers)."""
    if stream.seekable():
        return stream
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the reader that holds it
    shutil.copyfileobj(stream, spool, 1 << 20)
    spool.seek(0)
    return spool
