"""Header checks: the labels (blank, padded, repeated), the schema's resolution of them (aliases, missing and
unknown columns, a template's order), the title-row hint, and where each field's column is."""

from __future__ import annotations

from dataclasses import replace

from ..model import FRAME, Issue, IssueCode, Severity, SourceInfo
from ..schema import Resolution, Schema
from . import messages

__all__ = ["column_of", "header_issues", "header_line", "title_row_of"]


def header_issues(info: SourceInfo, schema: Schema | None, resolution: Resolution | None) -> list[Issue]:
    """The header's issues: the reader's (less those the file-level checks grade again, and a title-row hint
    when a label is a field), the labels' own, and the schema's resolution's, at the header's line."""
    left_out = {IssueCode.NON_UTF8.value, IssueCode.DELIMITER.value, IssueCode.SEP_LINE.value}
    if resolution is not None and resolution.mapping:
        left_out.add(IssueCode.TITLE_ROW.value)
    reader = [i for i in info.issues if not (str(i.code) in left_out and i.record is None)]
    reader_codes = {str(i.code) for i in reader}
    own: list[Issue] = []
    labels = info.labels
    template = schema is not None and schema.template
    for pos, (label, column) in enumerate(zip(labels, info.columns, strict=True), start=1):
        if label.strip() == "" and IssueCode.BLANK_LABEL.value not in reader_codes:
            own.append(Issue(code=IssueCode.BLANK_LABEL, severity=Severity.ERROR if template else Severity.WARNING,
                             line=1, field=column, value=label, message=messages.blank_label(pos)))
        elif label != label.strip() and IssueCode.PADDED_LABEL.value not in reader_codes:
            own.append(Issue(code=IssueCode.PADDED_LABEL, severity=Severity.WARNING, line=1, field=column,
                             value=label, message=messages.padded_label(pos, label)))
        if label.strip() and labels.index(label) != pos - 1 and IssueCode.DUPLICATE_LABEL.value not in reader_codes:
            own.append(Issue(code=IssueCode.DUPLICATE_LABEL, severity=Severity.ERROR, line=1, field=column,
                             value=label, message=messages.duplicate_label(pos, label, labels.index(label) + 1)))
    # the header's own issues are made at line 1: moved to the header's line (the reader's have theirs)
    line = header_line(info)
    mine = own + list(resolution.issues if resolution else ())
    return reader + [replace(i, line=line) if (i.line == 1 and line != 1 and i.record is None) else i for i in mine]


def column_of(resolution: Resolution | None, name: str) -> str | None:
    """The frame column that holds field ``name`` (its first, when a label repeats), or None."""
    if resolution is None:
        return None
    for m in resolution.columns:
        if m.field is not None and m.field.name == name and m.how != "duplicate":
            return m.column
    return None


def title_row_of(info: SourceInfo, schema: Schema | None) -> Issue | None:
    """The reader's ``title-row`` hint, unless the header's one label is a field of ``schema``: then the row
    is a header with unlabelled columns, not a title (:class:`Validator` leaves the hint out alike)."""
    hint = next((i for i in info.issues if i.code == IssueCode.TITLE_ROW), None)
    if hint is not None and schema is not None and schema.resolve(info.labels, xml=info.format == "xml").mapping:
        return None
    return hint


def header_line(info: SourceInfo) -> int | None:
    """The line of the header: where the reader found it (1 unless blank lines, or a title with
    ``--header-row``, come first); none for XML (no header row) and a DataFrame (no lines)."""
    return None if info.format in ("xml", FRAME) else info.header_line or 1
