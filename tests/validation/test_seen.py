"""The seen-key store behind duplicate detection: it answers what a dict of every key seen would answer, also
when different keys share a hash."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cgformat.validation._seen import SeenKeys


def _reference(batches: list[list[int]]) -> list[tuple[list[int], list[int]]]:
    first: dict[int, int] = {}
    out = []
    record = 1
    for keys in batches:
        rows, dup_of = [], []
        for row, key in enumerate(keys):
            if key in first:
                rows.append(row)
                dup_of.append(first[key])
            else:
                first[key] = record + row
        record += len(keys)
        out.append((rows, dup_of))
    return out


def _run(batches: list[list[int]], hash_of: dict[int, int]) -> list[tuple[list[int], list[int]]]:
    seen = SeenKeys()
    out = []
    record = 1
    for keys in batches:
        hashes = np.array([hash_of[k] for k in keys], dtype=np.uint64)
        texts = pl.Series([f"key{k}" for k in keys], dtype=pl.String)
        records = np.arange(record, record + len(keys), dtype=np.int64)
        rows, dup_of = seen.add(hashes, texts, records)
        out.append((rows.tolist(), dup_of.tolist()))
        record += len(keys)
    return out


@given(batches=st.lists(st.lists(st.integers(0, 40), max_size=30), max_size=12))
@settings(max_examples=300)
def test_duplicates_match_a_dict_of_every_key(batches: list[list[int]]) -> None:
    # keys 4k .. 4k+3 share a hash: told apart by their text
    assert _run(batches, {k: k // 4 for k in range(41)}) == _reference(batches)
    # every key the same hash
    assert _run(batches, dict.fromkeys(range(41), 7)) == _reference(batches)
    # each key its own hash
    assert _run(batches, {k: 1000 + k for k in range(41)}) == _reference(batches)


def test_many_batches_keep_the_first_record_of_each_key() -> None:
    rng = np.random.default_rng(5)
    seen = SeenKeys()
    first: dict[int, int] = {}
    record = 1
    for size in [1, 7, 300, 2, 1000, 5, 4000, 3, 50]:
        keys = rng.integers(0, 3000, size)
        got_rows, got_dup = seen.add(keys.astype(np.uint64) % np.uint64(997),     # hashes that collide
                                     pl.Series([str(k) for k in keys.tolist()], dtype=pl.String),
                                     np.arange(record, record + size, dtype=np.int64))
        want_rows, want_dup = [], []
        for row, key in enumerate(keys.tolist()):
            if key in first:
                want_rows.append(row)
                want_dup.append(first[key])
            else:
                first[key] = record + row
        assert got_rows.tolist() == want_rows
        assert got_dup.tolist() == want_dup
        record += size
    assert len(seen) == len(first)
