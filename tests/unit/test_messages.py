"""Messages in the library's language: errors name parameters (``max_records=``), and the command line shows
its flags in their place (``--max-records``); sheet positions count from 1 everywhere."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import xlsxwriter
from click.testing import CliRunner

import cgformat
from cgformat.cli import main
from cgformat.errors import SheetError, UnsupportedFormat, UsageError
from cgformat.formats import format_from_name

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _two_sheets() -> bytes:
    sink = io.BytesIO()
    book = xlsxwriter.Workbook(sink, {"in_memory": True})
    for name, value in (("First", "a"), ("Second", "b")):
        sheet = book.add_worksheet(name)
        sheet.write_string(0, 0, "Label")
        sheet.write_string(1, 0, value)
    book.close()
    return sink.getvalue()


def test_a_sheet_position_counts_from_1() -> None:
    data = _two_sheets()

    def value(sheet: int | str) -> str:
        table = cgformat.read(io.BytesIO(data), fmt="xlsx", options=cgformat.ReadOptions(sheet=sheet))
        return str(table.frame["Label"][0])

    assert (value(1), value(2), value("2"), value("Second")) == ("a", "b", "b", "b")
    for missing in (0, 3, -1):
        with pytest.raises(SheetError, match=rf"no sheet {missing}\b"):
            value(missing)
    with pytest.raises(UsageError) as caught:   # True is 1 to Python: not a position
        cgformat.read(io.BytesIO(data), fmt="xlsx", options=cgformat.ReadOptions(sheet=True))
    assert caught.value.options == ("sheet",)


@pytest.mark.parametrize(("call", "options"), [
    (lambda: cgformat.read(EXAMPLES / "transactional.csv", options=cgformat.ReadOptions(sheet=1)), ("sheet",)),
    (lambda: format_from_name("data.foo"), ("fmt",)),
    (lambda: cgformat.get_profile("api").with_overrides(max_records=0), ("max_records",)),
    (lambda: cgformat.get_profile("api").with_overrides(max_bytes=10**9), ("max_bytes", "profile")),
    (lambda: cgformat.get_profile("api").with_overrides(interval_s=-1), ("interval_s",)),
    (lambda: cgformat.write([], io.BytesIO(), fmt="xls", labels=["a"]), ()),
    (lambda: cgformat.load_schema("transactionl"), ()),
])
def test_library_errors_name_parameters_not_flags(call: object, options: tuple[str, ...]) -> None:
    with pytest.raises(UsageError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.options == options
    assert "--" not in str(caught.value)
    for name in options:
        assert f"{name}=" in str(caught.value)


@pytest.mark.parametrize(("args", "flag"), [
    (["split", str(EXAMPLES / "transactional.csv"), "--out", "{out}", "--max-records", "99999"],
     "--max-records 99999 is over"),
    (["split", str(EXAMPLES / "transactional.csv"), "--out", "{out}", "--max-bytes", "999999999"], "--profile "),
    (["validate", str(EXAMPLES / "transactional.csv"), "--type", "transactional", "--sheet", "1"],
     "--sheet is for workbooks"),
    (["convert", str(EXAMPLES / "transactional.csv"), "{out}.foo"], "--from/--to csv"),
])
def test_the_command_line_shows_its_flags(tmp_path: Path, args: list[str], flag: str) -> None:
    result = CliRunner().invoke(main, [a.format(out=tmp_path / "out") for a in args])
    assert result.exit_code == 2
    assert flag in result.stderr
    assert "=" not in result.stderr.split("error:", 1)[1].split("(")[0]


def test_an_unsupported_format_is_a_usage_error_with_its_parameter() -> None:
    with pytest.raises(UnsupportedFormat) as caught:
        format_from_name("notes.json")
    assert caught.value.options == ("fmt",)
