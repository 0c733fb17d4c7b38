"""The command line: a thin click layer over the library. Nothing imports this package.

Each command's module registers it on :data:`main` when :class:`~cgformat.cli._app.CgGroup` first needs it.
"""

from __future__ import annotations

from .._interrupt import quiet_interrupts

quiet_interrupts()   # the command line's process: a Ctrl-C before main() runs is reported in one line too

from ._app import main  # noqa: E402

__all__ = ["main"]
