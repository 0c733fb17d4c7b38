"""What the command line's process sets up for itself (and the library leaves alone)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_SHOW = "import os, sys; import {module}; print(os.environ.get('OPENBLAS_NUM_THREADS'), 'numpy' in sys.modules)"


@pytest.mark.parametrize(("module", "given", "want"), [
    ("cgformat.cli", None, "1 False"),       # BLAS threads would only spin: one is enough
    ("cgformat.cli", "4", "4 False"),        # a user's own setting stands
    ("cgformat", None, "None False"),        # the library does not touch its host's environment
])
def test_the_command_line_keeps_openblas_to_one_thread(module: str, given: str | None, want: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    out = subprocess.run([sys.executable, "-c", _SHOW.format(module=module)], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert " ".join(out) == want   # and numpy is not loaded yet, so the setting takes effect when it is
