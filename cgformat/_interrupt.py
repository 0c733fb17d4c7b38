"""Ctrl-C while cgformat is still loading (Python, polars, numpy: the first few tenths of a second of a
command) ends with one line, not a traceback.

:func:`quiet_interrupts` installs a :data:`sys.excepthook` that reports an uncaught
:class:`KeyboardInterrupt` as ``cgformat: interrupted``; anything else goes to the hook it replaced.
Python still exits as a process stopped by Ctrl-C does (status 130 in a shell). The package installs it
while it loads and puts the old hook back once loaded; the command line keeps it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

_Hook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]

__all__ = ["quiet_interrupts"]


def quiet_interrupts() -> _Hook:
    """Install the hook; return the one it replaced (to put back with ``sys.excepthook = old``)."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.stderr.write("cgformat: interrupted\n")
            sys.stderr.flush()
            return
        previous(kind, value, tb)

    sys.excepthook = hook
    return previous
