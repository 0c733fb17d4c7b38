"""Every hostile input through `validate`, `convert` and `split`: a clear answer, never a traceback.

Each case asserts the exit code and what the message names (the problem and, where it can, the record
and line); that no entity is resolved and no local file read (a canary file's text never appears), that
no network connection is made (a listening socket counts connections, and Python's sockets refuse to
connect), and that a refused run leaves no output that looks finished. The large inputs run in a child
process with a time limit and a bound on its peak memory; tools/hostile_measure.py prints the figures
for every case at full size.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cgformat.cli import main
from cgformat.manifest import load_manifest

from . import _corpus as corpus
from ._run import COMMANDS, Listener, argv, listener, run_cli

Expect = tuple[set[int], str | None]

# exit codes allowed per command (validate, convert, split) and a regex the message must match
ERR = r"cgformat: error: "
EXPECT: dict[str, tuple[set[int], set[int], set[int], str | None]] = {
    "xml-xxe-local-file": ({3}, {3}, {3}, ERR + r".*DOCTYPE declares entities"),
    "xml-xinclude": ({1}, {1}, {1}, r"nested-element"),
    "xml-billion-laughs": ({3}, {3}, {3}, ERR + r".*DOCTYPE declares entities"),
    "xml-quadratic-blowup": ({3}, {3}, {3}, ERR + r".*DOCTYPE declares entities"),
    "xml-external-dtd": ({0}, {0}, {0}, None),
    "xml-external-param-entity": ({3}, {3}, {3}, ERR + r".*DOCTYPE declares entities"),
    "xml-deep-nesting": ({3}, {3}, {3}, ERR + r".*line 3, column \d+: elements nested more than 256 levels"),
    "xml-deep-records": ({3}, {3}, {3}, ERR + r".*line 2, column \d+: elements nested more than 256 levels"),
    "xml-not-well-formed": ({3}, {3}, {3}, ERR + r".*not well-formed XML at line 4, column \d+: Opening and ending"),
    "xml-unclosed": ({3}, {3}, {3}, ERR + r".*not well-formed XML at line 5"),
    "xml-lone-surrogate": ({3}, {3}, {3}, ERR + r".*line 3, column \d+: xmlParseCharRef: invalid xmlChar value 55296"),
    "xlsx-dimension-xfd": ({0}, {0}, {0}, None),
    "xlsx-far-cell": ({3}, {3}, {3}, ERR + r".*spans at least 1,048,576 rows x 16,384 columns.*--max-cells"),
    "xlsx-row-past-excel": ({3}, {3}, {3}, ERR + r".*goes past row 1,048,576, the last row of an Excel sheet"),
    "xlsx-column-past-excel": ({3}, {3}, {3}, ERR + r".*goes past column 16,384, the last column of an Excel sheet"),
    "xlsx-truncated": ({3}, {3}, {3}, ERR + r".*cannot read as XLSX: a zip file that is not a readable XLSX"),
    "xlsx-corrupt": ({3}, {3}, {3}, ERR + r".*cannot read the workbook"),
    "xlsx-encrypted": ({3}, {3}, {3}, ERR + r".*password-protected"),
    "xls-ole-not-biff": ({3}, {3}, {3}, ERR + r".*an OLE file that is not a readable XLS workbook"),
    "html-as-xls": ({3}, {3}, {3}, ERR + r".*a text \(XML/HTML\) file, not an Excel workbook"),
    "csv-as-xlsx": ({3}, {3}, {3}, ERR + r".*looks like delimited text: read it as csv"),
    "empty-csv": ({3}, {3}, {3}, ERR + r".*is empty"),
    "empty-xml": ({3}, {3}, {3}, ERR + r".*(no element found|empty)"),
    "empty-xlsx": ({3}, {3}, {3}, ERR + r".*the file is empty"),
    "header-only-csv": ({0}, {0}, {0}, None),
    "noise-csv": ({3}, {3}, {3}, ERR + r".*byte offset \d+ \(line \d+\)"),
    "noise-xml": ({3}, {3}, {3}, ERR + r".*not well-formed XML at line 1"),
    "noise-xlsx": ({3}, {3}, {3}, ERR + r".*not an Excel workbook"),
    "nul-bytes-csv": ({3}, {3}, {3}, ERR + r".*NUL byte at byte offset \d+ \(line 2\)"),
    "utf16-no-bom-csv": ({3}, {3}, {3}, ERR + r".*UTF-16 without a byte order mark"),
    "mixed-line-ends-csv": ({1}, {1}, {1}, r"ragged-row|refused: 1 broken record"),
    "wide-csv": ({3}, {3}, {3}, ERR + r".*10,000 columns, over the limit --max-columns 1,024; raise it"),
    "lone-surrogate-csv": ({1}, {0}, {0}, r"non-utf8|mojibake|cp1252"),
}
SMALL = [c for c in corpus.CASES if not c.big]


@pytest.fixture(scope="module")
def net() -> Iterator[Listener]:
    with listener() as lst:
        yield lst


@pytest.fixture(autouse=True)
def no_python_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt from Python code fails the test (lxml's own are caught by the listener)."""
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a network connection was attempted")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def _cli(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args[0]} raised {result.exception!r}") from result.exception
    assert "Traceback" not in result.stderr + result.stdout
    return result.exit_code, result.stdout, result.stderr


