"""Fuzzing the readers: random bytes and mutated valid files give frames or a CgformatError, nothing else.

A modest budget runs here; ``python tools/fuzz_long.py`` runs the same checks for a long time.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._fuzz import SEEDS, TOKENS, check_reader, rezip_sheet, sheet_of

FORMATS = ("csv", "xml", "xlsx", "xls")
# CI: a fixed, modest budget; tools/fuzz_long.py raises it and draws fresh random inputs on every run
_EXAMPLES = int(os.environ.get("CGFORMAT_FUZZ_EXAMPLES", "60"))
_LONG = "CGFORMAT_FUZZ_EXAMPLES" in os.environ
BUDGET = settings(max_examples=_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=not _LONG, database=None)


def _scaled(n: int) -> int:
    return max(1, n * _EXAMPLES // 60)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with a few edits: flipped bytes, inserted tokens, deleted or repeated slices, a cut."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "token", "delete", "repeat", "truncate", "byte"]))
        if not data:
            data += draw(st.binary(min_size=1, max_size=8))
            continue
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "token":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        elif kind == "repeat":
            end = min(len(data), at + draw(st.integers(1, 64)))
            data[at:at] = data[at:end] * draw(st.integers(1, 4))
        elif kind == "truncate":
            del data[at:]
        else:
            data[at] = draw(st.integers(0, 255))
    return bytes(data)


@BUDGET
@given(data=st.binary(max_size=512), fmt=st.sampled_from(FORMATS))
def test_random_bytes(data: bytes, fmt: str) -> None:
    check_reader(data, fmt)


@BUDGET
@given(data=mutated(SEEDS["csv"]))
def test_mutated_csv(data: bytes) -> None:
    check_reader(data, "csv")


@BUDGET
@given(data=mutated(SEEDS["xml"]))
def test_mutated_xml(data: bytes) -> None:
    check_reader(data, "xml")


@settings(BUDGET, max_examples=_scaled(30))
@given(data=mutated(SEEDS["xlsx"]))
def test_mutated_xlsx_container(data: bytes) -> None:
    check_reader(data, "xlsx")


@settings(BUDGET, max_examples=_scaled(40))
@given(sheet=mutated(sheet_of(SEEDS["xlsx"])))
def test_mutated_xlsx_sheet(sheet: bytes) -> None:
    check_reader(rezip_sheet(sheet), "xlsx")


def test_seeds_read() -> None:
    assert check_reader(SEEDS["csv"], "csv") == 5
    assert check_reader(SEEDS["xml"], "xml") == 3
    assert check_reader(SEEDS["xlsx"], "xlsx") == 4


def test_found_zip_version_not_implemented() -> None:
    # found by the long run: a central directory entry needing "version 6.4" made zipfile raise
    # NotImplementedError inside the workbook guard; it is now a ReadError
    data = bytearray(SEEDS["xlsx"])
    at = data.find(b"PK\x01\x02")
    data[at + 6] = 0x40
    assert check_reader(bytes(data), "xlsx") == -1


def test_unexpected_reader_exception_becomes_a_read_error(monkeypatch: object) -> None:
    # the safety net: a bug inside a reader reaches the user as one ReadError line (exit 3), the original
    # kept as __cause__ (and counted as a bug by check_reader)
    import io

    import pytest

    from cgformat.errors import ReadError
    from cgformat.formats import csv, open_reader
    from cgformat.formats._guards import ReaderFailure

    def broken(self: object) -> object:
        raise TypeError("boom")

    mp = pytest.MonkeyPatch()
    mp.setattr(csv.CsvReader, "batches", broken)
    try:
        reader = open_reader(io.BytesIO(SEEDS["csv"]), "csv", source="in.csv")
        with pytest.raises(ReaderFailure, match=r"in.csv: cannot read this CSV input: an unexpected TypeError: boom") as info:
            list(reader.batches())
        assert isinstance(info.value, ReadError)
        assert isinstance(info.value.__cause__, TypeError)
    finally:
        mp.undo()
