"""Fixtures for the sandbox's own tests: a fake clock and the sandbox on 127.0.0.1 (as the uploader's tests use)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cgformat.sandbox import Sandbox

from ..uploader._helpers import API_KEY, FakeClock


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
