"""Duplicate keys: records whose de-duplication key (the schema's ``dedupeKey``, or a ``unique`` field) repeats
an earlier record's, in this batch or any before. Keys compare stripped and lower-cased; a record with a blank
key part has no key. The keys seen so far are kept in :class:`~._seen.SeenKeys` (numpy: loaded only when a
schema has keys), looked up by hash and confirmed by a second hash."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

from ..model import IssueCode, Severity
from ..report import issues_frame
from ..schema import Resolution, Schema
from . import messages
from .header import column_of

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from ._seen import SeenKeys

__all__ = ["Duplicates", "KeyHashes", "dedupe_plan", "hash_keys", "key_hash_column", "key_hashes"]

KeyHashes = tuple["npt.NDArray[np.uint64]", pl.Series, "npt.NDArray[np.intp] | None"]
"""Each record's key as a hash and as text (:func:`key_hashes`), for the records that have one, and their rows
(None: every row)."""

# a value with none of these (upper-case ASCII, ASCII white space, anything not ASCII) is its own
# normalised key: stripping and lower-casing leave it as it is
_NORMALISE_RE = r"[A-Z\t-\r \x{80}-\x{10FFFF}]"


def dedupe_plan(schema: Schema | None, resolution: Resolution | None) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(field names, columns) of each de-duplication key whose columns are all present."""
    if schema is None:
        return []
    keys: list[tuple[str, ...]] = []
    if schema.dedupe_key:
        keys.append(schema.dedupe_key)
    for f in schema.fields:
        if f.unique and (f.name,) not in keys:
            keys.append((f.name,))
    out: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for key in keys:
        cols = [column_of(resolution, n) for n in key]
        if all(c is not None for c in cols):
            out.append((key, tuple(c for c in cols if c is not None)))
    return out


class Duplicates:
    """The keys of a stream of batches: :meth:`issues` gives a batch's ``duplicate-row`` issues (batches in
    record order), given the hashes :func:`key_hashes` worked out for it (which may run ahead)."""

    def __init__(self, keys: Sequence[tuple[tuple[str, ...], tuple[str, ...]]]) -> None:
        self.keys = list(keys)
        self._seen: list[SeenKeys] = []
        if self.keys:
            from ._seen import SeenKeys  # numpy: loaded only when there are keys to compare

            self._seen = [SeenKeys() for _ in self.keys]

    def hashes(self, frame: pl.DataFrame) -> tuple[KeyHashes | None, ...]:
        """Each key's hashes in ``frame`` (batch-local: no state)."""
        return tuple(key_hashes(cols, frame) for _, cols in self.keys)

    def issues(self, k: int, frame: pl.DataFrame, records: pl.Series, lines: pl.Series,
               hashes: KeyHashes | None) -> pl.DataFrame:
        """Records whose key ``k`` repeats an earlier one, in this batch or any before."""
        if hashes is None:
            return issues_frame()
        names, cols = self.keys[k]
        hashed, texts, filled = hashes
        numbers = records.to_numpy()
        at, dup_of = self._seen[k].add(hashed, texts, numbers if filled is None else numbers[filled])
        if len(at) == 0:
            return issues_frame()
        rows = pl.Series("row", (filled[at] if filled is not None else at).astype("uint32"))
        out = pl.DataFrame([records.gather(rows).alias("record"), lines.gather(rows).alias("line"),
                            frame[cols[0]].gather(rows).alias("value"),
                            pl.Series("dup_of", dup_of, dtype=pl.Int64)]).rechunk()
        # (pl.format panics on columns of unequal chunks in polars 2.1)
        return out.select(
            pl.lit(IssueCode.DUPLICATE_ROW.value).alias("code"),
            pl.lit(Severity.ERROR.value).alias("severity"),
            pl.col("record"), pl.col("line"),
            pl.lit(cols[0]).alias("field"),
            pl.col("value"),
            pl.format(messages.duplicate(" + ".join(names)), pl.col("dup_of")).alias("message"),
        )


def key_hash_column(frame: pl.DataFrame, cols: Sequence[str]) -> pl.Series:
    """One 64-bit hash per record of its key as duplicates are judged here, null for a record without a key:
    what ``cgformat split`` keeps apart (equal hashes of unequal keys could only cut a part early)."""
    hashes = key_hashes(tuple(cols), frame)
    none = pl.repeat(None, frame.height, eager=True, dtype=pl.UInt64).alias("key")
    if hashes is None:
        return none
    hashed, _, filled = hashes
    if filled is None:
        return pl.Series("key", hashed, dtype=pl.UInt64)
    return none.scatter(filled, hashed)


def hash_keys(keys: pl.Series) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each key (equal keys, equal hashes; unequal keys may share one, rarely)."""
    return keys.hash(seed=0x9E37).to_numpy()


def key_hashes(cols: Sequence[str], frame: pl.DataFrame) -> KeyHashes | None:
    """Each record's key (see :func:`_key_parts`) hashed and as text, for the records that have one
    (``filled``: their rows, None for all); None when no record has one."""
    if frame.height == 0:
        return None
    parts, blank = _key_parts(cols, frame)
    if blank.all():
        return None
    key = parts[0] if len(parts) == 1 else pl.DataFrame(parts).select(
        pl.concat_str(pl.all(), separator="\x1f")).to_series()
    hashed = hash_keys(key)
    if not blank.any():
        return hashed, key, None
    filled = (~blank).arg_true().to_numpy()
    return hashed[filled], key.gather(filled), filled


def _key_parts(cols: Sequence[str], frame: pl.DataFrame) -> tuple[list[pl.Series], pl.Series]:
    """Each key column's values as keys compare (stripped, lower-cased), and which records have no key: a
    blank part leaves a record without one (a phone-only record has no Email + OrderDate key)."""
    parts = [_normalised_key(frame[c]) for c in cols]
    blank = parts[0] == ""
    for p in parts[1:]:
        blank = blank | (p == "")
    return parts, blank


def _normalised_key(values: pl.Series) -> pl.Series:
    """``values`` stripped of surrounding white space and lower-cased (only the values that need it, unless
    most do, judged on the first ones)."""
    head = values.head(1000)
    if head.str.contains(_NORMALISE_RE).sum() * 2 > head.len():
        return values.str.strip_chars().str.to_lowercase()
    rows = values.str.contains(_NORMALISE_RE).arg_true()
    if rows.len() == 0:
        return values
    return values.clone().scatter(rows, values.gather(rows).str.strip_chars().str.to_lowercase())
