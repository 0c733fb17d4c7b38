"""Commands: split (being built)."""

from __future__ import annotations

from ._app import main  # noqa: F401
