"""The command line: a thin click layer over the library. Nothing imports this package.

Each command's module registers it on :data:`main` when :class:`~cgformat.cli._app.CgGroup` first needs it.
"""

from __future__ import annotations

from ._app import main

__all__ = ["main"]
