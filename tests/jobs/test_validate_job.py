"""The validate job over a source: the records checked so far reach ``progress``; the records with issues
are read again for the report page."""

from __future__ import annotations

from pathlib import Path

from cgformat.formats import ReadOptions
from cgformat.jobs.validate import records_with_issues, validate_file, write_report_page
from cgformat.limits import get_profile

DATA = b"Email,Name\na@example.com,A\nnot-an-address,B\nc@example.com,C\nd@example.com,D\nbad@,E\n"


def test_progress_is_told_the_records_checked_batch_by_batch() -> None:
    seen: list[int] = []
    report = validate_file(DATA, None, fmt="csv", options=ReadOptions(batch_size=3), progress=seen.append)
    assert seen == [3, 5]
    assert report.records == 5


def test_the_records_with_issues_are_read_again_whole(tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    src.write_bytes(DATA)
    report = validate_file(src, "contact", options=ReadOptions(batch_size=2))
    wanted = sorted({r for r in report.issues["record"].to_list() if r is not None})
    rows = records_with_issues(str(src), report, fmt=None, options=ReadOptions(batch_size=2))
    assert rows is not None
    frame, labels = rows
    assert labels == ("Email", "Name")
    assert frame[frame.columns[0]].to_list() == wanted             # record numbers, in order
    assert frame[frame.columns[1]].to_list() == [r + 1 for r in wanted]   # their lines (after the header)
    assert records_with_issues("-", report, fmt=None, options=None) is None   # standard input: not twice
    page = tmp_path / "page.html"
    write_report_page(page, report, src=str(src), fmt=None, options=None, profile=get_profile("api"))
    assert page.read_text(encoding="utf-8").startswith("<!")
