"""The part planner: every record once, in order, each part within both limits, and no more parts than needed."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from cgformat.jobs.split.plan import part_name, plan_parts, previous_same_key, split_id


def minimal_parts(sizes: list[int], *, envelope: int, max_records: int, max_bytes: int,
                  keys: list[str] | None = None) -> int:
    """The fewest in-order parts, by dynamic programming over every cut (the oracle)."""
    n = len(sizes)
    best = [0] + [n + 1] * n
    for end in range(1, n + 1):
        total, seen = 0, set()
        for start in range(end - 1, max(-1, end - 1 - max_records), -1):
            total += sizes[start]
            if keys is not None and keys[start] != "":
                if keys[start] in seen:
                    break
                seen.add(keys[start])
            if total + envelope > max_bytes:
                break
            best[end] = min(best[end], best[start] + 1)
    return best[n]


def test_plan_cuts_on_records_and_bytes() -> None:
    plan = plan_parts(pl.Series([10, 20, 30, 40, 5, 5, 500, 1, 1]), envelope=5, max_records=3, max_bytes=60)
    assert plan.parts == ((0, 2), (2, 3), (3, 6), (7, 9))
    assert plan.too_large == (6,)
    assert plan.rest == 9


def test_plan_leaves_the_unfinished_tail_when_not_final() -> None:
    plan = plan_parts(pl.Series([10, 20, 30, 40, 5, 5, 500, 1, 1]), envelope=5, max_records=3, max_bytes=60,
                      final=False)
    assert plan.parts == ((0, 2), (2, 3), (3, 6))
    assert plan.rest == 7


def test_a_full_part_is_emitted_even_when_not_final() -> None:
    plan = plan_parts(pl.Series([1, 1, 1, 1]), envelope=0, max_records=2, max_bytes=100, final=False)
    assert plan.parts == ((0, 2), (2, 4))
    assert plan.rest == 4


def test_previous_same_key_ignores_blank_keys() -> None:
    prev = previous_same_key(pl.DataFrame({"e": ["a", "b", "a", "", "", "c", "c", "a", "b"]}))
    assert prev.to_list() == [-1, -1, 0, -1, -1, -1, 5, 2, 1]


@given(rows=st.lists(st.tuples(st.sampled_from(["", "a", "b"]), st.sampled_from([None, 1, 2])), max_size=40))
def test_previous_same_key_is_the_nearest_earlier_row_with_that_key(rows: list[tuple[str, int | None]]) -> None:
    # several key columns, text and numbers with nulls; a key of only blanks is no key
    frame = pl.DataFrame(rows, schema={"t": pl.String, "n": pl.Int64}, orient="row")
    want = []
    for i, row in enumerate(rows):
        blank = row == ("", None)
        want.append(-1 if blank else max((j for j in range(i) if rows[j] == row), default=-1))
    assert previous_same_key(frame).to_list() == want


@given(keys=st.lists(st.one_of(st.none(), st.integers(0, 5), st.just(2**64 - 1)), max_size=60))
def test_previous_same_key_of_one_hash_column(keys: list[int | None]) -> None:
    # split's case: one UInt64 column of key hashes, null for a record without a key
    want = [-1 if k is None else max((j for j in range(i) if keys[j] == k), default=-1) for i, k in enumerate(keys)]
    assert previous_same_key(pl.DataFrame({"key": keys}, schema={"key": pl.UInt64})).to_list() == want


def test_duplicates_never_share_a_part() -> None:
    keys = ["a", "b", "a", "", "", "c", "c", "a", "b"]
    prev = previous_same_key(pl.DataFrame({"e": keys}))
    plan = plan_parts(pl.Series([1] * 9), envelope=0, max_records=5, max_bytes=1000, prev=prev)
    assert plan.parts == ((0, 2), (2, 6), (6, 9))
    assert plan.key_cuts == (0, 1)      # the last part ends at the end, not at a key
    # a part the record limit ends at the very row that repeats a key is no key cut
    plan = plan_parts(pl.Series([1] * 4), envelope=0, max_records=2, max_bytes=1000,
                      prev=previous_same_key(pl.DataFrame({"e": ["a", "b", "a", "c"]})))
    assert (plan.parts, plan.key_cuts) == (((0, 2), (2, 4)), ())


@given(sizes=st.lists(st.integers(1, 40), max_size=60), envelope=st.integers(0, 10),
       max_records=st.integers(1, 7), max_bytes=st.integers(15, 80),
       keys=st.lists(st.sampled_from(["", "a", "b", "c"]), min_size=60, max_size=60))
def test_plan_is_complete_ordered_within_limits_and_minimal(sizes: list[int], envelope: int, max_records: int,
                                                            max_bytes: int, keys: list[str]) -> None:
    keys = keys[: len(sizes)]
    prev = previous_same_key(pl.DataFrame({"k": keys}, schema={"k": pl.String}))
    plan = plan_parts(pl.Series(sizes, dtype=pl.Int64), envelope=envelope, max_records=max_records,
                      max_bytes=max_bytes, prev=prev)
    covered = sorted([i for s, e in plan.parts for i in range(s, e)] + list(plan.too_large))
    assert covered == list(range(len(sizes)))
    assert [s for s, _ in plan.parts] == sorted(s for s, _ in plan.parts)
    for s, e in plan.parts:
        assert 1 <= e - s <= max_records
        assert envelope + sum(sizes[s:e]) <= max_bytes
        part_keys = [k for k in keys[s:e] if k]
        assert len(part_keys) == len(set(part_keys))
    assert set(plan.too_large) == {i for i, x in enumerate(sizes) if x + envelope > max_bytes}
    # minimal: each maximal run between too-large records is cut as few times as any in-order split can
    runs, start = [], 0
    for i in [*plan.too_large, len(sizes)]:
        runs.append((start, i))
        start = i + 1
    want = sum(minimal_parts(sizes[a:b], envelope=envelope, max_records=max_records, max_bytes=max_bytes,
                             keys=keys[a:b]) for a, b in runs)
    assert len(plan.parts) == want


def test_part_names_sort_and_say_where_they_stand() -> None:
    names = [part_name("export 2024", "abc123", i, 12, "csv") for i in (1, 2, 12)]
    assert names == ["export_2024-abc123-0001-of-0012.csv", "export_2024-abc123-0002-of-0012.csv",
                     "export_2024-abc123-0012-of-0012.csv"]
    assert part_name("x", "id", 3, 12345, "xml") == "x-id-00003-of-12345.xml"


def test_split_id_depends_on_content_and_options() -> None:
    a = split_id("0" * 64, {"format": "csv", "max_records": 2000})
    assert a == split_id("0" * 64, {"max_records": 2000, "format": "csv"})
    assert a != split_id("1" * 64, {"format": "csv", "max_records": 2000})
    assert a != split_id("0" * 64, {"format": "xml", "max_records": 2000})
