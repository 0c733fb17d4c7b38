"""The public surface is cgformat.__all__: every name resolves, is documented, and the calls work."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import cgformat

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_all_names_resolve_and_have_a_docstring() -> None:
    assert sorted(cgformat.__all__) == sorted(set(cgformat.__all__))
    for name in cgformat.__all__:
        obj = getattr(cgformat, name)
        if name in {"PROFILES", "__version__"}:
            continue
        assert (obj.__doc__ or "").strip(), f"cgformat.{name} has no docstring"


def test_validate_is_the_function_even_after_the_validator_is_imported() -> None:
    importlib.import_module("cgformat.validation")
    from cgformat.validation import Validator  # noqa: F401

    report = cgformat.validate(EXAMPLES / "transactional.csv", "transactional")
    assert report.valid
    assert report.records == 12
    assert importlib.util.find_spec("cgformat.validate") is None   # a function only, no module of that name


def test_read_convert_split_through_the_top_level(tmp_path: Path) -> None:
    table = cgformat.read(EXAMPLES / "transactional.csv")
    assert table.frame.height == 12
    assert table.frame["CustomerNumber"][0] == "000101"
    result = cgformat.convert(EXAMPLES / "transactional.csv", tmp_path / "t.xml")
    assert result.ok
    assert result.records == 12
    manifest = cgformat.split(tmp_path / "t.xml", tmp_path / "parts", max_records=5,
                              schema=cgformat.load_schema("transactional"))
    assert [p.records for p in manifest.parts] == [5, 5, 2]
    assert manifest.type == "transactional"


def test_a_feeds_settings_through_the_top_level(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    assert cgformat.load_settings(cwd=tmp_path) == cgformat.Settings()
    (tmp_path / "cgformat.toml").write_text('type = "transactional"\n[columns]\n"E-Mail-Adresse" = "Email"\n',
                                            encoding="utf-8")
    settings = cgformat.load_settings(cwd=tmp_path)
    schema = settings.schema()
    assert isinstance(settings, cgformat.Settings)
    assert isinstance(schema, cgformat.Schema)
    assert schema.resolve(["E-Mail-Adresse"]).mapping == {"E-Mail-Adresse": "Email"}


def test_upload_status_and_undo_are_functions_and_stay_so() -> None:
    # the uploader's package is cgformat.uploader: no module shares the functions' names, so importing any
    # part of it (as the command line does) never turns cgformat.upload into a module
    importlib.import_module("cgformat.uploader.jobs")
    importlib.import_module("cgformat.cli.upload")
    for name in ("upload", "status", "undo", "upload_plan"):
        assert callable(getattr(cgformat, name)), name
        assert getattr(cgformat, name).__module__ == "cgformat.uploader.jobs"
    assert not (Path(cgformat.__file__).parent / "upload").exists()


def test_the_upload_values_are_frozen() -> None:
    import dataclasses

    for name in ("UploadSummary", "UploadEvent", "UploadStatus", "UndoSummary", "UndoEvent", "Unsettled",
                 "UploadPlan", "PartEntry", "RetryPolicy", "Credentials"):
        cls = getattr(cgformat, name)
        assert dataclasses.is_dataclass(cls), name
        assert cls.__dataclass_params__.frozen, name


def test_importing_cgformat_leaves_the_uploader_unloaded() -> None:
    import subprocess
    import sys

    code = "import sys, cgformat; print(sorted(m for m in ('httpx', 'cgformat.uploader') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(Path(cgformat.__file__).parents[1])}).stdout.strip()
    assert out == "[]"
