"""Running a batch's checks: the plain ones on every row, the screened ones on the rows their screen flags, the
text-hygiene ones on the rows a cheap pre-filter (:data:`~cgformat.checks.SUSPECT_RE`) flags, each giving an
issue frame. A screen is true wherever its check can fail, so screening never hides an issue."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from .. import checks
from .cells import Check

__all__ = ["Screened"]

_Planned = list[tuple[int, Check]]


class Screened:
    """Checks grouped by how they run: ``issues`` gives a batch's issue frames, each with a column
    ``__order`` (the check's position in ``planned``) that orders a record's issues."""

    def __init__(self, planned: Sequence[Check]) -> None:
        self._plain = [(i, c) for i, c in enumerate(planned) if not c.hygiene and c.screen is None]
        # the screened checks, grouped by their screen (a phone column's two checks share one)
        self._screens: dict[str, tuple[pl.Expr, _Planned]] = {}
        for i, c in enumerate(planned):
            if not c.hygiene and c.screen is not None:
                self._screens.setdefault(str(c.screen), (c.screen, []))[1].append((i, c))
        hygiene = [(i, c) for i, c in enumerate(planned) if c.hygiene]
        self._hygiene_columns = sorted({c.column for _, c in hygiene if c.column is not None})
        self._hygiene_of = {col: [(i, c) for i, c in hygiene if c.column == col] for col in self._hygiene_columns}
        self._any = bool(planned)

    def issues(self, frame: pl.DataFrame, records: pl.Series, lines: pl.Series) -> list[pl.DataFrame]:
        """The issue frames of every check on ``frame`` (records and lines: its rows' positions)."""
        if not self._any or frame.height == 0:
            return []
        parts: list[pl.DataFrame] = []
        stage = [c.fails.alias(f"c{i}") for i, c in self._plain]
        stage += [screen.alias(f"g{j}") for j, (screen, _) in enumerate(self._screens.values())]
        few = [c for c in self._hygiene_columns if _few_values(frame[c])]
        many = [c for c in self._hygiene_columns if c not in few]
        stage += [pl.col(c).str.contains(checks.SUSPECT_RE).alias(f"s:{c}") for c in many]
        # lazy: polars shares the common sub-expressions (a column's ``== ""``, a pattern used twice);
        # the distinct values of the columns that repeat a few are gathered alongside
        queries = [frame.lazy().select(stage)]
        if few:
            queries.append(frame.lazy().select([pl.col(c).unique().implode() for c in few]))
        flags, *distinct = pl.collect_all(queries)
        parts += _issues_of(self._plain, flags, frame, records, lines)
        if self._screens:
            parts += self._screened_issues(flags, frame, records, lines)
        if self._hygiene_columns:
            suspect: dict[str, pl.Series | None] = {c: flags[f"s:{c}"] for c in many}
            if distinct:
                suspect.update(_suspect_by_value(frame, distinct[0]))
            for col in self._hygiene_columns:
                parts += _issues_where(self._hygiene_of[col], suspect[col], frame, records, lines)
        return parts

    def _screened_issues(self, flags: pl.DataFrame, frame: pl.DataFrame, records: pl.Series,
                         lines: pl.Series) -> list[pl.DataFrame]:
        """Issues of the screened checks: those whose screen (column ``g{j}``) flags a row, on such rows."""
        groups = list(self._screens.values())
        hits = flags.select([pl.col(f"g{j}").any() for j in range(len(groups))]).row(0)
        # each group on the rows its own screen flags: a costly check (telling a date's faults apart runs the
        # date normalizer) never runs on the rows another column's screen flagged (the issues are sorted later)
        out: list[pl.DataFrame] = []
        for j, hit in enumerate(hits):
            if hit:
                out.extend(_issues_where(groups[j][1], flags[f"g{j}"], frame, records, lines))
        return out


def _issues_where(planned: _Planned, mask: pl.Series | None, frame: pl.DataFrame, records: pl.Series,
                  lines: pl.Series) -> list[pl.DataFrame]:
    """Issue frames of these checks, run on the rows ``mask`` flags only (no issue elsewhere)."""
    if mask is None or not mask.any():
        return []
    needed = {n for _, c in planned for n in c.fails.meta.root_names()}
    needed.update(c.column for _, c in planned if c.column is not None)
    sub = frame.select([c for c in frame.columns if c in needed]).filter(mask)
    # the numbering that tells one column's faults apart is computed once, not once per fault
    hoisted: dict[int, tuple[str, pl.Expr]] = {}
    exprs: list[pl.Expr] = []
    for i, c in planned:
        if c.shared is None:
            exprs.append(c.fails.alias(f"c{i}"))
            continue
        which, k, base = c.shared
        name = hoisted.setdefault(id(which), (f"~cgformat_which{len(hoisted)}", which))[0]
        exprs.append((base & (pl.col(name) == k)).alias(f"c{i}"))
    frame_with = sub.lazy().with_columns([w.alias(n) for n, w in hoisted.values()]) if hoisted else sub.lazy()
    flags = frame_with.select(exprs).collect()
    return _issues_of(planned, flags, sub, records.filter(mask), lines.filter(mask))


def _issues_of(planned: _Planned, flags: pl.DataFrame, frame: pl.DataFrame, records: pl.Series,
               lines: pl.Series) -> list[pl.DataFrame]:
    """Issue frames for the checks whose flag column (``c{i}``) is true somewhere."""
    if not planned or flags.height == 0:
        return []
    totals = flags.select([pl.col(f"c{i}").sum() for i, _ in planned]).row(0)
    out: list[pl.DataFrame] = []
    for (i, c), total in zip(planned, totals, strict=True):
        if not total:
            continue
        n = int(total)
        mask = flags[f"c{i}"]

        def const(x: object, dtype: pl.DataType, n: int = n) -> pl.Series:
            return pl.Series([x], dtype=dtype).new_from_index(0, n)

        value = frame[c.column].filter(mask) if c.column is not None else const("", pl.String())
        out.append(pl.DataFrame({
            "code": const(str(c.code), pl.String()), "severity": const(c.severity.value, pl.String()),
            "record": records.filter(mask), "line": lines.filter(mask), "field": const(c.field, pl.String()),
            "value": value.alias("value"), "message": const(c.message, pl.String()),
            "__order": const(i, pl.Int32()),
        }))
    return out


def _few_values(values: pl.Series) -> bool:
    """Whether a column seems to repeat a few values (judged on its first records): then checking each
    distinct value once and looking the verdicts up costs less than checking every value."""
    head = values.head(1000)
    return head.len() >= 100 and head.n_unique() * 2 < head.len()


def _suspect_by_value(frame: pl.DataFrame, distinct: pl.DataFrame) -> dict[str, pl.Series | None]:
    """Per column of ``distinct`` (one row: the list of a column's distinct values), where
    :data:`~cgformat.checks.SUSPECT_RE` matches in ``frame`` (``None``: nowhere)."""
    out: dict[str, pl.Series | None] = {}
    for c in distinct.columns:
        values = distinct[c].explode()
        bad = values.filter(values.str.contains(checks.SUSPECT_RE))
        out[c] = frame[c].is_in(bad.implode()) if bad.len() else None
    return out
