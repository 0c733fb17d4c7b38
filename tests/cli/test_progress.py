"""The live record count: shown on a terminal, silent otherwise, fed by the reader's batches."""

from __future__ import annotations

import io
from collections.abc import Iterator

import polars as pl
import pytest
from rich.console import Console

from cgformat.cli._progress import CountingReader, records_progress
from cgformat.model import RecordBatch


class _Reader:
    info = "facts"

    def batches(self) -> Iterator[RecordBatch]:
        for first, n in ((1, 3), (4, 2)):
            yield RecordBatch(frame=pl.DataFrame({"a": ["x"] * n}), lines=pl.Series([0] * n), first_record=first)


def test_batches_report_the_records_read_so_far() -> None:
    seen: list[int] = []
    reader = CountingReader(_Reader(), seen.append)
    assert reader.info == "facts"
    assert [b.frame.height for b in reader.batches()] == [3, 2]
    assert seen == [3, 5]


def test_a_terminal_shows_the_count_and_it_is_gone_at_the_end() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with records_progress("validating big.csv", console=console) as update:
        update(1_234_567)   # the bar is drawn again when it stops, with the last count
    text = screen.getvalue()
    assert "validating big.csv" in text
    assert "1,234,567 records" in text


def test_without_a_terminal_nothing_is_written(capsys: pytest.CaptureFixture[str]) -> None:
    with records_progress("validating big.csv") as update:   # pytest's stderr is no terminal
        update(10)
    assert capsys.readouterr().err == ""
