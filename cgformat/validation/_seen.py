"""The keys seen so far in a stream of batches, for finding duplicates in bounded memory.

Each key is kept as two independent hashes (64 and 32 bits) with the record that first had it: 16 bytes a
key, whatever its length (80 MB for 5,000,000 keys). The store is a few arrays sorted by the first hash, of
geometric sizes: a batch's distinct keys are looked up in each by binary search, the new ones become a run of
their own, and runs of similar size are merged, so each key is re-merged only O(log n) times. A false
duplicate needs both hashes to collide (odds near 2^-96 per pair of keys); keys that share only the first
hash are told apart.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["SeenKeys"]

_U64 = npt.NDArray[np.uint64]
_U32 = npt.NDArray[np.uint32]
_I64 = npt.NDArray[np.int64]
_Run = tuple[_U64, _U32, _U32]     # first hashes (sorted), second hashes, first record of each key
_MAX_RECORD = 2**32 - 1            # first records are kept in 32 bits


def _merge(a: _Run, b: _Run) -> _Run:
    """Two runs as one, still sorted by the first hash: ``b``'s entries go where a binary search puts them
    (beside the merged run, only a position per entry of ``b`` and a byte per entry are held)."""
    at = np.searchsorted(a[0], b[0], side="right")
    at += np.arange(len(at), dtype=at.dtype)
    from_a = np.ones(len(a[0]) + len(b[0]), dtype=bool)
    from_a[at] = False
    h1 = np.empty(len(from_a), dtype=a[0].dtype)
    h2 = np.empty(len(from_a), dtype=a[1].dtype)
    first = np.empty(len(from_a), dtype=a[2].dtype)
    for merged, x, y in ((h1, a[0], b[0]), (h2, a[1], b[1]), (first, a[2], b[2])):
        merged[at] = y
        merged[from_a] = x
    return h1, h2, first


class SeenKeys:
    """Keys by their two hashes, each with the first record that had it."""

    def __init__(self) -> None:
        self._runs: list[_Run] = []

    def __len__(self) -> int:
        return sum(len(run[0]) for run in self._runs)

    def add(self, h1: _U64, h2: _U32, records: _I64) -> tuple[_I64, _I64]:
        """Take a batch's keys (hashes and record numbers, one per record, in record order) and return the
        positions of those that repeat a key seen before (in this batch or an earlier one), in order, with
        the record each repeats (the first that had the key)."""
        n = len(h1)
        if n == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        if int(records.max()) > _MAX_RECORD:
            raise OverflowError(f"record numbers above {_MAX_RECORD} do not fit the duplicate store")
        order = np.argsort(h1)
        s1, s2 = h1[order], h2[order]
        same1 = s1[1:] == s1[:-1]
        if (same1 & (s2[1:] != s2[:-1])).any():
            # two keys share the first hash (rare): order by both, so each key's records are together
            order = np.lexsort((h2, h1))
            s1, s2 = h1[order], h2[order]
            same1 = s1[1:] == s1[:-1]
        start = np.empty(n, dtype=bool)
        start[0] = True
        start[1:] = ~same1 | (s2[1:] != s2[:-1])
        group = np.cumsum(start) - 1
        d1, d2 = s1[start], s2[start]
        first_row = np.minimum.reduceat(order, np.flatnonzero(start))    # each key's earliest record
        first = records[first_row].astype(np.int64)
        seen = np.full(len(d1), -1, dtype=np.int64)
        for r1, r2, rf in self._runs:
            at = np.searchsorted(r1, d1)
            todo = np.arange(len(d1))
            while len(todo):   # the first entry with the same first hash, then the next ones (rarely any)
                pos = at[todo]
                inside = pos < len(r1)
                todo, pos = todo[inside], pos[inside]
                same = r1[pos] == d1[todo]
                todo, pos = todo[same], pos[same]
                hit = r2[pos] == d2[todo]
                seen[todo[hit]] = rf[pos[hit]]
                todo = todo[~hit]
                at[todo] += 1
        fresh = seen < 0
        if fresh.any():
            self._runs.append((d1[fresh], d2[fresh], first[fresh].astype(np.uint32)))
            while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
                top = self._runs.pop()
                self._runs[-1] = _merge(self._runs[-1], top)
        # a record repeats the first record of its key: seen in an earlier batch, else earlier in this one
        earlier = seen[group]
        dup_of = np.where(earlier >= 0, earlier, np.where(order == first_row[group], -1, first[group]))
        repeat = dup_of >= 0
        rows = order[repeat]
        back = np.argsort(rows, kind="stable")
        return rows[back].astype(np.int64), dup_of[repeat][back]
