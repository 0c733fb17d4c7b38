"""Fixtures for the uploader: a fake clock, split folders, and the sandbox on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cgformat.sandbox import Sandbox

from ._helpers import API_KEY, FakeClock, write_split


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Iterator[Sandbox]:
    box = Sandbox(api_keys={API_KEY}, clients={"client-1": "client-secret-1"}, clock=clock, interval_s=0).start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def split(tmp_path: Path) -> Callable[..., Path]:
    def make(parts: int = 3, **kw: object) -> Path:
        return write_split(tmp_path / "parts", parts=parts, **kw)  # type: ignore[arg-type]
    return make
