"""Patterns of csvkit's example files (encodings, line ends, odd headers, broken records), recreated here."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cgformat.files import read_file

from ._util import chain, codes, one_line_refusal, rows, run


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_read_and_written_as_utf8(tmp_path: Path, encoding: str) -> None:
    text = "a,b,c\n1,2,3\n4,5,ʤ\n"
    bom = "\ufeff".encode(encoding)
    src = tmp_path / "u16.csv"
    src.write_bytes(bom + text.encode(encoding))
    table = read_file(src)
    assert table.info.labels == ("a", "b", "c")
    assert rows(table) == [("1", "2", "3"), ("4", "5", "ʤ")]
    assert [c for c, _ in codes(table)] == ["non-utf8"]
    out = chain(src, ("csv",))
    assert out.read_bytes() == text.encode("utf-8")


def test_a_single_latin1_byte_is_read_as_that_letter(tmp_path: Path) -> None:
    src = tmp_path / "latin1.csv"
    src.write_bytes(b"a,b,c\n1,2,3\n4,5,\xa9\n")
    table = read_file(src)
    assert rows(table) == [("1", "2", "3"), ("4", "5", "©")]
    assert [c for c, _ in codes(table)] == ["non-utf8"]
    assert chain(src, ("csv",)).read_bytes() == "a,b,c\n1,2,3\n4,5,©\n".encode()


def test_cr_only_line_ends_give_records_and_lines() -> None:
    table = read_file(io.BytesIO(b'a,b,c\r1,2,3\r"x, y",5,6\r'), fmt="csv")
    assert rows(table) == [("1", "2", "3"), ("x, y", "5", "6")]
    assert table.lines.to_list() == [2, 3]


def test_blank_lines_before_the_header_are_reported_and_skipped() -> None:
    table = read_file(io.BytesIO(b"\n\n\na,b,c\n1,2,3\n"), fmt="csv")
    assert table.info.labels == ("a", "b", "c")
    assert rows(table) == [("1", "2", "3")]
    assert table.lines.to_list() == [5]
    assert codes(table) == [("blank-row", 1), ("blank-row", 2), ("blank-row", 3)]


def test_a_label_of_whitespace_controls_is_kept_exactly_through_xlsx(tmp_path: Path) -> None:
    label = "\t\n\x0b\x0c\r start \t\n\x0b\x0c\r end"
    src = tmp_path / "ws.csv"
    src.write_bytes(b'"\t\n\x0b\x0c\r start \t\n\x0b\x0c\r end",b\nd,"e\x0bf"\n')
    table = read_file(src)
    assert table.info.labels == (label, "b")
    assert codes(table) == [("padded-label", 1)]
    back = read_file(chain(src, ("xlsx", "csv")))
    assert back.info.labels == (label, "b")
    assert rows(back) == [("d", "e\x0bf")]


def test_a_control_character_xml_cannot_hold_is_refused_in_one_line(tmp_path: Path) -> None:
    src = tmp_path / "vt.csv"
    src.write_bytes(b'a,b\nd,"e\x0bf"\n')
    dst = tmp_path / "vt.xml"
    one_line_refusal(run("convert", src, dst), 3)
    assert not dst.exists()


def test_needless_quotes_and_locale_numbers_stay_text() -> None:
    table = read_file(io.BytesIO(b'a,b,c\n"1","2","3"\n"1,7","200.000.000",\n'), fmt="csv")
    assert rows(table) == [("1", "2", "3"), ("1,7", "200.000.000", "")]
    assert codes(table) == []


def test_semicolons_are_detected_and_written_as_commas(tmp_path: Path) -> None:
    src = tmp_path / "semi.csv"
    src.write_bytes(b"a;b;c\n1;2,5;3\n")
    table = read_file(src)
    assert table.info.delimiter == ";"
    assert rows(table) == [("1", "2,5", "3")]
    assert [c for c, _ in codes(table)] == ["delimiter"]
    assert chain(src, ("csv",)).read_bytes() == b'a,b,c\n1,"2,5",3\n'


@pytest.mark.parametrize("command", ["validate", "convert", "fix"])
def test_a_nul_byte_is_a_one_line_refusal(tmp_path: Path, command: str) -> None:
    src = tmp_path / "nul.csv"
    src.write_bytes(b"a,b,c\n\x00,2,3\n")
    dst = tmp_path / "out.csv"
    args = {"validate": ("validate", src, "--type", "transactional"), "convert": ("convert", src, dst),
            "fix": ("fix", src, dst)}[command]
    one_line_refusal(run(*args), 3)
    assert not dst.exists()


@pytest.mark.parametrize("data", [b"column_a,column_b,column_c\n1,27,,too long\n,short\n0,x,17\n",
                                  b"a,b,c,d\n1,2,3\n"], ids=["long-and-short", "extra-header"])
def test_broken_records_are_refused_by_convert_and_kept_by_validate(tmp_path: Path, data: bytes) -> None:
    src = tmp_path / "bad.csv"
    src.write_bytes(data)
    total = read_file(src).frame.height
    dst = tmp_path / "out.csv"
    ran = run("convert", src, dst)
    assert ran.code == 1
    assert not dst.exists()
    clean, rejects = tmp_path / "clean.csv", tmp_path / "rejects.csv"
    ran = run("validate", src, "--type", "transactional", "--clean", clean, "--rejects", rejects)
    assert ran.code == 1
    kept = sum(read_file(p).frame.height for p in (clean, rejects) if p.exists())
    assert kept == total


def test_a_trailing_delimiter_on_every_line_leaves_an_unlabelled_empty_column_fix_removes(tmp_path: Path) -> None:
    # a government export: header and every record end with a comma, the last line is only commas
    src = tmp_path / "trail.csv"
    src.write_bytes(b'State,Code,Total,\r\nALABAMA,01,"6,718",\r\nALASKA,02,776,\r\n,,,\r\n')
    table = read_file(src)
    assert table.info.labels == ("State", "Code", "Total", "")
    assert rows(table) == [("ALABAMA", "01", "6,718", ""), ("ALASKA", "02", "776", ""), ("", "", "", "")]
    dst = tmp_path / "fixed.csv"
    ran = run("fix", src, dst, "--json")
    assert ran.code == 0, ran.stderr
    summary = ran.json()
    assert summary["empty_records_left_out"] == 1
    fixed = read_file(dst)
    assert fixed.info.labels == ("State", "Code", "Total")
    assert rows(fixed) == [("ALABAMA", "01", "6,718"), ("ALASKA", "02", "776")]


def test_validate_json_of_a_readable_file_is_one_json_document(tmp_path: Path) -> None:
    src = tmp_path / "dummy.csv"
    src.write_bytes(b"a,b,c\n1,2,3\n")
    ran = run("validate", src, "--type", "transactional", "--json")
    assert ran.code == 1
    report = json.loads(ran.stdout)
    assert {i["code"] for i in report["issues"]} >= {"missing-label"}
