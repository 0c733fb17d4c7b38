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
    # in the library's words: the parameter, not the command line's flag (which the CLI shows, above)
    with pytest.raises(UsageError, match="sheet=") as caught:
        cgformat.read(EXAMPLES / "transactional.csv", options=cgformat.ReadOptions(sheet=1))
    assert caught.value.options == ("sheet",)
    assert "--" not in str(caught.value)


# ------------------------------------------------------------------------------------------ validate --json
def _bad_schema(tmp_path: Path) -> str:
    (tmp_path / "folder.csv").mkdir(exist_ok=True)
    path = tmp_path / "schema.json"
    path.write_text('{"fields": "not a list"}', encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("args", "exit_code", "code"), [
    (["{tmp}/missing.csv", "--type", "transactional"], 3, "read-error"),
    (["{tmp}/folder.csv", "--type", "transactional"], 3, "read-error"),             # a folder
    (["{tmp}", "--type", "transactional"], 2, "unsupported-format"),                # no extension
    (["{ex}/transactional.csv", "--type", "no-such-type"], 2, "schema-error"),
    (["{ex}/transactional.csv", "--schema", "{schema}"], 2, "schema-error"),
    (["{ex}/transactional.csv"], 2, "usage-error"),                                   # no type given
    (["{ex}/transactional.csv", "--type", "transactional", "--sheet", "1"], 2, "usage-error"),
    (["{ex}/transactional.csv", "--type", "transactional", "--clean", "{tmp}"], 3, "write-error"),
    (["{ex}/transactional.csv", "--type", "transactional", "--clean", "{tmp}/same.csv", "--rejects",
      "{tmp}/same.csv"], 2, "usage-error"),
])
def test_validate_json_prints_an_error_document_on_a_program_error(tmp_path: Path, args: list[str],
                                                                   exit_code: int, code: str) -> None:
    given = [a.format(tmp=tmp_path, ex=EXAMPLES, schema=_bad_schema(tmp_path)) for a in args]
    status, stdout, stderr = run("validate", *given, "--json")
    assert status == exit_code
    doc = json.loads(stdout)                         # one JSON document, nothing else on stdout
    jsonschema.validate(doc, report_json_schema())   # the schema's second shape
    assert doc["cgformat_report"] == 1
    assert doc["valid"] is False
    assert doc["source"] == given[0]
    assert doc["error"]["code"] == code
    assert doc["error"]["exit"] == exit_code
    assert f"cgformat: error: {doc['error']['message']}" in stderr   # the message is on stderr as well


def test_an_error_document_is_no_report_and_a_report_no_error_document(tmp_path: Path) -> None:
    schema = report_json_schema()
    status, stdout, _ = run("validate", str(EXAMPLES / "transactional.csv"), "--type", "transactional", "--json")
    assert status == 0
    report = json.loads(stdout)
    jsonschema.validate(report, schema)
    assert "error" not in report
    both = report | {"error": {"code": "read-error", "message": "x", "exit": 3}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(both, schema)
    with pytest.raises(jsonschema.ValidationError):   # an error document says valid: false
        jsonschema.validate({"cgformat_report": 1, "valid": True, "source": "x",
                             "error": {"code": "read-error", "message": "x", "exit": 3}}, schema)


def test_validate_without_json_keeps_stdout_empty_on_a_program_error(tmp_path: Path) -> None:
    status, stdout, stderr = run("validate", str(tmp_path / "missing.csv"), "--type", "transactional")
    assert (status, stdout) == (3, "")
    assert stderr.startswith("cgformat: error: ")
