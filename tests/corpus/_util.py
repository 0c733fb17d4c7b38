"""Helpers for the corpus tests: run the CLI in-process, read files back, convert along a chain of formats."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from cgformat.cli import main
from cgformat.files import read_file
from cgformat.model import Table


@dataclass(frozen=True, slots=True, kw_only=True)
class Ran:
    """What one in-process CLI run did."""

    code: int
    stdout: bytes
    stderr: str

    def json(self) -> Any:
        """The run's standard output as JSON."""
        return json.loads(self.stdout)


def run(*args: str | Path, input: bytes | None = None) -> Ran:
    """Run ``cgformat ARGS``; an exception other than SystemExit (a traceback) fails the test."""
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(code=result.exit_code, stdout=result.stdout_bytes, stderr=result.stderr)


def one_line_refusal(ran: Ran, code: int) -> None:
    """The run ended with exit ``code`` and exactly one non-empty line on stderr, no traceback."""
    assert ran.code == code, ran.stderr
    lines = [line for line in ran.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, ran.stderr
    assert "Traceback" not in ran.stderr


def rows(table: Table) -> list[tuple[str, ...]]:
    """The table's records as tuples of text."""
    return [tuple(r) for r in table.frame.rows()]


def codes(table: Table) -> list[tuple[str, int | None]]:
    """Each reader issue as (code, line)."""
    return [(str(i.code), i.line) for i in table.issues]


def chain(src: Path, formats: tuple[str, ...]) -> Path:
    """Convert ``src`` through each format in turn with the CLI (each step must succeed); the last file."""
    current = src
    for i, fmt in enumerate(formats):
        nxt = src.parent / f"{src.stem}.step{i}.{fmt}"
        ran = run("convert", current, nxt)
        assert ran.code == 0, (current.name, fmt, ran.stderr)
        current = nxt
    return current


def round_trip(src: Path) -> Table:
    """``src`` -> CSV -> XLSX -> XML -> CSV, read back."""
    return read_file(chain(src, ("csv", "xlsx", "xml", "csv")))
