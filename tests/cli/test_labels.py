"""Conversion is exact whatever the header: blank labels are carried, and every label written under another
name (an XML element name, a record type's field name) is reported with the mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xlsxwriter
from click.testing import CliRunner

from cgformat.cli import main
from cgformat.files import read_file
from cgformat.jobs.convert import convert_file


def run(*args: str, input: bytes | None = None) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"raised {result.exception!r}") from result.exception
    return result.exit_code, result.stdout_bytes, result.stderr


def blank_header_workbook(path: Path) -> Path:
    """A common Excel export: a column of data beyond the labelled ones (its header cell left blank), on a
    second sheet."""
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Notes").write_row(0, 0, ["exported by hand"])
    sheet = book.add_worksheet("Data")
    sheet.write_row(0, 0, ["Email", "Name"])
    sheet.write_row(1, 0, ["a@example.com", "Ann", "extra 1"])
    sheet.write_row(2, 0, ["b@example.com", "Bob"])
    sheet.write_row(3, 0, ["c@example.com", "Cas", "0042"])
    book.close()
    return path


@pytest.mark.parametrize("to", ["csv", "xlsx"])
def test_a_blank_header_above_data_is_carried_with_its_blank_label(tmp_path: Path, to: str) -> None:
    book = blank_header_workbook(tmp_path / "book.xlsx")
    dst = tmp_path / f"out.{to}"
    code, _, err = run("convert", str(book), str(dst), "--sheet", "Data")
    assert code == 0, err
    assert "refused" not in err
    back = read_file(dst)
    assert back.info.labels == ("Email", "Name", "")
    assert back.frame.rows() == [("a@example.com", "Ann", "extra 1"), ("b@example.com", "Bob", ""),
                                 ("c@example.com", "Cas", "0042")]
    if to == "csv":
        assert dst.read_bytes().splitlines()[0] == b"Email,Name,"
    # validate keeps reporting the blank label
    code, out, _ = run("validate", str(book), "--sheet", "Data", "--type", "transactional", "--json")
    assert code == 1
    assert ("blank-label", 1, "~column3") in [(i["code"], i["line"], i["field"]) for i in json.loads(out)["issues"]]


def test_a_blank_header_above_data_gets_a_reported_xml_element_name(tmp_path: Path) -> None:
    book = blank_header_workbook(tmp_path / "book.xlsx")
    dst = tmp_path / "out.xml"
    code, out, err = run("convert", str(book), str(dst), "--sheet", "Data", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["ok"] is True
    assert doc["labels"] == ["Email", "Name", "_"]
    assert doc["renamed"] == [{"column": 3, "label": "", "written": "_", "why": "xml-name"}]
    assert [(i["code"], i["value"]) for i in doc["issues"] if i["code"] == "renamed-label"] == [("renamed-label", "_")]
    assert b"<record><Email>a@example.com</Email><Name>Ann</Name><_>extra 1</_></record>" in dst.read_bytes()
    code, _, err = run("convert", str(book), str(tmp_path / "again.xml"), "--sheet", "Data")
    assert code == 0
    assert "renamed-label: column 3 (no label) written as '_'" in err


LABELS = "First Name,1st col,a/b,Email\nAnn,1,x,a@example.com\n"


def test_labels_that_are_no_xml_names_are_reported_with_the_mapping(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(LABELS, encoding="utf-8")
    result = convert_file(src, tmp_path / "lib.xml")
    assert result.ok
    want = [(1, "First Name", "First_Name"), (2, "1st col", "_1st_col"), (3, "a/b", "a_b")]
    assert [(r.column, r.label, r.written) for r in result.renamed] == want
    assert [(i.code, i.field, i.value) for i in result.issues] == [("renamed-label", label, name)
                                                                   for _, label, name in want]
    xml = tmp_path / "out.xml"
    code, out, _ = run("convert", str(src), str(xml), "--json")
    assert code == 0
    assert [(r["column"], r["label"], r["written"], r["why"]) for r in json.loads(out)["renamed"]] == [
        (*w, "xml-name") for w in want]
    code, _, err = run("convert", str(src), str(tmp_path / "text.xml"))
    assert code == 0
    for column, label, name in want:
        assert f"renamed-label: column {column} {label!r} written as {name!r}" in err
    # back to CSV: the names the report announced, not the labels (it said reading the XML back gives them)
    back = tmp_path / "back.csv"
    assert run("convert", str(xml), str(back))[0] == 0
    assert back.read_text(encoding="utf-8") == "First_Name,_1st_col,a_b,Email\nAnn,1,x,a@example.com\n"


def test_with_a_type_csv_to_xml_to_csv_gives_the_types_field_names_in_every_step(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("Email Address,First Name,OrderDate\na@example.com,Ann,2025-03-01 10:00:00\n", encoding="utf-8")
    xml = tmp_path / "out.xml"
    code, out, _ = run("convert", str(src), str(xml), "--type", "transactional", "--json")
    assert code == 0
    assert [(r["label"], r["written"], r["why"]) for r in json.loads(out)["renamed"]] == [
        ("Email Address", "Email", "field-name"), ("First Name", "FirstName", "field-name")]
    back = tmp_path / "back.csv"
    code, out, _ = run("convert", str(xml), str(back), "--type", "transactional", "--json")
    assert code == 0
    assert json.loads(out)["renamed"] == []
    assert back.read_text(encoding="utf-8") == "Email,FirstName,OrderDate\na@example.com,Ann,2025-03-01 10:00:00\n"
    direct = tmp_path / "direct.csv"
    assert run("convert", str(src), str(direct), "--type", "transactional")[0] == 0
    assert direct.read_bytes() == back.read_bytes()


def test_convert_from_standard_input_with_a_type(tmp_path: Path) -> None:
    # the command read standard input once for the tags and then found it empty
    data = b"E-mail,OrderDate\na@example.com,2025-03-01 10:00:00\n"
    code, out, err = run("convert", "-", "-", "--from", "csv", "--to", "xml", "--type", "transactional", input=data)
    assert code == 0, err
    assert b"<record><Email>a@example.com</Email><OrderDate>2025-03-01 10:00:00</OrderDate></record>" in out


ALIASED = ("Email Address,OrderDate,Note\n"
           "a@example.com,2025-03-01 10:00:00,one\n"
           "not-an-email,2025-03-01 10:00:00,two\n"
           "c@example.com,2025-03-02 10:00:00,three\n")


@pytest.mark.parametrize("to", ["csv", "xlsx", "xml"])
def test_split_with_a_type_writes_cgs_field_names_in_every_format(tmp_path: Path, to: str) -> None:
    src = tmp_path / "in.csv"
    src.write_text(ALIASED, encoding="utf-8")
    parts = tmp_path / "parts"
    code, out, err = run("split", str(src), "--type", "transactional", "--out", str(parts), "--to", to,
                         "--max-records", "1", "--json")
    assert code == 1   # one record rejected
    manifest = json.loads(out)
    assert manifest["renamed"] == [{"column": 1, "label": "Email Address", "written": "Email",
                                    "why": "field-name"}]
    assert "renamed-label" in err
    for part in manifest["parts"]:
        assert read_file(parts / part["file"]).info.labels == ("Email", "OrderDate", "Note")
    rejects = read_file(parts / manifest["rejects_file"])
    # a CSV source's rejects keep a ragged record's extra fields in _extra, before the reasons
    assert rejects.info.labels == ("Email", "OrderDate", "Note", "_extra", "_errors")
    # the reasons name the column as the rejects file shows it
    assert rejects.frame["_errors"].to_list() == ["invalid-email:Email"]


@pytest.mark.parametrize("to", ["csv", "xlsx", "xml"])
def test_validate_rejects_name_the_labels_the_file_shows(tmp_path: Path, to: str) -> None:
    src = tmp_path / "in.csv"
    src.write_text("Email Address,OrderDate,,Email Address\nnot-an-email,2025-03-01 10:00:00,x,y\n",
                   encoding="utf-8")
    rejects = tmp_path / f"bad.{to}"
    code, _, err = run("validate", str(src), "--type", "transactional", "--rejects", str(rejects))
    assert code == 1
    back = read_file(rejects)
    shown = ["Email", "OrderDate", "_", "Email_Address"] if to == "xml" else ["Email", "OrderDate", "",
                                                                                "Email Address"]
    assert list(back.info.labels) == [*shown, "_extra", "_errors"]
    blank = "_" if to == "xml" else "column 3"
    reasons = back.frame["_errors"].to_list()
    assert len(reasons) == 1
    assert sorted(set(reasons[0].split("; "))) == [
        f"blank-label:{blank}", f"duplicate-label:{shown[3]}", "invalid-email:Email"]
    assert "renamed-label: column 1 'Email Address' written as 'Email'" in err


def test_a_repeated_label_is_carried_and_its_xml_name_reported(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("Email,Email\na@example.com,b@example.com\n", encoding="utf-8")
    dst = tmp_path / "o.csv"
    code, _, err = run("convert", str(src), str(dst))
    assert code == 0, err
    assert dst.read_bytes() == src.read_bytes()
    result = convert_file(src, tmp_path / "o.xml")
    assert result.ok
    assert [(r.column, r.label, r.written) for r in result.renamed] == [(2, "Email", "Email_2")]
    assert [(i.code, i.field) for i in result.issues] == [("duplicate-label", "Email~2"), ("renamed-label", "Email~2")]


def test_fix_to_xml_reports_the_labels_written_as_other_element_names(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("First Name,1st col,E-mail\nAnn,1,a@example.com\n", encoding="utf-8")
    dst = tmp_path / "o.xml"
    code, out, _ = run("fix", str(src), str(dst), "--type", "transactional", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["renamed"] == {"First Name": "FirstName", "E-mail": "Email"}
    assert doc["xml_names"] == [{"column": 2, "label": "1st col", "written": "_1st_col", "why": "xml-name"}]
    assert b"<record><FirstName>Ann</FirstName><_1st_col>1</_1st_col><Email>a@example.com</Email></record>" \
        in dst.read_bytes()
