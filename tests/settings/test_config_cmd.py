"""``cgformat config``: every setting in force with its origin; ``config init``: a starting file for an export."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
import xlsxwriter

import cgformat
from cgformat.cli import main
from cgformat.settings import KEYS

from ._feed import BODY, feed, run


def _rows(stdout: str) -> dict[str, dict[str, object]]:
    doc = json.loads(stdout)
    return {f"{r['command']}.{r['key']}": r for r in doc["settings"]}


def test_origins_in_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = feed(tmp_path)
    monkeypatch.chdir(root)
    result = run("config", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["file"] == str(root / "cgformat.toml")
    assert doc["given"] is False
    rows = _rows(result.stdout)
    assert rows["validate.type"] | {} == {"command": "validate", "key": "type", "value": "transactional",
                                          "origin": "file", "file": str(root / "cgformat.toml"), "line": 1,
                                          "table": None}
    assert (rows["fix.date-format"]["line"], rows["fix.date-format"]["table"]) == (4, "fix")
    assert rows["fix.default-country"]["value"] == "49"
    assert rows["validate.strict"] == {"command": "validate", "key": "strict", "value": False, "origin": "default"}
    assert rows["upload.max-attempts"]["value"] == 8
    assert rows["upload.max-attempts"]["origin"] == "default"
    assert "validate.date-format" not in rows                      # validate has no --date-format
    assert [(c["label"], c["field"], c["line"]) for c in doc["columns"]][:2] == [
        ("Kundennummer", "CustomerNumber", 8), ("E-Mail-Adresse", "Email", 9)]


def test_origins_of_a_run_include_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(feed(tmp_path))
    result = run("config", "--json", "fix", "export.csv", "out.csv", "--date-format", "%m/%d/%Y")
    rows = _rows(result.stdout)
    assert set(rows) == {k for k in rows if k.startswith("fix.")}
    assert rows["fix.date-format"] == {"command": "fix", "key": "date-format", "value": "%m/%d/%Y",
                                       "origin": "command line"}
    assert rows["fix.type"]["origin"] == "file"
    assert not (tmp_path / "out.csv").exists()                     # shown, not run


def test_origins_as_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = feed(tmp_path)
    (root / "sub").mkdir()
    monkeypatch.chdir(root / "sub")
    result = run("config")
    assert result.exit_code == 0
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert lines["validate.type"][1:] == ['"transactional"', f"{root / 'cgformat.toml'}:1"]
    assert lines["fix.date-format"][-2:] == [f"{root / 'cgformat.toml'}:4", "[fix]"]
    assert lines["validate.strict"][1:] == ["false", "default"]
    assert lines['columns."Bestelldatum"'][1:] == ['"OrderDate"', f"{root / 'cgformat.toml'}:14"]


def test_config_without_a_file_shows_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(feed(tmp_path, settings=None))
    doc = json.loads(run("config", "--json").stdout)
    assert doc["file"] is None
    assert {r["origin"] for r in doc["settings"]} == {"default"}


def test_every_key_is_an_option_of_its_commands() -> None:
    ctx = click.Context(main)
    for key in KEYS.values():
        for name in key.commands:
            command = main.get_command(ctx, name)
            assert command is not None
            option = next((p for p in command.params if isinstance(p, click.Option) and f"--{key.name}" in p.opts),
                          None)
            assert option is not None, f"{name} has no --{key.name}"
            if key.kind == "choice" and isinstance(option.type, click.Choice):
                assert set(key.choices) <= set(option.type.choices), f"{name} --{key.name}"
            if key.kind == "choice" and key.name == "type":
                assert set(key.choices) == set(cgformat.list_schemas())


# ------------------------------------------------------------------------------------------------ init

LABELS = ["Kundennummer", "E-mail", "Customer Number", "Order Date", "Phone"]


def _export(tmp_path: Path, fmt: str) -> Path:
    path = tmp_path / f"export.{fmt}"
    rows = [LABELS, ["1", "a@example.com", "2", "2025-01-02 03:04:05", "31612345678"]]
    if fmt == "csv":
        rows[1][0] = "Müller"   # a byte cp1252 alone reads
        path.write_bytes("\n".join(";".join(r) for r in rows).encode("cp1252") + b"\n")
    elif fmt == "xlsx":
        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet("Export")
        for i, row in enumerate(rows):
            sheet.write_row(i, 0, row)
        book.close()
    else:
        tags = ["Kundennummer", "E-mail", "CustomerNumber", "Order_Date", "Phone"]
        record = "".join(f"<{t}>{v}</{t}>" for t, v in zip(tags, rows[1], strict=True))
        path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<records><record>{record}</record></records>\n',
                        encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "xml"])
def test_init_maps_what_an_alias_matches_and_lists_the_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            fmt: str) -> None:
    root = feed(tmp_path / "feed", settings=None)
    src = _export(root, fmt)
    monkeypatch.chdir(root)
    result = run("config", "init", src.name, "--type", "transactional")
    assert result.exit_code == 0, result.output
    text = (root / "cgformat.toml").read_text(encoding="utf-8")
    settings = cgformat.load_settings(cwd=root)                   # what it writes is valid settings
    assert settings.get("type") == "transactional"
    expected = {"E-mail": "Email", "Phone": "SMS_Telephone"}
    if fmt != "xml":
        expected |= {"Customer Number": "CustomerNumber", "Order Date": "OrderDate"}
    else:
        expected |= {"Order_Date": "OrderDate"}
    assert settings.column_map == expected
    assert '# "Kundennummer" = ""' in text                         # left to fill in
    if fmt == "csv":
        assert '# encoding = "cp1252"' in text
        assert '# delimiter = ";"' in text
    else:
        assert "# encoding" not in text
    assert run("validate", src.name, "--json").exit_code in (0, 1)   # runs with no flags


def test_init_writes_the_input_options_it_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = feed(tmp_path, settings=None)
    src = root / "titled.csv"
    src.write_text("Export of 2025-01-02\nE-mail,Order Date\na@example.com,2025-01-02 03:04:05\n", encoding="utf-8")
    monkeypatch.chdir(root)
    assert run("config", "init", src.name, "--header-row", "2").exit_code == 0
    settings = cgformat.load_settings(cwd=root)
    assert settings.get("header-row") == 2
    assert settings.get("type") is None
    assert settings.column_map == {"E-mail": "Email", "Order Date": "OrderDate"}


def test_init_never_writes_over_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = feed(tmp_path)
    monkeypatch.chdir(root)
    result = run("config", "init", "export.csv")
    assert result.exit_code == 2
    assert (root / "cgformat.toml").read_text(encoding="utf-8") == BODY
