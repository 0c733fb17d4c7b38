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
    """The ``cgformat`` program: :data:`main`, with the cyclic garbage collector kept off what lives anyway.

    The modules loaded by then (polars, click) are frozen before the command runs, so the collections
    during it do not walk them again (a 1M split: 0.05-0.06 s of collections, each pausing every thread, down
    to 0.01 s); and everything is frozen again at exit, where CPython would otherwise collect every object
    several times over (0.1-0.15 s, more than some commands take), leaving it to the operating system.
    Every output file is closed by its command before this, and the standard streams are flushed at exit as
    always. Tests call :data:`main` in-process, without this.
    """
    gc.freeze()
    try:
        main()
    finally:
        gc.freeze()
