"""The command line: a thin click layer over the library. Nothing imports this package."""

from __future__ import annotations

from . import convert as _convert  # noqa: F401  (registers commands)
from . import split as _split  # noqa: F401
from . import upload as _upload  # noqa: F401
from . import validate as _validate  # noqa: F401
from ._app import main

__all__ = ["main"]
