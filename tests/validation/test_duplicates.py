"""Duplicate keys are judged on the keys themselves: a hash that collides never makes two keys one."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl
import pytest

from cgformat.model import RecordBatch
from cgformat.validation import Validator, duplicates

from .._helpers.tables import tx

EMAILS = ["a@x.com", "b@x.com", "A@x.com ", "c@x.com", "", "b@x.com", "d@y.org", "c@x.com", "e@y.org", "a@x.com"]


def _duplicate_records(size: int) -> list[int]:
    t = tx(*({"Email": e} for e in EMAILS))
    v = Validator("transactional", t.info)
    got: list[int] = []
    for start in range(0, len(EMAILS), size):
        batch = RecordBatch(frame=t.frame.slice(start, size), lines=t.lines.slice(start, size),
                            first_record=start + 1)
        dup = v.check(batch).issues.filter(pl.col("code") == "duplicate-row")
        got += dup["record"].to_list()
    return got


def _one_hash(keys: pl.Series) -> npt.NDArray[np.uint64]:
    return np.zeros(keys.len(), dtype=np.uint64)


def _two_hashes(keys: pl.Series) -> npt.NDArray[np.uint64]:
    return (keys.str.len_bytes() % 2).cast(pl.UInt64).to_numpy()


@pytest.mark.parametrize("hasher", [_one_hash, _two_hashes])
@pytest.mark.parametrize("size", [1, 3, 10])
def test_colliding_hashes_never_make_different_keys_duplicates(monkeypatch: pytest.MonkeyPatch, hasher: object,
                                                                size: int) -> None:
    monkeypatch.setattr(duplicates, "hash_keys", hasher)
    # records 3 (a@x.com again, once trimmed and lower-cased), 6, 8 and 10 repeat an earlier key; no other
    assert _duplicate_records(size) == [3, 6, 8, 10]


def test_the_real_hash_finds_the_same_duplicates() -> None:
    assert _duplicate_records(4) == [3, 6, 8, 10]
