"""Issue 19's "Done when": a feed runs with no flags from its settings, in its folder or a subfolder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ._feed import BODY, feed, run

FIELDS = ["CustomerNumber", "Email", "SMS_Telephone", "FirstName", "LastName", "Country", "OrderDate"]


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@pytest.mark.parametrize("where", [".", "sub"])
@pytest.mark.parametrize("name", ["cgformat.toml", "pyproject.toml"])
def test_fix_then_validate_need_no_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str,
                                         name: str) -> None:
    body = BODY if name == "cgformat.toml" else "[project]\nname = 'shop'\n\n" + BODY.replace(
        "type =", "[tool.cgformat]\ntype =").replace("[fix]", "[tool.cgformat.fix]").replace(
        "[columns]", "[tool.cgformat.columns]")
    root = feed(tmp_path, name=name, settings=body)
    (root / "sub").mkdir()
    monkeypatch.chdir(root / where)
    prefix = "" if where == "." else "../"
    fixed = run("fix", f"{prefix}export.csv", f"{prefix}fixed.csv")
    assert fixed.exit_code == 0, fixed.output
    rows = _rows(root / "fixed.csv")
    assert rows[0] == FIELDS                                        # CG's field names written
    assert rows[1] == ["000101", "Anna@example.de", "491512345678", "Anna", "Müller", "DE", "2025-04-03 14:30:00"]
    assert rows[2][2] == "49301234567"
    assert rows[2][6] == "2025-04-15 09:05:00"
    checked = run("validate", f"{prefix}fixed.csv", "--json")
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.stdout)
    assert report["valid"]
    assert report["counts"]["errors"] == 0
    assert report["counts"]["warnings"] == 0


def test_without_settings_the_same_commands_need_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(feed(tmp_path, settings=None))
    assert run("fix", "export.csv", "fixed.csv").exit_code == 0
    assert _rows(tmp_path / "fixed.csv")[0][0] == "Kundennummer"    # no type: labels kept
    assert run("validate", "fixed.csv").exit_code == 2              # no type: a usage error


def test_each_mapping_used_is_reported_as_an_alias(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(feed(tmp_path))
    result = run("validate", "export.csv", "--json")
    issues = json.loads(result.stdout)["issues"]
    aliases = [(i["field"], i["severity"]) for i in issues if i["code"] == "alias-label"]
    assert aliases == [(label, "warning") for label in
                       ["Kundennummer", "E-Mail-Adresse", "Telefon", "Vorname", "Nachname", "Land", "Bestelldatum"]]
    assert not [i for i in issues if i["code"] in ("extra-label", "missing-label")]


def test_the_mapping_wins_over_a_built_in_alias(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # "Phone" is a built-in alias of SMS_Telephone; this feed's "Phone" is its customer number
    root = feed(tmp_path, settings='type = "transactional"\n[columns]\nPhone = "CustomerNumber"\n')
    (root / "export.csv").write_text("Phone,Email,OrderDate\n7,a@example.com,2025-01-02 03:04:05\n",
                                     encoding="utf-8")
    monkeypatch.chdir(root)
    assert run("fix", "export.csv", "fixed.csv").exit_code == 0
    assert _rows(root / "fixed.csv")[0] == ["CustomerNumber", "Email", "OrderDate"]


def test_the_mapping_wins_over_an_exact_field_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = feed(tmp_path, settings='type = "transactional"\n[columns]\nMail = "Email"\n')
    (root / "export.csv").write_text("Mail,Email,OrderDate\na@example.com,x,2025-01-02 03:04:05\n",
                                     encoding="utf-8")
    monkeypatch.chdir(root)
    issues = json.loads(run("validate", "export.csv", "--json").stdout)["issues"]
    assert [(i["code"], i["field"]) for i in issues if i["code"] in ("alias-label", "duplicate-label")] == [
        ("alias-label", "Mail"), ("duplicate-label", "Email")]


def test_convert_and_split_write_the_field_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(feed(tmp_path))
    assert run("convert", "export.csv", "out.csv").exit_code == 0
    assert _rows(tmp_path / "out.csv")[0] == FIELDS
    assert run("split", "export.csv", "--out", "parts", "--no-validate").exit_code == 0
    part = next((tmp_path / "parts").glob("export-*.csv"))
    assert _rows(part)[0] == FIELDS


def test_command_line_wins_over_file_wins_over_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = feed(tmp_path, settings=BODY.replace("[fix]", "[fix]\nno-rename = true"))
    monkeypatch.chdir(root)
    (root / "export.csv").write_text("Kundennummer;Bestelldatum\n1;03.04.2025 14:30\n", encoding="utf-8")
    # the file's date-format (day first) over the default (an ambiguous date is left as it is)
    assert run("fix", "export.csv", "a.csv").exit_code == 0
    assert _rows(root / "a.csv")[1] == ["1", "2025-04-03 14:30:00"]
    assert _rows(root / "a.csv")[0] == ["Kundennummer", "Bestelldatum"]           # the file's no-rename
    # the command line's date-format (month first) over the file's
    assert run("fix", "export.csv", "b.csv", "--date-format", "%m.%d.%Y %H:%M").exit_code == 0
    assert _rows(root / "b.csv")[1] == ["1", "2025-03-04 14:30:00"]
    # the command line's --schema replaces the file's type instead of clashing with it
    schema = root / "s.json"
    schema.write_text(json.dumps({"fields": [{"name": n} for n in FIELDS]}), encoding="utf-8")
    result = run("validate", "export.csv", "--schema", str(schema), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["type"] == "s"
    # ... and the file's [columns] must fit it
    schema.write_text(json.dumps({"fields": [{"name": "CustomerNumber"}, {"name": "OrderDate"}]}),
                      encoding="utf-8")
    refused = run("validate", "export.csv", "--schema", str(schema))
    assert refused.exit_code == 2
    assert f"{root / 'cgformat.toml'}:10" in refused.stderr
    assert "E-Mail-Adresse" in refused.stderr


def test_paths_are_relative_to_the_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = feed(tmp_path, settings='template = "cg/template.csv"\n')
    (root / "cg").mkdir()
    (root / "cg" / "template.csv").write_text("Kundennummer;Bestelldatum\n", encoding="utf-8")
    (root / "export.csv").write_text("Kundennummer;Bestelldatum\n1;2\n", encoding="utf-8")
    (root / "sub").mkdir()
    monkeypatch.chdir(root / "sub")
    result = run("validate", "../export.csv", "--json")
    assert json.loads(result.stdout)["type"] == "template"


def test_config_option_before_and_after_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = feed(tmp_path, settings=None)
    (root / "feed.toml").write_text(BODY, encoding="utf-8")
    monkeypatch.chdir(root)
    for args in (["--config", "feed.toml", "fix", "export.csv", "a.csv"],
                 ["fix", "export.csv", "b.csv", "--config", "feed.toml"],
                 ["fix", "--config=feed.toml", "export.csv", "c.csv"]):
        assert run(*args).exit_code == 0
        assert _rows(root / args[args.index("export.csv") + 1])[0] == FIELDS
    missing = run("--config", "nope.toml", "validate", "export.csv")
    assert missing.exit_code == 2
    assert "nope.toml" in missing.stderr


def test_the_next_step_fix_prints_needs_no_flag_the_file_gives(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(feed(tmp_path))
    result = run("fix", "export.csv", "fixed.csv")
    assert result.stdout.splitlines()[-1] == "next: cgformat validate fixed.csv"


def test_no_config_reads_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(feed(tmp_path, settings='type = "transactional"\n[fix]\nno-rename = true\ntpye = 1\n'))
    assert run("fix", "export.csv", "a.csv").exit_code == 2                      # the file's typo
    assert run("--no-config", "fix", "export.csv", "a.csv").exit_code == 0
    assert run("--no-config", "validate", "a.csv").exit_code == 2                 # no type now
    assert run("--no-config", "--config", "cgformat.toml", "fix", "export.csv", "b.csv").exit_code == 2
