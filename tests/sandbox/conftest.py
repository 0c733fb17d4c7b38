"""Fixtures for the sandbox's own tests: the uploader's tests' fake clock and sandbox on 127.0.0.1."""

from __future__ import annotations

from ..uploader.conftest import clock, sandbox

__all__ = ["clock", "sandbox"]
