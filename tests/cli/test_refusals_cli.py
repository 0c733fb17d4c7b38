"""Refusals every reading command shares: options that do not fit the input, program errors under --json."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import cgformat
from cgformat.cli import main
from cgformat.errors import UsageError
from cgformat.report import report_json_schema

EXAMPLES = Path(__file__).parents[2] / "examples"


def run(*args: str, input: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# ------------------------------------------------------------------------------------------ --sheet
@pytest.mark.parametrize("src", ["transactional.csv", "contact.xml"])
@pytest.mark.parametrize("command", [
    ["validate", "{src}", "--type", "transactional"],
    ["validate", "{src}", "--type", "transactional", "--clean", "{out}/ok.csv", "--rejects", "{out}/bad.csv"],
    ["fix", "{src}", "{out}/fixed.csv", "--type", "transactional"],
    ["convert", "{src}", "{out}/converted.xlsx"],
    ["convert", "{src}", "-", "--to", "csv"],
    ["split", "{src}", "--out", "{out}/parts"],
])
def test_sheet_on_a_file_without_sheets_is_a_usage_error(tmp_path: Path, src: str, command: list[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    args = [a.format(src=EXAMPLES / src, out=out) for a in command]
    code, stdout, stderr = run(*args, "--sheet", "2")
    assert code == 2
    assert "--sheet" in stderr
    assert stdout == ""
    assert [p for p in files_in(out) if p != "parts"] == []   # nothing written


def test_sheet_on_standard_input_that_is_csv_is_refused_too() -> None:
    code, stdout, stderr = run("validate", "-", "--type", "transactional", "--sheet", "Sheet1",
                               input=(EXAMPLES / "transactional.csv").read_bytes())
    assert (code, stdout) == (2, "")
    assert "--sheet" in stderr


def test_the_library_refuses_a_sheet_of_a_csv_file() -> None:
    with pytest.raises(UsageError, match="--sheet"):
        cgformat.read(EXAMPLES / "transactional.csv", options=cgformat.ReadOptions(sheet=1))
