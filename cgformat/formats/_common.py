"""Pieces every reader shares: header-label findings and a seekable view of any stream."""

from __future__ import annotations

import shutil
import tempfile
from typing import BinaryIO

from ..model import Issue, IssueCode, Severity, unique_columns

__all__ = ["label_issues", "seekable"]


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


def seekable(stream: BinaryIO) -> BinaryIO:
    """The stream itself when it can seek, else a temporary file holding its content (read twice by readers)."""
    if stream.seekable():
        return stream
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the reader that holds it
    shutil.copyfileobj(stream, spool, 1 << 20)
    spool.seek(0)
    return spool
