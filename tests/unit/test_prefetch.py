"""Reading ahead in a background thread: order, errors where they happen, early stops, bounded memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from cgformat._prefetch import prefetch


def test_items_come_in_order() -> None:
    assert list(prefetch(iter(range(1000)))) == list(range(1000))
    assert list(prefetch([])) == []


def test_an_error_is_raised_at_the_item_where_it_happened() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("bad piece at byte 42")

    items = prefetch(source())
    assert [next(items), next(items)] == [1, 2]
    with pytest.raises(ValueError, match="byte 42"):
        next(items)


def test_the_producer_stays_at_most_depth_items_ahead() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for i in range(20):
            produced.append(i)
            yield i

    for taken, _item in enumerate(prefetch(source(), depth=1), start=1):
        time.sleep(0.01)   # let the producer run as far as it may
        assert len(produced) <= taken + 1


def test_stopping_early_stops_the_thread_and_closes_the_source() -> None:
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    items = prefetch(source())
    assert next(items) == 0
    items.close()
    assert closed.is_set()
    assert not [t for t in threading.enumerate() if t.name == "cgformat-read"]
