"""The live record count: shown on a terminal, silent otherwise."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from cgformat.cli._progress import records_progress


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
