"""Wrong settings are refused before any work: exit 2, naming the key, the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

import cgformat
from cgformat.errors import UsageError

from ._feed import feed, run

CASES = [
    # (settings text, the line named, what the message must name)
    ('tpye = "transactional"\n', 1, ["tpye", "'type'"]),                       # typo: did you mean
    ('type = "transactional"\n[fixx]\ndate-format = "%d"\n', 2, ["fixx", "'fix'"]),   # unknown table
    ('[fix]\nstrict = true\n', 2, ["strict"]),                                  # fix has no --strict
    ('header-row = "2"\n', 1, ["header-row"]),                                 # wrong type
    ('header-row = 0\n', 1, ["header-row"]),                                   # below its minimum
    ('strict = "yes"\n', 1, ["strict"]),                                       # not a boolean
    ('type = "transactionl"\n', 1, ["type", "'transactional'"]),               # not one of the types
    ('delimiter = ";;"\n', 1, ["delimiter"]),                                  # not one character
    ('[validate]\ninterval = 600\n', 2, ["interval", "upload"]),               # another command's option
    ('type = "contact"\n\n[columns]\nKundennummer = "CustomerNumber"\nE-Mail = "OrderDate"\n', 5,
     ["E-Mail", "OrderDate"]),                                                 # a field the type lacks
    ('type = "transactional"\n[columns]\n"E-Mail-Adresse" = "Email"\nMail = "Email"\n', 4,
     ["Mail", "Email"]),                                                       # a field mapped twice
    ('[columns]\nKundennummer = 7\n', 2, ["Kundennummer"]),                    # not a field name
    ('api-key = "abc"\n', 1, ["api-key", "CG_API_KEY"]),                        # credentials never
    ('[upload]\nclient-secret = "abc"\n', 2, ["client-secret", "CG_CLIENT_SECRET"]),
    ('[upload]\ntoken = "abc"\n', 2, ["token", "CG_API_KEY"]),
]


@pytest.mark.parametrize(("text", "line", "named"), CASES)
def test_a_wrong_setting_is_refused_by_name_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str,
                                                     line: int, named: list[str]) -> None:
    root = feed(tmp_path, settings=text)
    monkeypatch.chdir(root)
    result = run("validate", "export.csv", "--type", "transactional")
    assert result.exit_code == 2
    assert f"{root / 'cgformat.toml'}:{line}:" in result.stderr
    for word in named:
        assert word in result.stderr
    assert "Traceback" not in result.output
    with pytest.raises(UsageError, match=f":{line}:"):
        cgformat.load_settings(root / "cgformat.toml")


def test_the_line_is_found_in_a_pyproject_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = feed(tmp_path, name="pyproject.toml",
                settings='[project]\nname = "x"\n\n[tool.cgformat]\ntype = "contact"\n\n[tool.cgformat.fix]\n'
                         'tpye = "x"\n')
    monkeypatch.chdir(root)
    result = run("fix", "export.csv", "out.csv")
    assert result.exit_code == 2
    assert f"{root / 'pyproject.toml'}:8:" in result.stderr
    assert not (root / "out.csv").exists()                                      # refused before any work


def test_a_file_that_is_no_toml_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(feed(tmp_path, settings="type = \n"))
    result = run("validate", "export.csv")
    assert result.exit_code == 2
    assert "cgformat.toml" in result.stderr


def test_a_mapping_to_a_template_field_it_lacks_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = feed(tmp_path, settings='template = "t.csv"\n[columns]\nKundennummer = "Kunde"\n')
    (root / "t.csv").write_text("Nummer,Datum\n", encoding="utf-8")
    monkeypatch.chdir(root)
    result = run("validate", "export.csv")
    assert result.exit_code == 2
    assert f"{root / 'cgformat.toml'}:3:" in result.stderr
