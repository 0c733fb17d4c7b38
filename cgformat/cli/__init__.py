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

import gc  # noqa: E402

from ._app import main  # noqa: E402

__all__ = ["main", "run"]


def run() -> None:
    """The ``cgformat`` program: :data:`main`, then the process ends without the interpreter's last sweep.

    At exit CPython collects every object the collector tracks, several times over, and the modules of
    polars, numpy and click make that 0.1-0.15 s: more than some commands take. Frozen, they are left to
    the operating system. Every output file is closed by its command before this, and the standard streams
    are flushed at exit as always. Tests call :data:`main` in-process, without this.
    """
    try:
        main()
    finally:
        gc.freeze()
