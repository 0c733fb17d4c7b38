"""The keys seen so far in a stream of batches, for finding duplicates in bounded memory per key.

Each key is kept as two independent 64-bit hashes of its text and the record that first had it: 20 bytes a
key, whatever its length. The first hash orders and finds; a match counts only when the second hash matches
too, so two different keys are taken for one only if both hashes collide (for five million distinct keys,
about one chance in 10^25). Within a batch, keys are compared on their text. The hashes sit in a few arrays
sorted by hash, of geometric sizes: a batch's distinct keys are looked up in each by binary search, the new
ones become a run of their own, and runs of similar size are merged, so each hash is re-merged only
O(log n) times. (Keeping each key's text instead of the second hash made a validating split of 5M records
peak at 731 MB instead of under 500: benchmark case memory-1M-5M and CHANGELOG.)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

__all__ = ["SeenKeys"]

_U64 = npt.NDArray[np.uint64]
_U32 = npt.NDArray[np.uint32]
_I64 = npt.NDArray[np.int64]
_Run = tuple[_U64, _U32, _U64]     # hashes (sorted), first record of each key, the key's second hash
_MAX_RECORD = 2**32 - 1            # first records are kept in 32 bits
_CHECK_SEED = 0x2545F491           # the second hash's seed: independent of duplicates.hash_keys'


def check_hashes(keys: pl.Series) -> _U64:
    """The second, independent 64-bit hash of each key that confirms a match of the first."""
    return keys.hash(seed=_CHECK_SEED).to_numpy()


def _merge(a: _Run, b: _Run) -> _Run:
    """Two runs as one, still sorted by hash: ``b``'s entries go where a binary search puts them."""
    at = np.searchsorted(a[0], b[0], side="right")
    at += np.arange(len(at), dtype=at.dtype)
    from_a = np.ones(len(a[0]) + len(b[0]), dtype=bool)
    from_a[at] = False
    merged = tuple(np.empty(len(from_a), dtype=x.dtype) for x in a)
    for m, x, y in zip(merged, a, b, strict=True):
        m[at] = y
        m[from_a] = x
    return merged  # type: ignore[return-value]


class SeenKeys:
    """Keys by their two hashes, each with the first record that had it."""

    def __init__(self) -> None:
        self._runs: list[_Run] = []

    def __len__(self) -> int:
        return sum(len(run[0]) for run in self._runs)

    def add(self, hashes: _U64, keys: pl.Series, records: _I64) -> tuple[_I64, _I64]:
        """Take a batch's keys (hash and text, one per record, in record order, with the record numbers) and
        return the positions of those that repeat a key seen before (in this batch or an earlier one), in
        order, with the record each repeats (the first that had the key)."""
        n = len(hashes)
        if n == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        if int(records.max()) > _MAX_RECORD:
            raise OverflowError(f"more than {_MAX_RECORD} records do not fit the duplicate store")
        first_row, distinct = _first_rows(hashes, keys)    # per row, the row of its key's first record
        own = np.arange(n)
        d_hash = hashes[distinct]
        d_check = check_hashes(keys.gather(distinct))
        seen = np.full(len(distinct), -1, dtype=np.int64)
        for r_hash, r_first, r_check in self._runs:
            at = np.searchsorted(r_hash, d_hash)
            todo = np.arange(len(distinct))
            while len(todo):   # the first entry with the same hash, then the next ones (a collision: rarely)
                pos = at[todo]
                inside = pos < len(r_hash)
                todo, pos = todo[inside], pos[inside]
                same = r_hash[pos] == d_hash[todo]
                todo, pos = todo[same], pos[same]
                if not len(todo):
                    break
                hit = r_check[pos] == d_check[todo]
                seen[todo[hit]] = r_first[pos[hit]]
                todo = todo[~hit]
                at[todo] += 1
        fresh = np.flatnonzero(seen < 0)
        if len(fresh):
            self._runs.append((d_hash[fresh], records[distinct[fresh]].astype(np.uint32), d_check[fresh]))
            while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
                top = self._runs.pop()
                self._runs[-1] = _merge(self._runs[-1], top)
        # a record repeats the first record of its key: seen in an earlier batch, else earlier in this one
        index_of = np.empty(n, dtype=np.int64)
        index_of[distinct] = np.arange(len(distinct))
        earlier = seen[index_of[first_row]]
        dup_of = np.where(earlier >= 0, earlier, np.where(first_row == own, -1, records[first_row]))
        rows = np.flatnonzero(dup_of >= 0)
        return rows.astype(np.int64), dup_of[rows].astype(np.int64)


def _first_rows(hashes: _U64, keys: pl.Series) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Per row, the first row with the same key (grouped by hash, and by text where two texts share one); and
    the first rows of the distinct keys, ordered by hash (binary searches for them in that order run fast)."""
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    start = np.empty(len(order), dtype=bool)
    start[0] = True
    start[1:] = ordered[1:] != ordered[:-1]
    firsts = order[np.flatnonzero(start)]
    first = np.empty(len(order), dtype=np.intp)
    first[order] = firsts[np.cumsum(start) - 1]
    later = np.flatnonzero(first != np.arange(len(first)))      # only these can differ from their first
    if not len(later) or (keys.gather(later) == keys.gather(first[later])).all():
        return first, firsts
    frame = pl.DataFrame({"k": keys}).with_row_index("row")
    first = frame.select(pl.col("row").first().over("k")).to_series().to_numpy().astype(np.intp)
    distinct = np.flatnonzero(first == np.arange(len(first)))
    return first, distinct[np.argsort(hashes[distinct], kind="stable")]
