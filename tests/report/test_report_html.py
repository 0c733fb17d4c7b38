"""The HTML report page: escaping, visible invisible characters, the policy, counts, the cut listing, the CLI."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import time
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from cgformat.cli import main
from cgformat.limits import get_profile
from cgformat.model import Issue, Severity
from cgformat.report import TALLY_SCHEMA, Report, ReportCollector
from cgformat.report_html import CONTENT_SECURITY_POLICY, plain, visible

from ._export import IMG, SCRIPT, write_export
from ._page import read_page


def _issue(code: str, record: int | None, fld: str | None, value: str, sev: Severity = Severity.ERROR) -> Issue:
    return Issue(code=code, severity=sev, message=f"fix {code}", record=record, line=None if record is None
                 else record + 1, field=fld, value=value)


def _report(issues: list[Issue], *, max_issues: int = 1000, records: int = 50) -> Report:
    c = ReportCollector(max_issues=max_issues)
    half = len(issues) // 2
    c.add(issues[:half])        # two batches: counts add up across them
    c.add(issues[half:])
    return c.report(source="data/export.csv", type="transactional", format="csv", encoding="utf-8",
                    delimiter=",", records=records, bytes=1234)


def _sha(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_visible_shows_hidden_characters_and_escapes_markup() -> None:
    out = visible("  a\tb\n\r\x00\x07\u200b\u202e\ufeff\u00a0<b>&\"' ")
    assert re.sub(r"<span[^>]*>[^<]*</span>", "", out) == "ab&lt;b&gt;&amp;&quot;&#x27;"
    marks = re.findall(r'<span class="x" title="([^"]*)">([^<]*)</span>', out)
    assert [m[1] for m in marks] == ["··", "⇥", "↵", "␍", "␀", "␇", "U+200B", "U+202E", "U+FEFF", "⍽", "·"]
    assert marks[6][0] == "U+200B ZERO WIDTH SPACE"
    assert visible("a  b", spaces=False) == "a  b"
    assert visible("plain text") == "plain text"
    assert visible("\ud800x") == '<span class="x" title="U+D800 SURROGATE">U+D800</span>x'
    assert visible(None) == ""
    assert plain("a\u202e\tb<") == "aU+202E⇥b&lt;"


def test_hostile_values_are_text_and_the_policy_admits_only_the_page_s_own_style_and_script() -> None:
    report = _report([_issue("invalid-email", 1, "Email", SCRIPT), _issue("invalid-email", 2, IMG, IMG),
                      _issue("type-error", 3, "</style><script>x()</script>\u202e", "</textarea></title>\u202e")])
    records = pl.DataFrame({"#r": [1, 2, 3], "#l": [2, 3, 4], "Email": [SCRIPT, IMG, "ok"],
                            IMG: ["a", IMG, "b"], "</style><script>x()</script>\u202e": ["", "", "\u202e</title>"]})
    page = report.to_html(profile=get_profile("api"), records=records, labels=list(records.columns[2:]))
    assert page.count("<script") == 1
    assert page.count("</script>") == 1
    assert "<img" not in page
    assert "</title></" not in page
    assert "\u202e" not in page
    head = page.split("</head>", 1)[0]
    assert head.count("<title>") == 1
    assert page.count("</style>") == 1
    assert "</textarea>" not in page
    doc = read_page(page)
    assert doc.title.startswith("Invalid: export.csv")
    policy = next(a["content"] for t, a in doc.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert policy == CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == f"'{_sha(doc.scripts[0])}'"
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert directives["style-src"] == f"'{_sha(style)}'"
    assert "unsafe" not in policy
    assert not any(k.startswith("on") for _, a in doc.tags for k in a)       # no event handler attribute
    values = [r.cells[5] for r in doc.tables["issues"]]
    assert values[0] == SCRIPT
    assert values[1] == IMG
    assert [r.attrs["data-f"] for r in doc.tables["issues"]] == ["Email", IMG, "</style><script>x()</script>\u202e"]
    options = [a.get("value") for t, a in doc.tags if t == "option"]
    assert "</style><script>x()</script>\u202e" in options                   # the filter matches the attribute
    assert "</style><script>x()</script>U+202E" in [r.cells[0] for r in doc.tables["field-counts"]]


def test_counts_by_code_and_field_cover_every_issue_even_when_the_listing_is_cut() -> None:
    issues = ([_issue("invalid-email", r, "Email", "x") for r in range(1, 31)]
              + [_issue("invalid-phone", r, "Phone", "1") for r in range(1, 8)]
              + [_issue("mojibake", r, "Email", "Ã©", Severity.WARNING) for r in range(5, 10)]
              + [_issue("too-many-records", None, None, "9000")])
    report = _report(issues, max_issues=10)
    doc = read_page(report.to_html())
    by_code = {r.cells[0]: r.cells[1:] for r in doc.tables["code-counts"]}
    assert by_code == {"invalid-email": ["30", "0", "30"], "invalid-phone": ["7", "0", "7"],
                       "mojibake": ["0", "5", "5"], "too-many-records": ["1", "0", "1"]}
    by_field = {r.cells[0]: r.cells[1:] for r in doc.tables["field-counts"]}
    assert by_field == {"Email": ["30", "5", "35"], "Phone": ["7", "0", "7"]}
    rows = doc.tables["issues"]
    assert [r.attrs["data-c"] for r in rows[:2]] == ["too-many-records", "invalid-email"]   # file issue first
    assert len(rows) == 10
    note = re.search(r'id="cut">.*?first ([\d,]+) of ([\d,]+) issues', report.to_html())
    assert note is not None
    assert note.groups() == ("10", "43")


def test_no_cut_note_when_everything_is_listed_and_a_valid_page() -> None:
    report = _report([_issue("invalid-email", 1, "Email", "x")])
    assert 'id="cut"' not in report.to_html()
    empty = _report([])
    page = empty.to_html()
    doc = read_page(page)
    assert doc.title.startswith("Valid: export.csv")
    assert "issues" not in doc.tables


def test_records_view_marks_the_bad_cells_of_each_record() -> None:
    report = _report([_issue("invalid-email", 2, "Email", "x"), _issue("mojibake", 2, "Name", "Ã©", Severity.WARNING),
                      _issue("duplicate-row", 4, None, ""), _issue("invalid-phone", 4, "Phone", "+1")])
    records = pl.DataFrame({"record": [2, 4], "line": [3, 5], "Email": ["x", "b@c.de"], "Name": ["Ã©", "Bo"],
                            "Phone": ["31", "+1"]})
    doc = read_page(report.to_html(records=records, labels=["Email", "Name", "Phone"]))
    rows = doc.tables["records"]
    assert [r.attrs["id"] for r in rows] == ["r2", "r4"]
    assert [r.cells[:3] for r in rows] == [["2", "3", "invalid-emailmojibake"], ["4", "5", "duplicate-rowinvalid-phone"]]
    classes = [[a.get("class") for a in r.cell_attrs[3:]] for r in rows]
    assert classes == [["bad", "wbad", None], [None, None, "bad"]]
    links = [a["href"] for t, a in doc.tags if t == "a" and a.get("href", "").startswith("#r")]
    assert links == ["#r2", "#r2", "#r4", "#r4"]


def test_a_report_without_a_tally_still_charts_its_counts_by_code() -> None:
    full = _report([_issue("invalid-email", 1, "Email", "x"), _issue("mojibake", 2, "Name", "y", Severity.WARNING)])
    bare = dataclasses.replace(full, tally=pl.DataFrame(schema=TALLY_SCHEMA))
    doc = read_page(bare.to_html())
    assert {r.cells[0]: r.cells[1:] for r in doc.tables["code-counts"]} == {
        "invalid-email": ["1", "0", "1"], "mojibake": ["0", "1", "1"]}


def test_head_keeps_file_issues_and_marks_the_report_cut() -> None:
    report = _report([_issue("too-many-records", None, None, "1")] + [_issue("x", r, "F", "") for r in range(1, 6)])
    cut = report.head(2)
    assert cut.issues["record"].to_list() == [None, 1]
    assert cut.truncated
    assert cut.errors == 6
    assert report.head(10) is report


def test_ten_thousand_issues_render_fast_and_small() -> None:
    message = ("not a valid email: no spaces anywhere, exactly one @, a name before it and a dotted domain after "
               "(`cgformat fix` trims surrounding spaces)")
    issues = [Issue(code=("invalid-email", "invalid-phone", "too-long")[r % 3], severity=Severity.ERROR,
                    message=message, record=r, line=r + 1, field=("Email", "Phone", "Name")[r % 3],
                    value="v" * (r % 60)) for r in range(1, 10_001)]
    report = _report(issues, max_issues=10_000, records=20_000)
    start = time.perf_counter()
    page = report.to_html()
    assert time.perf_counter() - start < 5
    assert len(page.encode()) < 4_000_000
    assert len(read_page(page).tables["issues"]) == 10_000


def test_cli_writes_the_page_beside_the_json(tmp_path: Path) -> None:
    src = tmp_path / "export.csv"
    plan = write_export(src, records=3_000)
    page = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["validate", str(src), "--type", "transactional", "--json",
                                       "--html", str(page)])
    assert result.exit_code == 1
    doc_json = json.loads(result.stdout)
    doc = read_page(page.read_text(encoding="utf-8"))
    listed = {int(r.cells[0]) for r in doc.tables["issues"] if r.cells[0].isdigit()}
    assert listed == {i["record"] for i in doc_json["issues"] if i["record"] is not None}
    assert set(plan) <= listed
    assert {r.attrs["id"] for r in doc.tables["records"]} == {f"r{n}" for n in listed}
    assert {r.cells[0]: int(r.cells[3]) for r in doc.tables["code-counts"]} == {
        k: v["count"] for k, v in doc_json["counts"]["by_code"].items()}


def test_cli_html_lists_up_to_ten_thousand_while_json_keeps_its_default(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("Email,OrderDate\n" + "".join(f"bad{r},2025-01-01 00:00:00\n" for r in range(1, 1501)),
                   encoding="utf-8")
    page = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["validate", str(src), "--type", "transactional", "--json", "--html", str(page)])
    assert result.exit_code == 1
    doc_json = json.loads(result.stdout)
    assert len(doc_json["issues"]) == 1000
    assert doc_json["truncated"] is True
    assert doc_json["counts"]["errors"] == 1500
    rows = read_page(page.read_text(encoding="utf-8")).tables["issues"]
    assert len(rows) == 1500
    capped = CliRunner().invoke(main, ["validate", str(src), "--type", "transactional", "--html", str(page),
                                       "--max-errors", "7"])
    assert capped.exit_code == 1
    text = page.read_text(encoding="utf-8")
    assert len(read_page(text).tables["issues"]) == 7
    assert 'id="cut"' in text


def test_cli_html_into_a_missing_folder_is_a_one_line_error(tmp_path: Path) -> None:
    src = tmp_path / "ok.csv"
    src.write_text("Email,OrderDate\na@b.de,2025-01-01 00:00:00\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(src), "--type", "transactional",
                                       "--html", str(tmp_path / "nope" / "r.html")])
    assert result.exit_code == 3
    assert "--html" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert not (tmp_path / "nope").exists()


def test_cli_valid_file_page_says_valid(tmp_path: Path) -> None:
    src = tmp_path / "ok.csv"
    src.write_text("Email,OrderDate\na@b.de,2025-01-01 00:00:00\n", encoding="utf-8")
    page = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["validate", str(src), "--type", "transactional", "--html", str(page)])
    assert result.exit_code == 0
    doc = read_page(page.read_text(encoding="utf-8"))
    assert doc.title.startswith("Valid: ok.csv")
    assert "records" not in doc.tables


def test_cli_page_of_a_workbook_shows_its_bad_records_with_their_sheet_rows(tmp_path: Path) -> None:
    import xlsxwriter

    src = tmp_path / "export.xlsx"
    book = xlsxwriter.Workbook(str(src))
    sheet = book.add_worksheet("Orders")
    rows = [["Email", "OrderDate"], ["a@b.de", "2025-01-01 00:00:00"], ["not-an-email", "2025-01-02 00:00:00"],
            ["c@d.de", "2025-02-30 10:00:00"]]
    for r, row in enumerate(rows):
        sheet.write_row(r, 0, row)
    book.close()
    page = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["validate", str(src), "--type", "transactional", "--html", str(page)])
    assert result.exit_code == 1
    doc = read_page(page.read_text(encoding="utf-8"))
    assert [r.cells[:2] for r in doc.tables["records"]] == [["2", "3"], ["3", "4"]]
    assert [[a.get("class") for a in r.cell_attrs[3:]] for r in doc.tables["records"]] == [["bad", None],
                                                                                          [None, "bad"]]


def test_cli_page_of_standard_input_leaves_out_the_records_view(tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["validate", "-", "--type", "transactional", "--html", str(page)],
                                input="Email,OrderDate\nbad,2025-01-01 00:00:00\n")
    assert result.exit_code == 1
    doc = read_page(page.read_text(encoding="utf-8"))
    assert [r.attrs["data-c"] for r in doc.tables["issues"]] == ["invalid-email"]
    assert "records" not in doc.tables
