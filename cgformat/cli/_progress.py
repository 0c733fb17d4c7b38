"""A live count of the records read, on a terminal only (stderr), gone when the command ends."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def _on_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def records_progress(label: str, *, console: Console | None = None) -> Iterator[Callable[[int], None]]:
    """Yield ``update(records)``: with a terminal on stderr (or a given ``console``) a spinner shows
    ``label``, the records read so far and the time taken; otherwise ``update`` does nothing."""
    if console is None and not _on_terminal():
        yield lambda _records: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.fields[records]:,} records"),
                  TimeElapsedColumn(), console=console or Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, records=0)

        def update(records: int) -> None:
            bar.update(task, records=records)

        yield update
