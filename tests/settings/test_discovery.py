"""Where the settings come from: --config, else cgformat.toml or [tool.cgformat] here or in the nearest parent,
up to a repository's root."""

from __future__ import annotations

from pathlib import Path

import pytest

import cgformat
from cgformat.settings import find_settings

from ._feed import feed


def test_found_here_and_from_a_subfolder(tmp_path: Path) -> None:
    root = feed(tmp_path)
    (root / "a" / "b").mkdir(parents=True)
    assert find_settings(root) == root / "cgformat.toml"
    assert find_settings(root / "a" / "b") == root / "cgformat.toml"
    assert cgformat.load_settings(cwd=root / "a" / "b").get("type") == "transactional"


def test_the_nearest_wins_and_cgformat_toml_before_pyproject(tmp_path: Path) -> None:
    root = feed(tmp_path)
    inner = root / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[tool.cgformat]\ntype = "contact"\n', encoding="utf-8")
    assert find_settings(inner) == inner / "pyproject.toml"
    (inner / "cgformat.toml").write_text('type = "revenue"\n', encoding="utf-8")
    assert find_settings(inner) == inner / "cgformat.toml"
    assert cgformat.load_settings(cwd=inner).get("type") == "revenue"


def test_a_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    root = feed(tmp_path)
    inner = root / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "cgformat-user"\n', encoding="utf-8")
    assert find_settings(inner) == root / "cgformat.toml"


def test_the_search_stops_at_a_repository_root(tmp_path: Path) -> None:
    (tmp_path / "cgformat.toml").write_text('type = "contact"\n', encoding="utf-8")
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / ".git").write_text("gitdir: elsewhere\n", encoding="utf-8")   # a worktree's .git is a file
    assert find_settings(repo / "src") is None
    assert cgformat.load_settings(cwd=repo / "src") == cgformat.Settings()
    assert find_settings(tmp_path) == tmp_path / "cgformat.toml"


def test_a_given_path_is_read_wherever_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "feed.toml").write_text('[fix]\ndate-format = "%d.%m.%Y"\n', encoding="utf-8")
    monkeypatch.chdir(feed(tmp_path / "elsewhere"))
    settings = cgformat.load_settings(tmp_path / "feed.toml")
    assert settings.given
    assert settings.path == tmp_path / "feed.toml"
    assert settings.get("date-format", "fix") == "%d.%m.%Y"
    assert settings.get("type") is None


def test_the_library_takes_the_settings_as_one_value(tmp_path: Path) -> None:
    root = feed(tmp_path, settings=(Path(__file__).parent / "_feed.py").read_text(encoding="utf-8")
                .split('BODY = """', 1)[1].split('"""', 1)[0].replace('type = "transactional"',
                                                                 'type = "transactional"\ndelimiter = "semicolon"'))
    settings = cgformat.load_settings(cwd=root)
    schema = settings.schema()
    assert schema is not None
    assert schema.name == "transactional"
    assert settings.read_options().delimiter == ";"
    assert settings.normalize_options().default_country == "49"
    report = cgformat.validate(root / "export.csv", schema, options=settings.read_options())
    assert [i.field for i in report.issue_list() if i.code == "alias-label"][:2] == ["Kundennummer", "E-Mail-Adresse"]
    assert not [i for i in report.issue_list() if i.code in ("extra-label", "missing-label")]