def _outputs(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file())


def _check_outputs(command: str, code: int, out: Path) -> None:
    """A refused run (exit 3) leaves nothing that looks finished; a finished run leaves its outputs."""
    files = _outputs(out)
    names = [p.name for p in files]
    assert not [n for n in names if n.endswith(".partial") or n.startswith(".")], names
    if code == 3:
        assert files == [], names
        return
    if command == "split":
        manifest = load_manifest(out / "parts")
        assert manifest.records == sum(p.records for p in manifest.parts) + manifest.rejected
    elif command == "convert" and code == 0:
        assert (out / "converted.csv").exists()


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", SMALL, ids=[c.name for c in SMALL])
def test_small_case(case: corpus.Case, command: str, tmp_path: Path, net: Listener) -> None:
    src = corpus.write_case(case, tmp_path, port=net.port)
    out = tmp_path / "out"
    out.mkdir()
    before = net.connections
    code, stdout, stderr = _cli(argv(command, src, out))
    codes = dict(zip(COMMANDS, EXPECT[case.name][:3], strict=True))[command]
    pattern = EXPECT[case.name][3]
    assert code in codes, (code, stderr)
    if pattern:
        assert re.search(pattern, stderr + stdout), stderr + stdout
    if code == 3:
        assert len(stderr.strip().splitlines()) == 1, stderr  # one line: the message
    assert net.connections == before, "a network connection was made"
    leaked = corpus.CANARY_TEXT in stdout + stderr or any(
        corpus.CANARY_TEXT.encode() in p.read_bytes() for p in _outputs(out))
    assert not leaked, "a local file was read through the input"
    _check_outputs(command, code, out)


def test_xxe_never_reads_the_file_even_through_the_library(tmp_path: Path) -> None:
    from cgformat.errors import ReadError
    from cgformat.files import read_file

    src = corpus.write_case(corpus.BY_NAME["xml-xxe-local-file"], tmp_path)
    with pytest.raises(ReadError, match="DOCTYPE declares entities"):
        read_file(src)


def test_external_dtd_is_ignored_and_the_record_kept(tmp_path: Path, net: Listener) -> None:
    src = corpus.write_case(corpus.BY_NAME["xml-external-dtd"], tmp_path, port=net.port)
    code, out, _ = _cli(["validate", str(src), "--type", "transactional", "--json"])
    assert code == 0
    assert json.loads(out)["records"] == 1
    assert net.connections == 0


