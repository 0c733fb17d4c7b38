"""The cheap screens of :meth:`Validator.check` never hide an issue: same issues as every check on every row."""

from __future__ import annotations

import os

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cgformat.model import RecordBatch, SourceInfo
from cgformat.validation import Validator, plan

from .._helpers.tables import TX, tx

# values that trip (or nearly trip) the screened checks: formula signs, mojibake, control characters and
# line breaks, over-long values in bytes but not in characters (and in both), mangled numbers, phones
TRICKY = ["", "Anna", "=1+2", "+31", "-", "@x", "a=b", "MÃ¼ller", "Ã", "â€™", "\ufffd", "Bad\x07", "a\tb",
          "N\u2028L", "é" * 100, "é" * 129, "x" * 129, "3.16E+11", "31612345678.0", "31612345678", "0001",
          "+1", "-7", "12a", "Zoë", "Ängel", "ANNA@X.COM", " a@x.com", "a@x.com", "2025-02-30 10:00:00",
          "2025-03-01 10:00:00", "316 1234 5678"]


def _every_check_everywhere(schema: str | None, batch: RecordBatch, info: SourceInfo,
                            ) -> set[tuple[str, str, int, str | None]]:
    frame = batch.frame
    out: set[tuple[str, str, int, str | None]] = set()
    for c in plan(schema, info).checks:
        rows = frame.select(c.fails.alias("f")).to_series().arg_true()
        out |= {(str(c.code), c.severity.value, batch.first_record + int(r), c.field) for r in rows}
    return out


def _issues(v: Validator, batch: RecordBatch) -> set[tuple[str, str, int, str | None]]:
    issues = v.check(batch).issues.filter(pl.col("code") != "duplicate-row")
    return {(c, s, r, f) for c, s, r, f in issues.select("code", "severity", "record", "field").iter_rows()}


@settings(max_examples=int(os.environ.get("CG_SCREEN_EXAMPLES", "25")), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(TX), st.sampled_from(TRICKY)), max_size=40),
       st.integers(min_value=150, max_value=400), st.booleans())
def test_screens_find_every_issue(changes: list[tuple[str, str]], n: int, varied: bool) -> None:
    # n records (enough for the few-distinct-values path); with ``varied`` every name is distinct
    rows = [{"FirstName": f"Anna{i}"} if varied else {} for i in range(n)]
    for k, (column, value) in enumerate(changes):
        rows[(k * 37) % n][column] = value
    t = tx(*rows)
    batch = RecordBatch(frame=t.frame, lines=t.lines, first_record=1)
    for schema in ("transactional", "historical", None):
        assert _issues(Validator(schema, t.info), batch) == _every_check_everywhere(schema, batch, t.info)
