"""`cgformat convert` and `cgformat sheets` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cgformat.cli import main

CSV = ("CustomerNumber,Email,SMS_Telephone,FirstName,LastName,Country,OrderDate\n"
       "0001,anna@example.com,31612345678,Anna,\"de Vries, Jr\",NL,2025-03-01 10:00:00\n"
       "0002,bram@example.com,4915112345678,Bram,Müller,DE,2025-03-02 11:30:00\n"
       "0003,=cmd,+31 6,@x,\"multi\nline\",,\n")


def run(*args: str, input: bytes | None = None) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout_bytes, result.stderr


@pytest.mark.parametrize("chain", [("xlsx", "xml"), ("xml", "xlsx"), ("xlsx",), ("xml",)])
def test_round_trip_through_every_format_gives_the_same_csv(tmp_path: Path, chain: tuple[str, ...]) -> None:
    src = tmp_path / "in.csv"
    src.write_text(CSV, encoding="utf-8")
    current = src
    for i, fmt in enumerate(chain):
        nxt = tmp_path / f"step{i}.{fmt}"
        code, _, err = run("convert", str(current), str(nxt))
        assert code == 0, err
        current = nxt
    back = tmp_path / "back.csv"
    code, _, err = run("convert", str(current), str(back))
    assert code == 0, err
    assert back.read_text(encoding="utf-8") == CSV


def test_writing_xls_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(CSV, encoding="utf-8")
    code, _, err = run("convert", str(src), str(tmp_path / "out.xls"))
    assert code == 2
    assert "xlsx" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out.xls").exists()


def test_stdin_to_stdout_needs_and_uses_explicit_formats(tmp_path: Path) -> None:
    code, out, _ = run("convert", "-", "-", "--from", "csv", "--to", "xml", input=CSV.encode())
    assert code == 0
    assert out.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert "<FirstName>Müller</FirstName>".encode() not in out
    assert "<LastName>Müller</LastName>".encode() in out
    code, _, err = run("convert", "-", "-", input=CSV.encode())
    assert code == 2
    assert "cannot tell the format of -: give --to csv|xlsx|xml" in err


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "xml"])
def test_standard_input_is_read_in_the_format_its_content_shows(tmp_path: Path, fmt: str) -> None:
    # "cat export.xlsx | cgformat validate -" said: give --from
    src = tmp_path / "in.csv"
    src.write_text(CSV, encoding="utf-8")
    made = tmp_path / f"made.{fmt}"
    assert run("convert", str(src), str(made))[0] == 0
    data = made.read_bytes()
    if fmt == "xml":
        data = b"\xef\xbb\xbf" + data   # a byte order mark before the declaration
    code, out, err = run("convert", "-", "-", "--to", "csv", input=data)
    assert code == 0, err
    assert out.decode() == CSV
    code, out, _ = run("validate", "-", "--type", "transactional", "--json", input=data)
    assert json.loads(out)["format"] == fmt


def test_json_summary(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(CSV, encoding="utf-8")
    code, out, _ = run("convert", str(src), str(tmp_path / "o.xml"), "--json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["ok"], doc["records"], doc["from"], doc["to"]) == (True, 3, "csv", "xml")


def test_ragged_rows_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("a,b\n1,2\n3\n4,5\n", encoding="utf-8")
    dst = tmp_path / "out.xml"
    code, _, err = run("convert", str(src), str(dst))
    assert code == 1
    assert "ragged-row" in err
    assert "line 3" in err
    assert not dst.exists()
    assert list(tmp_path.iterdir()) == [src]


def test_missing_input_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run("convert", str(tmp_path / "nope.csv"), str(tmp_path / "o.csv"))
    assert code == 3
    assert "no such file" in err
    assert "Traceback" not in err


def test_unknown_extension_is_a_usage_error(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(CSV, encoding="utf-8")
    code, _, err = run("convert", str(src), str(tmp_path / "o.json"))
    assert code == 2
    assert "extension" in err


def test_a_workbook_is_not_written_to_a_terminal(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    src = tmp_path / "in.csv"
    src.write_text("Email\na@x.nl\n", encoding="utf-8")
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "cgformat", "convert", str(src), "-", "--to", "xlsx"],
                              stdout=follower, stderr=subprocess.PIPE, timeout=60, check=False)
        os.set_blocking(leader, False)
        try:
            shown = os.read(leader, 1 << 16)
        except BlockingIOError:
            shown = b""
    finally:
        os.close(leader)
        os.close(follower)
    assert proc.returncode == 2
    assert b"not written to a terminal" in proc.stderr
    assert b"PK" not in shown        # no zip bytes on the screen
    # redirected, as asked: the workbook
    piped = subprocess.run([sys.executable, "-m", "cgformat", "convert", str(src), "-", "--to", "xlsx"],
                           capture_output=True, timeout=60, check=True)
    assert piped.stdout.startswith(b"PK")


# ------------------------------------------------------------------------------------ mixed encodings

@pytest.mark.parametrize("to", ["csv", "xml", "xlsx"])
def test_convert_decodes_lines_that_are_not_utf8_and_reports_each(tmp_path: Path, to: str) -> None:
    # a UTF-8 file with a line appended by a cp1252 tool: no MÃ¼ller anywhere in the output
    src = tmp_path / "in.csv"
    src.write_bytes("name,city\nMüller,Köln\n".encode() + "Señor,Málaga\n".encode("cp1252")
                    + "Zoë,Zürich\n".encode())
    dst = tmp_path / f"out.{to}"
    code, out, err = run("convert", str(src), str(dst), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [(i["code"], i["line"], i["value"]) for i in doc["issues"]] == [("mixed-encoding", 3, "f1 e1")]
    back = tmp_path / "back.csv"
    assert run("convert", str(dst), str(back))[0] == 0
    assert back.read_bytes().decode("utf-8") == "name,city\nMüller,Köln\nSeñor,Málaga\nZoë,Zürich\n"


def test_convert_says_what_it_wrote_about_a_byte_order_mark(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(b"\xef\xbb\xbf" + "name\nZoë\n".encode())
    for flags, starts in (((), False), (("--bom",), True)):
        dst = tmp_path / "out.csv"
        code, _, err = run("convert", str(src), str(dst), *flags)
        assert code == 0
        assert dst.read_bytes().startswith(b"\xef\xbb\xbf") is starts
        assert "was removed" not in err       # the note says what the input holds; the output is said apart
        assert ("with a byte order mark" in err) is starts
