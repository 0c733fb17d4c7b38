"""File-level checks, once every record is read: the profile's limits (records, bytes), the encoding, the
delimiter, Excel's ``sep=`` line, the file name's suffix, and the reader's findings about the whole file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import PurePath

from ..limits import LimitProfile
from ..model import Issue, IssueCode, Severity, SourceInfo
from . import messages

__all__ = ["GRADED_AT_FINISH", "file_issues"]

GRADED_AT_FINISH = frozenset({IssueCode.TRAILING_DELIMITER.value})
"""Codes of reader findings about the whole file that :func:`file_issues` grades once every record is read."""

_UTF8 = {"utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig", "ascii", "us-ascii"}
_CG_SUFFIXES = {".csv", ".xls", ".xlsx", ".xml"}


def file_issues(info: SourceInfo, profile: LimitProfile, notes: Sequence[Issue], *, records: int,
                bytes: int) -> list[Issue]:
    """The file's issues: ``notes`` (the reader's findings of :data:`GRADED_AT_FINISH`) graded, the
    profile's limits against ``records`` and ``bytes``, encoding, delimiter, ``sep=`` line and suffix."""
    out: list[Issue] = []
    p = profile
    for noted in notes:
        out.append(replace(noted, severity=Severity.ERROR, message=messages.trailing_delimiter(noted.value,
                                                                                               noted.line)))
    if records == 0:
        out.append(Issue(code=IssueCode.EMPTY_FILE, severity=Severity.WARNING, message=messages.empty_file()))
    if records > p.max_records:
        out.append(Issue(code=IssueCode.TOO_MANY_RECORDS, severity=Severity.ERROR, value=str(records),
                         message=messages.too_many_records(records, p.name, p.max_records)))
    if bytes > p.max_bytes:
        out.append(Issue(code=IssueCode.FILE_TOO_LARGE, severity=Severity.ERROR, value=str(bytes),
                         message=messages.file_too_large(bytes, p.name, p.max_bytes)))
    enc = (info.encoding or "utf-8").lower()
    if info.format == "csv" and "+" in enc:
        out.append(Issue(code=IssueCode.NON_UTF8, severity=Severity.ERROR, value=info.encoding,
                         message=messages.mixed_encoding(enc.rpartition("+")[2])))
    elif info.format == "csv" and enc not in _UTF8:
        out.append(Issue(code=IssueCode.NON_UTF8, severity=Severity.ERROR, value=info.encoding,
                         message=messages.non_utf8(info.encoding)))
    if info.format == "csv" and info.delimiter not in (None, ","):
        strict = p.name in ("api", "revenue")
        out.append(Issue(code=IssueCode.DELIMITER, severity=Severity.ERROR if strict else Severity.WARNING,
                         value=info.delimiter, message=messages.delimiter(info.delimiter, strict=strict)))
    sep = next((i for i in info.issues if i.code == IssueCode.SEP_LINE), None)
    if sep is not None:
        out.append(Issue(code=IssueCode.SEP_LINE, severity=Severity.ERROR, line=sep.line, value=sep.value,
                         message=messages.sep_line(sep.value)))
    suffix = PurePath(info.source).suffix.lower()
    if info.source not in ("-", "<bytes>", "<stream>") and suffix and suffix not in _CG_SUFFIXES:
        out.append(Issue(code=IssueCode.UNSUPPORTED_FORMAT, severity=Severity.WARNING, value=suffix,
                         message=messages.unsupported_suffix(suffix)))
    return out
