"""Read ahead: a source's batches produced by a background thread while the caller works on the last one.

Reading (polars parsing, verification, decoding) and checking or writing a batch both spend most of
their time in polars, which releases the GIL: overlapping them keeps both cores busy. At most ``depth``
batches are produced ahead of the one the caller holds, so memory stays bounded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["prefetch"]

T = TypeVar("T")
_DONE = object()
_POLL_S = 0.05


def prefetch(source: Iterable[T], *, depth: int = 1, name: str = "cgformat-read") -> Iterator[T]:
    """Yield ``source``'s items in order, produced ahead by a background thread.

    An exception raised by ``source`` is raised here, at the item where it happened. When the caller
    stops early (an exception, ``close()``), the thread stops after the item it is producing and the
    source is closed in that thread.
    """
    slots: queue.Queue[tuple[bool, object]] = queue.Queue()
    ahead = threading.Semaphore(depth)   # items produced and not yet taken, the one in the making included
    stop = threading.Event()

    def may_produce() -> bool:
        while not stop.is_set():
            if ahead.acquire(timeout=_POLL_S):
                return True
        return False

    def run() -> None:
        items = iter(source)
        try:
            while may_produce():
                item = next(items, _DONE)
                slots.put((True, item))
                if item is _DONE:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, raised there
            slots.put((False, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    try:
        while True:
            ok, item = slots.get()
            ahead.release()
            if not ok:
                assert isinstance(item, BaseException)
                raise item
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
