"""Findings of the corpus run that cgformat still gets wrong, each on a fixture of our own (strict xfails).

Each test states what a careful user expects; its xfail reason names the finding and the file that owns
the fix. When the fix lands the test passes, and ``strict`` makes that visible: drop the marker then.
"""

from __future__ import annotations

import datetime
import gzip
import json
import re
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from cgformat.files import read_file

from ._util import one_line_refusal, rows, run


@pytest.mark.parametrize("header", [b"id,,age", b"id,name,name"], ids=["blank-label", "duplicate-label"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "xml"])
def test_convert_writes_nothing_when_it_refuses_a_header(tmp_path: Path, header: bytes, fmt: str) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(header + b"\n1101,Ann,30\n1102,Bob,26\n")
    dst = tmp_path / f"out.{fmt}"
    ran = run("convert", src, dst)
    if ran.code == 0:
        back = read_file(dst)
        assert rows(back) == [("1101", "Ann", "30"), ("1102", "Bob", "26")]
    else:
        assert not dst.exists(), "refused, yet the output was written"


def test_convert_to_stdout_prints_nothing_when_it_refuses(tmp_path: Path) -> None:
    src = tmp_path / "dup.xml"
    src.write_bytes(b"<records><record><Name>A</Name><Name>B</Name></record></records>")
    ran = run("convert", src, "-", "--to", "csv")
    assert ran.code == 1
    assert ran.stdout == b""


def _workbook_1904(path: Path, *, ext_workbook_pr: bool) -> None:
    """A 1904-system workbook; with ``ext_workbook_pr`` its workbook.xml also carries the ``x14:workbookPr``
    extension Excel 2010+ writes (Excel for Mac always does), as an Excel-saved file has."""
    plain = path.with_suffix(".plain.xlsx")
    book = xlsxwriter.Workbook(str(plain), {"date_1904": True})
    sheet = book.add_worksheet("data")
    sheet.write_row(0, 0, ["Name", "OrderDate"])
    sheet.write(1, 0, "Ann")
    sheet.write_datetime(1, 1, datetime.datetime(1971, 1, 1, 4, 14), book.add_format({"num_format": "m/d/yyyy h:mm"}))
    book.close()
    ext = (b'<extLst><ext uri="{79F54976-1DA5-4618-B147-4CDE4B953A38}" '
           b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
           b'<x14:workbookPr defaultImageDpi="32767"/></ext></extLst></workbook>')
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/workbook.xml" and ext_workbook_pr:
                data = re.sub(rb"</workbook>\s*$", ext, data)
                assert b"x14:workbookPr" in data
            zout.writestr(item.filename, data)


def test_a_1904_workbook_reads_its_dates_right(tmp_path: Path) -> None:
    book = tmp_path / "d1904.xlsx"
    _workbook_1904(book, ext_workbook_pr=False)
    assert rows(read_file(book)) == [("Ann", "1971-01-01 04:14:00")]


def test_an_excel_saved_1904_workbook_reads_its_dates_right(tmp_path: Path) -> None:
    book = tmp_path / "mac1904.xlsx"
    _workbook_1904(book, ext_workbook_pr=True)
    assert rows(read_file(book)) == [("Ann", "1971-01-01 04:14:00")]


def test_a_last_record_of_empty_values_is_kept_or_reported_through_xlsx(tmp_path: Path) -> None:
    src = tmp_path / "blank-end.csv"
    src.write_bytes(b"id,name\n1,Ann\n,\n")
    dst = tmp_path / "out.xlsx"
    assert run("convert", src, dst).code == 0
    back = read_file(dst)
    reported = [i.line for i in back.issues if str(i.code) == "blank-row"]
    assert rows(back) == [("1", "Ann"), ("", "")] or reported == [3]


def test_a_middle_record_of_empty_values_is_reported_through_xlsx(tmp_path: Path) -> None:
    src = tmp_path / "blank-mid.csv"
    src.write_bytes(b"id,name\n1,Ann\n,\n2,Bob\n")
    dst = tmp_path / "out.xlsx"
    assert run("convert", src, dst).code == 0
    back = read_file(dst)
    assert rows(back) == [("1", "Ann"), ("2", "Bob")]
    assert [(str(i.code), i.line) for i in back.issues] == [("blank-row", 3)]


def test_a_header_only_file_survives_xml_or_is_refused_first(tmp_path: Path) -> None:
    src = tmp_path / "without-rows.csv"
    src.write_bytes(b"id,name\n")
    xml = tmp_path / "out.xml"
    refused = run("convert", src, xml)
    if refused.code != 0:
        assert (refused.code, xml.exists()) == (2, False)
        return
    back = tmp_path / "back.csv"
    ran = run("convert", xml, back)
    assert ran.code == 0, ran.stderr
    assert back.read_bytes() == b"id,name\n"