def test_mixed_line_ends_name_the_record_a_lone_cr_joins(tmp_path: Path) -> None:
    # CRLF and LF end records; a lone CR in such a file is data (as RFC 4180 and polars read it), so
    # records 2 and 3 share a line: a ragged-row error names record 2, line 3, with the extra text kept
    from cgformat.files import read_file

    table = read_file(corpus.write_case(corpus.BY_NAME["mixed-line-ends-csv"], tmp_path))
    assert table.frame["CustomerNumber"].to_list() == ["000001", "000002", "000004"]
    assert table.lines.to_list() == [2, 3, 4]
    ragged = [(i.code, i.record, i.line, i.value) for i in table.issues if i.code == "ragged-row"]
    assert ragged == [("ragged-row", 2, 3, "user3@example.com,31610000003,Anna,de Vries,NL,2025-03-01 10:00:00")]


def test_lone_surrogate_bytes_are_reported_with_offset_and_line(tmp_path: Path) -> None:
    # ED A0 80 is no UTF-8 (an encoded surrogate): the file is read as cp1252, which the reader reports
    # with the first bad byte's offset and line, and validate counts as an error (exit 1)
    from cgformat.files import read_file

    src = corpus.write_case(corpus.BY_NAME["lone-surrogate-csv"], tmp_path)
    found = [i for i in read_file(src).issues if i.code == "non-utf8"]
    assert len(found) == 1
    assert re.search(r"offset \d+, line 2\)", found[0].message), found[0]
    code, out, _ = _cli(["validate", str(src), "--type", "transactional", "--json"])
    assert code == 1
    assert any(i["code"] == "non-utf8" and i["severity"] == "error" for i in json.loads(out)["issues"])


def test_dimension_declaring_the_whole_sheet_reads_the_real_cells(tmp_path: Path) -> None:
    from cgformat.files import read_file

    table = read_file(corpus.write_case(corpus.BY_NAME["xlsx-dimension-xfd"], tmp_path))
    assert table.frame.shape == (2, 7)
    assert table.lines.to_list() == [2, 3]


def test_limits_can_be_raised(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"C{i}" for i in range(1100)) + "\n" + ",".join("x" * 1100) + "\n")
    code, _, err = _cli(["convert", str(wide), str(tmp_path / "wide-out.csv")])
    assert code == 3
    assert "1,100 columns, over the limit --max-columns 1,024" in err
    code, _, _ = _cli(["convert", str(wide), str(tmp_path / "wide-out.csv"), "--max-columns", "2000"])
    assert code == 0
    far = corpus.write_case(corpus.BY_NAME["xlsx-far-cell"], tmp_path)
    code, _, err = _cli(["convert", str(far), str(tmp_path / "far.csv"), "--max-cells", "1000"])
    assert code == 3
    assert "--max-cells 1,000" in err


def test_help_documents_the_limits() -> None:
    for command in COMMANDS:
        _, out, _ = _cli([command, "--help"])
        flat = " ".join(out.split())
        for option in ("--max-cells", "--max-columns", "--max-field-bytes"):
            assert option in flat, (command, option)
        for default in ("20,000,000", "1,024", "10,000,000"):
            assert default in flat, (command, default)


# --------------------------------------------------------------------------------------------- large inputs
# in a child process: a time limit, a memory bound (peak RSS) and an address-space cap so a blow-up fails
# fast instead of taking the machine down


def _child(command: str, src: Path, tmp_path: Path, *extra: str, timeout: float = 90) -> tuple[int, str, float]:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    run = run_cli([*argv(command, src, out), *extra], timeout=timeout, limit_mb=3000)
    assert not run.timed_out, f"{command} did not answer within {timeout} s"
    assert "Traceback" not in run.stderr, run.stderr
    _check_outputs(command, run.code, out)
    return run.code, run.stderr, run.peak_mb


