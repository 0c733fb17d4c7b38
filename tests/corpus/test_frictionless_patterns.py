"""Patterns of frictionless-py's data folder (blank rows, odd quoting, compression, wide files, comments)."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest

from cgformat.files import read_file
from cgformat.formats import ReadOptions

from ._util import chain, codes, one_line_refusal, rows, run


def test_records_of_delimiters_only_are_kept_by_convert_and_left_out_by_fix(tmp_path: Path) -> None:
    src = tmp_path / "blank-rows.csv"
    src.write_bytes(b"id,name,age\n1101,Ann,30\n,,\n1102,Bob,26\n,,\n,,\n")
    table = read_file(src)
    assert table.frame.height == 5
    back = read_file(chain(src, ("xml", "csv")))
    assert rows(back) == rows(table)
    dst = tmp_path / "fixed.csv"
    ran = run("fix", src, dst, "--json")
    assert ran.code == 0, ran.stderr
    assert ran.json()["empty_records_left_out"] == 3
    assert rows(read_file(dst)) == [("1101", "Ann", "30"), ("1102", "Bob", "26")]


def test_a_quote_after_a_space_is_text_and_reported() -> None:
    table = read_file(io.BytesIO(b'ID, Test\n1, "a line"\n2, "say "" it"\n'), fmt="csv")
    assert table.info.labels == ("ID", " Test")
    assert rows(table) == [("1", ' "a line"'), ("2", ' "say "" it"')]
    assert codes(table) == [("padded-label", 1), ("stray-quote", 2), ("stray-quote", 3)]


def test_a_byte_order_mark_is_not_part_of_the_first_label() -> None:
    table = read_file(io.BytesIO(b"\xef\xbb\xbfid,name\n1,Ann\n"), fmt="csv")
    assert table.info.labels == ("id", "name")
    assert codes(table) == [("bom-removed", None)]


def test_duplicate_labels_are_reported_by_validate(tmp_path: Path) -> None:
    src = tmp_path / "dup.csv"
    src.write_bytes(b"Email,name,name\na@example.com,x,y\n")
    ran = run("validate", src, "--type", "transactional", "--json")
    assert ran.code == 1
    found = [(i["code"], i["line"]) for i in ran.json()["issues"] if i["code"] == "duplicate-label"]
    assert found == [("duplicate-label", 1)]


@pytest.mark.parametrize("name", ["table.csv.gz", "table.csv.bz2", "table.csv.zip"])
def test_a_compressed_file_by_its_extension_is_a_usage_error(tmp_path: Path, name: str) -> None:
    src = tmp_path / name
    src.write_bytes(gzip.compress(b"id,name\n1,Ann\n"))
    one_line_refusal(run("validate", src, "--type", "transactional"), 2)
    one_line_refusal(run("convert", src, tmp_path / "out.csv"), 2)


@pytest.mark.parametrize("pack", ["gzip", "zip"])
def test_compressed_bytes_named_csv_are_a_one_line_refusal(tmp_path: Path, pack: str) -> None:
    src = tmp_path / "implicit.csv"
    if pack == "gzip":
        src.write_bytes(gzip.compress(b"id,name\n1,Ann\n"))
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("table.csv", "id,name\n1,Ann\n")
        src.write_bytes(buf.getvalue())
    dst = tmp_path / "out.csv"
    for args in (("validate", src, "--type", "transactional"), ("convert", src, dst), ("fix", src, dst)):
        one_line_refusal(run(*args), 3)
    assert not dst.exists()


def test_a_file_wider_than_max_columns_is_refused_unless_raised(tmp_path: Path) -> None:
    src = tmp_path / "wide.csv"
    width = 1100
    src.write_text(",".join(f"c{i}" for i in range(width)) + "\n" + ",".join(str(i) for i in range(width)) + "\n")
    dst = tmp_path / "out.csv"
    one_line_refusal(run("convert", src, dst), 3)
    assert not dst.exists()
    ran = run("convert", src, dst, "--max-columns", "2000")
    assert ran.code == 0, ran.stderr
    assert rows(read_file(dst, options=ReadOptions(max_columns=2000))) == [tuple(str(i) for i in range(width))]


def test_a_header_without_records_converts_to_csv_and_xlsx(tmp_path: Path) -> None:
    src = tmp_path / "without-rows.csv"
    src.write_bytes(b"id,name,age\n")
    for fmt in ("csv", "xlsx"):
        back = read_file(chain(src, (fmt,)))
        assert back.info.labels == ("id", "name", "age")
        assert back.frame.height == 0


@pytest.mark.parametrize("command", ["validate", "convert", "fix"])
def test_an_empty_file_is_a_one_line_refusal(tmp_path: Path, command: str) -> None:
    src = tmp_path / "empty.csv"
    src.write_bytes(b"")
    dst = tmp_path / "out.csv"
    args = {"validate": ("validate", src, "--type", "transactional"), "convert": ("convert", src, dst),
            "fix": ("fix", src, dst)}[command]
    one_line_refusal(run(*args), 3)
    assert not dst.exists()


def test_a_comment_line_above_the_header_is_named_and_header_row_skips_it() -> None:
    data = b"# Author: someone\nid,name\n1,Ann\n2,Bob\n"
    table = read_file(io.BytesIO(data), fmt="csv")
    assert codes(table)[0] == ("title-row", 1)
    table = read_file(io.BytesIO(data), fmt="csv", options=ReadOptions(header_row=2))
    assert table.info.labels == ("id", "name")
    assert rows(table) == [("1", "Ann"), ("2", "Bob")]
    assert table.lines.to_list() == [3, 4]
    assert codes(table) == []


def test_a_pipe_file_with_a_broken_record_is_read_with_its_delimiter() -> None:
    table = read_file(io.BytesIO(b"id|name\n1|#english#\n2| -|##\n"), fmt="csv")
    assert table.info.delimiter == "|"
    assert rows(table) == [("1", "#english#"), ("2", " -")]
    assert [c for c, _ in codes(table)] == ["delimiter", "ragged-row"]