_GREEK = ["Λεωνίδας", "Αλέξανδρος", "Μύρων", "Ευστόργιος"]
_CYRILLIC = ["Иванов", "Пётр", "Смирнова", "Ёлкин"]


@pytest.mark.parametrize(("names", "encoding"), [(_GREEK, "iso-8859-7"), (_CYRILLIC, "cp1251")])
@pytest.mark.parametrize("command", ["convert", "fix", "validate"])
def test_a_single_byte_file_that_is_not_cp1252_is_refused_not_garbled(tmp_path: Path, names: list[str],
                                                                      encoding: str, command: str) -> None:
    # finding 5: Greek (ISO-8859-7) or Cyrillic (cp1251) bytes read as cp1252 are mojibake; without
    # --encoding cgformat only guesses, so it refuses, naming the first such line
    src = tmp_path / "names.csv"
    src.write_bytes(b"id,name\n" + "".join(f"{i},{n}\n" for i, n in enumerate(names, 1)).encode(encoding))
    dst = tmp_path / "out.csv"
    ran = run(command, src, "--type", "transactional") if command == "validate" else run(command, src, dst)
    one_line_refusal(ran, 3)
    assert "line 2 " in ran.stderr
    assert "--encoding" in ran.stderr
    assert not dst.exists()
    if command != "validate":
        ran = run(command, src, dst, "--encoding", encoding)
        assert ran.code == 0, ran.stderr
        assert [r[1] for r in rows(read_file(dst))] == names


def test_cp1252_text_with_accents_is_still_read_as_cp1252(tmp_path: Path) -> None:
    names = ["Müller", "Señor", "Françoise", "São Paulo", "Ångström", "Zoë", "Œuvre"]
    src = tmp_path / "latin.csv"
    src.write_bytes(b"id,name\n" + "".join(f"{i},{n}\n" for i, n in enumerate(names, 1)).encode("cp1252"))
    dst = tmp_path / "out.csv"
    ran = run("convert", src, dst)
    assert ran.code == 0, ran.stderr
    assert [r[1] for r in rows(read_file(dst))] == names


@pytest.mark.parametrize("command", ["convert", "fix"])
def test_a_cr_inside_a_quoted_value_of_a_cr_only_file_stays_a_cr(tmp_path: Path, command: str) -> None:
    # finding 8: an old Mac file (CR line ends) whose quoted values hold a CR; the file has no LF at all
    src = tmp_path / "mac.csv"
    src.write_bytes(b'id,note\r1101,"first\rsecond"\r1102,"a\r\rb"\r1103,plain\r')
    dst = tmp_path / "out.csv"
    ran = run(command, src, dst)
    assert ran.code == 0, ran.stderr
    assert rows(read_file(dst)) == [("1101", "first\rsecond"), ("1102", "a\r\rb"), ("1103", "plain")]


def test_a_record_attribute_is_carried_or_refused(tmp_path: Path) -> None:
    src = tmp_path / "attrs.xml"
    src.write_bytes(b'<records>\n<record id="7"><Email>a@example.com</Email></record>\n'
                    b'<record id="8"><Email>b@example.com</Email></record>\n</records>\n')
    dst = tmp_path / "out.csv"
    ran = run("convert", src, dst)
    if ran.code == 0:
        assert "7" in [v for r in rows(read_file(dst)) for v in r]
    else:
        assert not dst.exists()


@pytest.mark.parametrize(("name", "code"), [("table.csv.gz", 2), ("implicit.csv", 3)])
def test_validate_json_always_prints_json(tmp_path: Path, name: str, code: int) -> None:
    src = tmp_path / name
    src.write_bytes(gzip.compress(b"id,name\n1,Ann\n"))
    ran = run("validate", src, "--type", "transactional", "--json")
    assert ran.code == code
    assert isinstance(json.loads(ran.stdout), dict)


def test_validate_flags_as_mojibake_exactly_the_values_fix_repairs(tmp_path: Path) -> None:
    # one definition of certain mojibake: what validate warns about is what fix repairs, and only that
    values = ["MÃ¼ller", "IRMÃ”", "Ð¿Ñ€Ð¸Ð²ÐµÑ‚", "æ—¥æœ¬", "donâ€™t", "SÃO PAULO", "São", "Å’s", "ZoÃ«", "plain"]
    src = tmp_path / "names.csv"
    src.write_bytes(("id,name\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values, 1))).encode())
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"name": "t", "fields": [{"name": "id"}, {"name": "name"}]}))
    ran = run("validate", src, "--schema", schema, "--json")
    flagged = {i["record"] for i in ran.json()["issues"] if i["code"] == "mojibake"}
    dst = tmp_path / "fixed.csv"
    assert run("fix", src, dst, "--schema", schema).code == 0
    repaired = {n for n, (before, after) in enumerate(zip(values, rows(read_file(dst)), strict=True), 1)
                if after[1] != before}
    assert repaired == {1, 3, 4, 5, 9}
    assert flagged == repaired
