"""The command line: a thin click layer over the library. Nothing imports this package.

Each command's module registers it on :data:`main` when :class:`~cgformat.cli._app.CgGroup` first needs it.
"""

from __future__ import annotations

from .._interrupt import quiet_interrupts

quiet_interrupts()   # the command line's process: a Ctrl-C before main() runs is reported in one line too

import gc  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from ._app import EXIT_PIPE, main  # noqa: E402

__all__ = ["main", "run"]


def run() -> None:
    """The ``cgformat`` program: :data:`main`, with the cyclic garbage collector kept off what lives anyway.

    The modules loaded by then (polars, click) are frozen before the command runs, so the collections
    during it do not walk them again (each pauses every thread); and everything is frozen again at exit,
    where CPython would otherwise collect every object several times over, leaving it to the operating
    system (the benchmark case split-1000k justifies it).
    Every output file is closed by its command before this. Standard output is flushed here, where a reader
    that has gone away still ends the program quietly with :data:`~cgformat.cli._app.EXIT_PIPE`; what is
    left to write then goes to the null device, so the interpreter's own flush at exit does not fail again
    with a traceback. Tests call :data:`main` in-process, without this.
    """
    gc.freeze()
    try:
        main()   # click's standalone mode: always ends with SystemExit
    except SystemExit as done:
        if done.code == EXIT_PIPE or not _flushed():
            _discard_stdout()
            raise SystemExit(EXIT_PIPE) from None
        raise
    finally:
        gc.freeze()


def _flushed() -> bool:
    """Flush standard output; False when its reader has gone away."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return False
    return True


def _discard_stdout() -> None:
    """Point standard output at the null device, so that what is still buffered is dropped quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):   # no file descriptor behind it (a test's stream)
        pass
    finally:
        os.close(devnull)