def test_zip_bomb_default_limit_in_a_child(tmp_path: Path) -> None:
    src = tmp_path / "bomb.xlsx"
    corpus.zip_bomb(src)
    assert src.stat().st_size < 5 << 20  # a small file ...
    code, err, peak = _child("validate", src, tmp_path)
    assert code == 3  # ... that inflates to a gigabyte: refused before fastexcel sees it
    # its rows go past Excel's last row: refused as soon as the count passes it
    assert re.search(r"sheet 'Sheet1' goes past row 1,048,576, the last row of an Excel sheet \(row [\d,]+ at "
                     r"least\)", err), err
    assert peak < 400, peak


@pytest.mark.parametrize("command", ["convert", "split"])
def test_zip_bomb_lower_limit(command: str, tmp_path: Path) -> None:
    src = tmp_path / "bomb.xlsx"
    corpus.bomb_xlsx(src, unzipped=64 << 20)
    code, _, err = _cli([*argv(command, src, tmp_path), "--max-cells", "1000000"])
    assert code == 3
    assert "--max-cells 1,000,000" in err


@pytest.mark.parametrize("command", COMMANDS)
def test_text_node_over_the_field_limit(command: str, tmp_path: Path) -> None:
    src = tmp_path / "bigtext.xml"
    corpus.big_text(src, megabytes=11)
    out = tmp_path / "out"
    out.mkdir()
    code, _, err = _cli(argv(command, src, out))
    assert code == 3
    assert re.search(r"record 1 \(line 3\), field 'FirstName': a value of 11,534,336 bytes, over the limit "
                     r"--max-field-bytes 10,000,000; raise it", err), err
    _check_outputs(command, code, out)


def test_20mb_text_node_in_a_child(tmp_path: Path) -> None:
    src = tmp_path / "bigtext.xml"
    corpus.big_text(src)
    code, err, peak = _child("convert", src, tmp_path)
    assert code == 3
    assert "record 1 (line 3), field 'FirstName': a value of 20,971,520 bytes" in err
    assert peak < 600, peak


@pytest.mark.parametrize("quoted", [True, False], ids=["quoted", "unquoted"])
@pytest.mark.parametrize("command", COMMANDS)
def test_field_over_the_limit(command: str, quoted: bool, tmp_path: Path) -> None:
    src = tmp_path / "bigfield.csv"
    corpus.big_field(src, megabytes=11, quoted=quoted)
    out = tmp_path / "out"
    out.mkdir()
    code, _, err = _cli(argv(command, src, out))
    assert code == 3
    assert re.search(r"record 2 \(line 3\), field 'FirstName': a value of [\d,]+ bytes, over the limit "
                     r"--max-field-bytes 10,000,000", err), err
    _check_outputs(command, code, out)


@pytest.mark.parametrize("quoted", [True, False], ids=["quoted", "unquoted"])
def test_50mb_field_in_a_child(tmp_path: Path, quoted: bool) -> None:
    # refused while the record is still being cut, not assembled first
    src = tmp_path / "bigfield.csv"
    corpus.big_field(src, quoted=quoted)
    code, err, peak = _child("split", src, tmp_path)
    assert code == 3
    assert re.search(r"record 2 \(line 3\), field 'FirstName'", err), err
    assert peak < 400, peak


def test_unclosed_quote_at_the_start_of_a_large_file_in_a_child(tmp_path: Path) -> None:
    src = tmp_path / "unclosed.csv"
    corpus.unclosed_quote(src)
    code, err, peak = _child("convert", src, tmp_path)
    # the quote is taken as text (a stray-quote note names record 1, line 2): nothing else is lost
    assert code == 0, err
    assert re.search(r"stray-quote at record 1, line 2", err), err
    assert peak < 1200, peak


@pytest.mark.parametrize("command", ["validate", "split"])
def test_unclosed_quote_small(command: str, tmp_path: Path) -> None:
    src = tmp_path / "unclosed.csv"
    corpus.unclosed_quote(src, size=200_000)
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, err = _cli(argv(command, src, out))
    assert code in {0, 1}, err
    assert "stray-quote" in stdout + err
    _check_outputs(command, code, out)
