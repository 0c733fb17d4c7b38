"""Every refusal tells the truth: the exit code, a message that claims only what happened, and no output.

A command that refuses leaves no output file (nor a temporary one) and writes nothing on standard output
(``-``): outputs to a path are renamed into place, and outputs to standard output copied from a spool, only
when the command succeeds. Where a message says "nothing written", nothing was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cgformat.cli import main
from cgformat.formats import _guards

HEAD = "CustomerNumber,Email,OrderDate\n"
GOOD = "0001,anna@example.com,2025-03-01 10:00:00\n"
RAGGED = HEAD + GOOD * 3 + "0002,bram@example.com\n" + GOOD     # record 4 lacks a field
CONTROL = HEAD + GOOD * 3 + "0003,c\x01d@example.com,2025-03-01 10:00:00\n"   # XML cannot hold U+0001
NESTED_XML = ("<?xml version='1.0' encoding='utf-8'?>\n<records>\n"
              "<record><Email>a@example.com</Email></record>\n"
              "<record><Email><b>x</b></Email></record>\n</records>\n")


def run(*args: str, input: bytes | None = None) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"raised {result.exception!r}") from result.exception
    return result.exit_code, result.stdout_bytes, result.stderr


def files(folder: Path) -> list[str]:
    """Every file and folder under ``folder``, hidden ones (temporary outputs) included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _input(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    return str(path)


# --------------------------------------------------------------------------------------------- convert


@pytest.mark.parametrize("to", ["csv", "xml", "xlsx"])
def test_convert_of_broken_records_to_stdout_writes_nothing(src: Path, to: str) -> None:
    # the header (or the XML declaration and <records>) reached stdout before the refusal said "nothing written"
    code, data, err = run("convert", _input(src, "in.csv", RAGGED), "-", "--to", to)
    assert code == 1
    assert "nothing written" in err
    assert "ragged-row" in err
    assert data == b""


@pytest.mark.parametrize("to", ["csv", "xml", "xlsx"])
def test_convert_of_broken_records_to_a_file_leaves_no_file(src: Path, out: Path, to: str) -> None:
    code, data, err = run("convert", _input(src, "in.csv", RAGGED), str(out / f"o.{to}"))
    assert code == 1
    assert "nothing written" in err
    assert (data, files(out)) == (b"", [])


def test_convert_of_broken_records_from_stdin_writes_nothing() -> None:
    code, data, err = run("convert", "-", "-", "--from", "csv", "--to", "csv", input=RAGGED.encode())
    assert (code, data) == (1, b"")
    assert "nothing written" in err


def test_convert_of_nested_xml_elements_writes_nothing(src: Path, out: Path) -> None:
    path = _input(src, "in.xml", NESTED_XML)
    code, data, err = run("convert", path, "-", "--to", "csv")
    assert (code, data) == (1, b"")
    assert "nested-element" in err
    assert "nothing written" in err
    code, _, _ = run("convert", path, str(out / "o.csv"))
    assert (code, files(out)) == (1, [])


def test_convert_of_a_value_xml_cannot_hold_writes_nothing(src: Path, out: Path) -> None:
    # found at record 4, after the declaration, <records> and three records were encoded
    path = _input(src, "in.csv", CONTROL)
    code, data, err = run("convert", path, "-", "--to", "xml")
    assert (code, data) == (3, b"")
    assert "record 4" in err
    assert "U+0001" in err
    code, _, _ = run("convert", path, str(out / "o.xml"))
    assert (code, files(out)) == (3, [])


def test_a_refused_convert_leaves_an_older_output_as_it_was(src: Path, out: Path) -> None:
    old = out / "o.csv"
    old.write_bytes(b"older,output\n")
    code, _, err = run("convert", _input(src, "in.csv", RAGGED), str(old))
    assert code == 1
    assert "nothing written" in err
    assert old.read_bytes() == b"older,output\n"
    assert files(out) == ["o.csv"]


def test_convert_with_a_blank_label_is_no_refusal(tmp_path: Path) -> None:
    # the file was written and the message said it was refused
    path = _input(tmp_path, "in.csv", "Email,,Name\na@example.com,x,Ann\n")
    dst = tmp_path / "o.csv"
    code, _, err = run("convert", path, str(dst))
    assert code == 0
    assert "refused" not in err
    assert "nothing written" not in err
    assert "wrote 1 records" in err
    assert dst.read_bytes() == b"Email,,Name\na@example.com,x,Ann\n"


# --------------------------------------------------------------------------------------------- fix


def test_fix_of_broken_records_to_stdout_writes_nothing(src: Path) -> None:
    code, data, err = run("fix", _input(src, "in.csv", RAGGED), "-", "--type", "transactional")
    assert (code, data) == (1, b"")
    assert "nothing written" in err


@pytest.mark.parametrize("to", ["csv", "xml", "xlsx"])
def test_fix_of_broken_records_leaves_neither_output_nor_changes(src: Path, out: Path, to: str) -> None:
    code, data, err = run("fix", _input(src, "in.csv", "  " + RAGGED), str(out / f"o.{to}"), "--type",
                          "transactional", "--changes", str(out / "changes.csv"))
    assert code == 1
    assert "nothing written" in err
    assert (data, files(out)) == (b"", [])


def test_fix_removes_a_value_xml_cannot_hold_and_says_so(src: Path, out: Path) -> None:
    # fix's control normalizer takes the character out (reported), so the XML can hold every value
    path = _input(src, "in.csv", CONTROL)
    code, data, err = run("fix", path, str(out / "o.xml"), "--changes", str(out / "ch.csv"))
    assert code == 0, err
    assert b"\x01" not in (out / "o.xml").read_bytes()
    changes = (out / "ch.csv").read_text(encoding="utf-8")
    assert changes.endswith(",control\n")   # record 4's change, by the control normalizer
    assert changes.splitlines()[1].startswith("4,")


def test_fix_to_stdout_keeps_its_summary_off_stdout(src: Path) -> None:
    # the summary was printed on stdout after the records: the output was no CSV any more
    code, data, err = run("fix", _input(src, "in.csv", HEAD + GOOD), "-", "--type", "transactional")
    assert code == 0
    assert data == (HEAD + GOOD).encode()
    assert "-> -: 1 records" in err
    code, data, err = run("fix", _input(src, "in2.csv", HEAD + GOOD), "-", "--json")
    assert code == 2
    assert json.loads(data)["error"]["code"] == "usage-error"
    assert "--json" in err


# --------------------------------------------------------------------------------------------- validate


def test_validate_separation_that_fails_writes_nothing_on_stdout(src: Path, out: Path) -> None:
    # a rejected record with U+0001 stops the XML rejects file at record 4, after the clean records went by
    text = HEAD + GOOD * 3 + "0004,x\x01,bad\n"
    code, data, err = run("validate", _input(src, "in.csv", text), "--type", "transactional",
                          "--clean", "-", "--rejects", str(out / "bad.xml"))
    assert code == 3
    assert "record 4" in err
    assert "U+0001" in err
    assert (data, files(out)) == (b"", [])


@pytest.mark.parametrize("which", ["--clean", "--rejects"])
def test_validate_separation_of_an_input_that_changes_writes_nothing(src: Path, out: Path, which: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path(_input(src, "in.csv", HEAD + GOOD * 3 + "0004,bad,x\n"))
    original = _guards.GuardedReader.batches

    def batches(self: _guards.GuardedReader) -> Iterator[object]:
        with path.open("ab") as grow:   # the file grows once its header is known
            grow.write(GOOD.encode())
        os.utime(path)
        return original(self)

    monkeypatch.setattr(_guards.GuardedReader, "batches", batches)
    other = "--rejects" if which == "--clean" else "--clean"
    code, data, err = run("validate", str(path), "--type", "transactional", which, "-", other, str(out / "o.csv"))
    assert code == 3
    assert "changed while it was being read" in err
    assert (data, files(out)) == (b"", [])


def test_validate_separation_to_stdout_keeps_the_report_off_stdout(src: Path, out: Path) -> None:
    text = HEAD + GOOD + "0002,not-an-email,2025-03-01 10:00:00\n"
    code, data, err = run("validate", _input(src, "in.csv", text), "--type", "transactional", "--clean", "-",
                          "--rejects", str(out / "bad.csv"))
    assert code == 1
    assert data == (HEAD + GOOD).encode()
    assert "INVALID" in err
    code, data, err = run("validate", _input(src, "in2.csv", text), "--type", "transactional", "--clean", "-",
                          "--json")
    # --json's error document, not records: validate --json always answers in JSON
    assert code == 2
    assert json.loads(data)["error"]["code"] == "usage-error"


# --------------------------------------------------------------------------------------------- split


def test_split_that_fails_leaves_no_part_and_no_manifest(src: Path, out: Path) -> None:
    parts = out / "parts"
    code, data, err = run("split", _input(src, "in.csv", CONTROL), "--out", str(parts), "--to", "xml",
                          "--max-records", "2")
    assert code == 3
    assert "record 4" in err
    assert "U+0001" in err
    assert (data, files(out)) == (b"", ["parts"])


def test_split_of_broken_records_puts_them_in_the_rejects_and_says_so(src: Path, out: Path) -> None:
    parts = out / "parts"
    code, _, err = run("split", _input(src, "in.csv", RAGGED), "--out", str(parts), "--max-records", "2")
    assert code == 1
    assert "1 record(s) rejected" in err
    listed = files(parts)
    assert "rejects.csv" in listed
    assert "manifest.json" in listed
    assert (parts / "rejects.csv").read_text(encoding="utf-8").splitlines()[1].startswith("0002,bram@example.com,")


def test_split_refused_over_an_earlier_split_changes_nothing(src: Path, out: Path) -> None:
    parts = out / "parts"
    path = _input(src, "in.csv", HEAD + GOOD * 3)
    assert run("split", path, "--out", str(parts), "--max-records", "2")[0] == 0
    before = {name: (parts / name).read_bytes() for name in files(parts)}
    code, _, err = run("split", _input(src, "other.csv", HEAD + GOOD), "--out", str(parts))
    assert code == 2
    assert "--force" in err
    assert {name: (parts / name).read_bytes() for name in files(parts)} == before
