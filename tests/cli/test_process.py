"""What the command line's process sets up for itself (and the library leaves alone)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

_SHOW = "import os, sys; import {module}; print(os.environ.get('OPENBLAS_NUM_THREADS'), 'numpy' in sys.modules)"


@pytest.mark.parametrize(("module", "given", "want"), [
    ("cgformat.cli", None, "None False"),    # neither the program nor the library touches the environment
    ("cgformat.cli", "4", "4 False"),        # a user's own setting stands
    ("cgformat", None, "None False"),
])
def test_the_environment_is_left_alone_and_numpy_not_loaded_on_import(module: str, given: str | None, want: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    out = subprocess.run([sys.executable, "-c", _SHOW.format(module=module)], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert " ".join(out) == want   # and numpy is not loaded on import


def test_the_program_ends_with_its_command_exit_code_and_every_byte_written(tmp_path: Path) -> None:
    # ``run`` (the console script and ``python -m cgformat``) leaves the interpreter's last sweep out: the
    # exit code is the command's, and a report larger than a pipe's buffer arrives whole
    src = tmp_path / "bad.csv"
    src.write_text("Email,OrderDate\n" + "".join(f"not-an-address-{i},someday\n" for i in range(3000)),
                   encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "cgformat", "validate", str(src), "--type", "transactional",
                           "--json"], check=False, capture_output=True, text=True)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert len(proc.stdout) > 1 << 16
    assert report["records"] == 3000
    # the installed program is the same entry
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="cgformat")
    assert script.value == "cgformat.cli:run"
