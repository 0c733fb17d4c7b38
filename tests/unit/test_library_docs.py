"""The library's documented examples run as written (the package docstring's, and any in cgformat.files)."""

from __future__ import annotations

import doctest
import shutil
from pathlib import Path

import pytest

import cgformat
from cgformat import files

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.mark.parametrize("module", [cgformat, files], ids=["cgformat", "cgformat.files"])
def test_docstring_examples_run(module: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the examples read examples/ and write their outputs next to it: a scratch copy keeps the checkout clean
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False, report=True)
    assert failed == 0
    if module is cgformat:
        assert attempted >= 15   # the package's story is told by running examples, not prose alone
        assert (tmp_path / "parts" / "manifest.json").is_file()
        assert (tmp_path / "transactional.xml").is_file()


def test_readme_library_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = Path(__file__).parents[2] / "README.md"
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    failed, attempted = doctest.testfile(str(readme), module_relative=False, optionflags=doctest.ELLIPSIS,
                                         verbose=False, report=True)
    assert (failed, attempted >= 8) == (0, True)
