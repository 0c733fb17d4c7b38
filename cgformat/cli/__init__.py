"""The command line: a thin click layer over the library. Nothing imports this package.

Each command's module registers it on :data:`main` when :class:`~cgformat.cli._app.CgGroup` first needs it.
"""

from __future__ import annotations

import os

from .._interrupt import quiet_interrupts

# cgformat uses numpy for sorting and scanning, never for linear algebra: without this, OpenBLAS starts a
# thread per core when numpy loads, and they spin for about 0.1 s of CPU that the reader needs (2 cores)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

quiet_interrupts()   # the command line's process: a Ctrl-C before main() runs is reported in one line too

from ._app import main  # noqa: E402

__all__ = ["main"]
