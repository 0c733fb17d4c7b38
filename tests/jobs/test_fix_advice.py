"""``fix`` does what validate advises (issue 15, item 6): a trailing delimiter on every record is one pattern,
which fix drops; the rejects keep a ragged record's extra values; a template's missing columns are added."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cgformat.cli import main
from cgformat.files import read_file
from cgformat.formats import ReadOptions
from cgformat.jobs.fix import fix_file
from cgformat.jobs.split import split_file
from cgformat.jobs.template import schema_from_template
from cgformat.jobs.validate import separate_file, validate_file
from cgformat.schema import Schema, load_schema

HEADER = "Email,FirstName,OrderDate\n"


def _rows(n: int, end: str = ",") -> str:
    return "".join(f"user{i}@example.com,Name{i},2026-11-27 14:05:00{end}\n" for i in range(1, n + 1))


@pytest.mark.parametrize("batch_size", [7, 100_000])
def test_a_trailing_delimiter_on_every_record_is_one_pattern_not_n_ragged_rows(tmp_path: Path,
                                                                                batch_size: int) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + _rows(1000), encoding="utf-8")
    opts = ReadOptions(batch_size=batch_size)
    report = validate_file(src, "transactional", options=opts)
    assert report.issues.select("code", "severity", "record", "line", "value").rows() == [
        ("trailing-delimiter", "error", None, 2, "1000")]
    assert report.records == 1000
    # the reader's own finding: the same, a warning (nothing is lost reading it)
    table = read_file(src, options=opts)
    assert [(i.code, i.severity, i.record, i.line, i.value) for i in table.issues] == [
        ("trailing-delimiter", "warning", None, 2, "1000")]
    assert table.frame.row(999) == ("user1000@example.com", "Name1000", "2026-11-27 14:05:00")


def test_fix_drops_the_empty_trailing_field_and_reports_it(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + _rows(1000), encoding="utf-8")
    done = fix_file(src, tmp_path / "out.csv", None, read_options=ReadOptions(batch_size=64))
    assert done.broken == ()
    assert done.records == 1000
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == HEADER + _rows(1000, end="")
    assert [(i.code, i.value, i.line) for i in done.reader_issues if i.code == "trailing-delimiter"] == [
        ("trailing-delimiter", "1000", 2)]
    assert validate_file(tmp_path / "out.csv", "transactional").valid
    run = CliRunner().invoke(main, ["fix", str(src), str(tmp_path / "cli.csv"), "--type", "transactional",
                                    "--json"])
    assert run.exit_code == 0
    out = json.loads(run.stdout)
    assert [(i["code"], i["value"]) for i in out["reader_issues"]] == [("trailing-delimiter", "1000")]
    assert (tmp_path / "cli.csv").read_text(encoding="utf-8") == HEADER + _rows(1000, end="")


def test_crlf_and_quoted_records_with_a_trailing_delimiter(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(b'Email,FirstName,OrderDate\r\na@x.nl,"Doe, J",2026-11-27 14:05:00,\r\n'
                    b'b@x.nl,"two\r\nlines",2026-11-27 14:05:00,\r\n')
    table = read_file(src)
    assert table.frame.rows() == [("a@x.nl", "Doe, J", "2026-11-27 14:05:00"),
                                  ("b@x.nl", "two\r\nlines", "2026-11-27 14:05:00")]
    assert [(i.code, i.value) for i in table.issues] == [("trailing-delimiter", "2")]


def test_without_the_pattern_from_record_1_an_extra_empty_field_is_a_ragged_row(tmp_path: Path) -> None:
    # "Doe, John" unquoted with an empty last value: one field too many, the last empty, but the values
    # shifted: only a pattern from the first record on is taken for a trailing delimiter
    src = tmp_path / "in.csv"
    src.write_text("Email,Name,Country\na@x.nl,Ann,NL\nb@x.nl,Doe, John,\nc@x.nl,Cees,NL\n", encoding="utf-8")
    table = read_file(src)
    assert [(i.code, i.record, i.line, i.value) for i in table.issues] == [("ragged-row", 2, 3, "")]
    # and with the pattern, a record with two fields too many is still ragged
    src.write_text("Email,Name,Country\na@x.nl,Ann,NL,\nb@x.nl,Doe, John,,\nc@x.nl,Cees,NL,\n", encoding="utf-8")
    table = read_file(src)
    assert [(i.code, i.record, i.line, i.value) for i in table.issues] == [
        ("ragged-row", 2, 3, ","), ("trailing-delimiter", None, 2, "2")]


def test_the_rejects_keep_the_extra_values_of_a_ragged_record(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "a@x.nl,A,2026-11-27 14:05:00,x,y\nb@x.nl,B,2026-11-27 14:05:00\n"
                   'c@x.nl,C,2026-11-27 14:05:00,"q,1"\nd@x.nl,D\n', encoding="utf-8")
    done = separate_file(src, "transactional", clean=tmp_path / "ok.csv", rejects=tmp_path / "bad.csv")
    assert (done.clean, done.rejected) == (1, 3)
    bad = read_file(tmp_path / "bad.csv").frame
    assert bad.columns == ["Email", "FirstName", "OrderDate", "_extra", "_errors"]
    assert bad.select("Email", "_extra").rows() == [("a@x.nl", "x,y"), ("c@x.nl", '"q,1"'), ("d@x.nl", "")]
    # split's rejects alike
    result = split_file(src, tmp_path / "parts", schema=_tx())
    rej = read_file(tmp_path / "parts" / "rejects.csv").frame
    assert rej.select("Email", "_extra").rows() == [("a@x.nl", "x,y"), ("c@x.nl", '"q,1"'), ("d@x.nl", "")]
    assert result.manifest.rejected == 3


def _tx() -> Schema:
    return load_schema("transactional")


@pytest.mark.parametrize("kind", ["revenue", "template"])
def test_header_messages_name_the_template_only_when_one_was_given_and_promise_what_fix_does(
        tmp_path: Path, kind: str) -> None:
    src = tmp_path / "in.csv"
    if kind == "revenue":
        schema = load_schema("revenue")
        src.write_text("Account name,Revenue Amount,Revenue end date,Revenue start date,Foo\n"
                       "ACME,1234,2026-12-31,2026-01-01,x\n", encoding="utf-8")
    else:
        (tmp_path / "template.csv").write_text("Email,FirstName,Phone\n", encoding="utf-8")
        schema = schema_from_template(tmp_path / "template.csv")
        src.write_text("FirstName,EMAIL,Foo\nAnn,a@x.nl,x\n", encoding="utf-8")
    before = validate_file(src, schema, template=kind == "template").issues
    header = before.filter(before["record"].is_null())
    assert set(header["code"].to_list()) >= {"missing-label", "extra-label", "label-order"}
    named = {c for c, m in header.select("code", "message").iter_rows() if "template" in m}
    assert named == (set() if kind == "revenue" else {"missing-label", "extra-label", "label-case"})
    fix_file(src, tmp_path / "out.csv", schema, drop_extra=False)
    fix_file(src, tmp_path / "dropped.csv", schema, drop_extra=True)
    after = {(c, f) for c, f in validate_file(tmp_path / "out.csv", schema, template=kind == "template")
             .issues.select("code", "field").iter_rows()}
    dropped = {(c, f) for c, f in validate_file(tmp_path / "dropped.csv", schema, template=kind == "template")
               .issues.select("code", "field").iter_rows()}
    for code, field, message in header.select("code", "field", "message").iter_rows():
        if "`cgformat fix --drop-extra`" in message:
            assert (code, field) not in dropped, message
        elif "`cgformat fix`" in message:
            assert (code, field) not in after, message
        else:
            assert code in {c for c, _ in after}, message
