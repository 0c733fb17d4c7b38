"""Plan how records are cut into parts that each fit a limit profile (pure: no I/O).

Parts are filled greedily in input order: each part takes the longest run of records that fits both
limits (records and bytes, the bytes given by the writer's exact size oracle), so the number of parts is
the minimum any in-order split can reach. A record that alone is larger than the byte budget cannot go
in any part and is reported. Records with the same de-duplication key never share a part (CG would drop
the second as a duplicate).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

import polars as pl

__all__ = ["Plan", "part_name", "plan_parts", "previous_same_key", "split_id"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Where the parts of a run of records start and end.

    ``parts`` are ``[start, end)`` row ranges; ``too_large`` the rows that fit no part; ``rest`` the first
    row of the unfinished last part, left for the next batch to complete (the row count when ``final``).
    ``key_cuts`` are the parts (indices into ``parts``) that end before the limits make them end, because
    the next row repeats a key of the part.
    """

    parts: tuple[tuple[int, int], ...]
    too_large: tuple[int, ...]
    rest: int
    key_cuts: tuple[int, ...] = ()


def previous_same_key(keys: pl.DataFrame) -> pl.Series:
    """For each row, the index of the nearest earlier row with the same key, else -1.

    A key whose values are all empty (or null) is no key: such rows never count as duplicates.
    """
    cols = keys.columns
    none = pl.repeat(-1, keys.height, eager=True, dtype=pl.Int64).alias("prev")
    if not cols or keys.height == 0:
        return none
    blank = pl.all_horizontal([(pl.col(c) == "") if keys.schema[c] == pl.String else pl.col(c).is_null()
                               for c in cols])
    rows = keys.with_row_index("__i").filter(~blank)
    # only a key seen more than once gives a row an earlier one: those rows (usually few) are found first
    rows = rows.filter(_repeated(rows, cols))
    if rows.height == 0:
        return none
    # a stable sort by key puts each key's rows together in their order: a row's previous same key is the
    # row before it there (a sort, where a window over the keys would hash every one into a group table)
    ordered = rows.sort(cols, maintain_order=True, nulls_last=True)
    same = pl.all_horizontal([pl.col(c).eq_missing(pl.col(c).shift(1)) for c in cols]) & (pl.int_range(pl.len()) > 0)
    found = ordered.select(pl.col("__i"), pl.when(same).then(pl.col("__i").shift(1)).otherwise(-1)
                           .cast(pl.Int64).alias("prev"))
    return none.scatter(found["__i"], found["prev"])


def _repeated(rows: pl.DataFrame, cols: list[str]) -> pl.Series:
    """Which rows hold a key that another row holds too."""
    if len(cols) == 1 and rows.schema[cols[0]].is_integer() and rows[cols[0]].null_count() == 0:
        import numpy as np  # one integer column (split's key hashes): sorting the values finds the repeats

        column = rows[cols[0]]
        ordered = np.sort(column.to_numpy())
        repeats = pl.Series(ordered[1:][ordered[1:] == ordered[:-1]], dtype=column.dtype)
        return column.is_in(repeats.implode())
    return rows.select(pl.struct(cols).is_duplicated()).to_series()


def plan_parts(sizes: pl.Series, *, envelope: int, max_records: int, max_bytes: int,
               prev: pl.Series | None = None, final: bool = True) -> Plan:
    """Cut rows with these byte sizes into parts of at most ``max_records`` rows and ``max_bytes`` bytes.

    ``envelope`` is the size of a file with no record (header, XML declaration ...). ``prev`` is
    :func:`previous_same_key` of the rows, to keep duplicates apart. When ``final`` is false the last,
    possibly unfinished part is not emitted but left in ``rest`` for the caller to extend.
    """
    import numpy as np  # the loop runs once per part: numpy's calls cost microseconds, polars' more

    n = sizes.len()
    budget = max_bytes - envelope
    size = sizes.cast(pl.Int64).fill_null(0).to_numpy()
    cum = np.cumsum(size)
    before = prev.cast(pl.Int64).fill_null(-1).to_numpy() if prev is not None else None
    parts: list[tuple[int, int]] = []
    too_large: list[int] = []
    key_cuts: list[int] = []
    s = 0
    rest = n
    while s < n:
        size_s = int(size[s])
        if size_s > budget:
            too_large.append(s)
            s += 1
            continue
        base = int(cum[s]) - size_s
        e_bytes = int(np.searchsorted(cum, base + budget, side="right"))
        e = min(s + max_records, e_bytes, n)
        cut_by_key = False
        if before is not None and e - s > 1:
            clash = np.flatnonzero(before[s + 1:e] >= s)
            if len(clash):
                e = s + 1 + int(clash[0])
                cut_by_key = True
        if e == n and not final and e - s < max_records:
            rest = s
            break
        if cut_by_key:
            key_cuts.append(len(parts))
        parts.append((s, e))
        s = e
    return Plan(parts=tuple(parts), too_large=tuple(too_large), rest=rest if s < n else n,
                key_cuts=tuple(key_cuts))


def split_id(source_sha256: str, options: dict[str, object]) -> str:
    """A short id of the source's content and the split's options: same input, same names; never a clash."""
    doc = json.dumps({"sha256": source_sha256, **options}, sort_keys=True, default=str)
    return hashlib.sha256(doc.encode()).hexdigest()[:10]


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def part_name(stem: str, ident: str, index: int, total: int, ext: str) -> str:
    """``{stem}-{id}-0001-of-0012.{ext}``: names sort in order and say where they stand."""
    width = max(4, len(str(total)))
    safe = _UNSAFE.sub("_", stem).strip("._-") or "part"
    return f"{safe}-{ident}-{index:0{width}d}-of-{total:0{width}d}.{ext}"

