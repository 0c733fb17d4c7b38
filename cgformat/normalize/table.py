"""Normalizing whole tables as ``cgformat fix`` does: each column's normalizer chain, every change reported,
and the fix plan for a header (renamed labels, an exact header's order, empty unlabelled columns dropped)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from ..model import Table, unique_columns
from ..report import issues_frame
from ..schema import Schema, load_schema
from .chains import GENERIC, NORMALIZERS, apply_rows, identity_where, normalizers_for
from .dates import date_issues
from .options import NormalizeOptions

__all__ = ["FixPlan", "Normalized", "empty_unlabelled", "fix_plan", "fix_table", "normalize"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Normalized:
    """What :func:`normalize` did: the new frame and labels, counts per normalizer, and each change.

    ``changes`` has columns record, line, field, before, after, normalizers (comma-separated names of the
    normalizers that changed that cell). ``renamed`` maps old header labels to canonical field names.
    ``issues`` (columns of :data:`~cgformat.report.ISSUE_SCHEMA`) lists values left alone on purpose
    (``ambiguous-date``, ``zoned-date``, ``unread-date``: a date that ``--date-format`` does not read).
    """

    frame: pl.DataFrame
    labels: tuple[str, ...]
    counts: dict[str, int]
    changes: pl.DataFrame
    renamed: dict[str, str] = field(default_factory=dict)
    issues: pl.DataFrame = field(default_factory=issues_frame)

    @property
    def changed_cells(self) -> int:
        """How many cells differ from the input."""
        return self.changes.height

    def in_order(self, order: Sequence[int | str] | None) -> Normalized:
        """The same, its columns in ``order``: positions of the columns as read, and labels of empty columns
        to add (None: as they are)."""
        if order is None:
            return self
        columns = self.frame.columns
        return replace(self, frame=self.frame.select([
            pl.col(columns[i]) if isinstance(i, int) else pl.lit("", dtype=pl.String).alias(f"\x00added:{i}")
            for i in order]), labels=tuple(self.labels[i] if isinstance(i, int) else i for i in order))

    def named(self) -> Normalized:
        """The same, the frame's columns named like ``labels`` (made unique as a reader names them:
        :func:`~cgformat.model.unique_columns`); ``changes`` and ``issues`` keep naming fields as read."""
        columns = unique_columns(self.labels)
        if tuple(self.frame.columns) == columns:
            return self
        return replace(self, frame=self.frame.rename(dict(zip(self.frame.columns, columns, strict=True))))


def normalize(table: Table, chains: dict[str, tuple[str, ...]], *, options: NormalizeOptions | None = None,
              labels: Sequence[str] | None = None, renamed: dict[str, str] | None = None,
              date_columns: Sequence[str] = (), first_record: int = 1) -> Normalized:
    """Apply each column's normalizer chain (column name -> normalizer names) and report every change.

    Columns absent from ``chains`` get the generic chain. ``labels`` are the header to write (default:
    the table's); ``date_columns`` are checked for ambiguous day/month values, reported as warnings.
    ``first_record`` numbers the table's first row (a batch of a larger source).
    """
    opts = options or NormalizeOptions()
    frame = table.frame
    cols = frame.columns
    records = table.records + (first_record - 1)
    lines = table.lines.alias("line")
    counts: dict[str, int] = {}
    col_chains = {c: chains.get(c, GENERIC) for c in cols}
    stages: dict[str, list[tuple[str, pl.Series]]] = {c: [] for c in cols}
    current = frame
    # one stage at a time, materialised: each expression then reads a plain column (cheap to plan and run)
    for k in range(max((len(ch) for ch in col_chains.values()), default=0)):
        staged = [(c, ch[k]) for c, ch in col_chains.items() if k < len(ch)]
        exprs = [NORMALIZERS[name](pl.col(c), opts).alias(c) for c, name in staged
                 if identity_where(name, pl.col(c), opts) is None]
        # the screens of the stage in one pass (column by column in parallel); a column whose screen passes
        # everywhere is left as it is, and not compared either
        screens = [(c, name, screen) for c, name in staged
                   if (screen := identity_where(name, pl.col(c), opts)) is not None]
        todo = current.select([(~screen).alias(str(i)) for i, (_, _, screen) in enumerate(screens)]) \
            if screens else pl.DataFrame()
        kept: set[str] = set()
        screened: list[pl.Series] = []
        for i, (c, name, _) in enumerate(screens):
            rows = todo.to_series(i).arg_true()
            if rows.len():
                screened.append(apply_rows(current, c, name, opts, rows))
            else:
                kept.add(c)
        nxt = current.with_columns([*exprs, *screened])
        for c, ch in col_chains.items():
            if k < len(ch):
                if c in kept:
                    counts[ch[k]] = counts.get(ch[k], 0)
                    continue
                mask = nxt[c] != current[c]
                n = int(mask.sum())
                counts[ch[k]] = counts.get(ch[k], 0) + n
                if n:
                    stages[c].append((ch[k], mask))
        current = nxt
    new_frame = current
    parts: list[pl.DataFrame] = []
    base = pl.DataFrame([records, lines])
    for col in cols:
        if not stages[col]:
            continue
        changed = new_frame[col] != frame[col]
        tags = pl.DataFrame([m.alias(f"s{i}") for i, (_, m) in enumerate(stages[col])]).select(pl.concat_str(
            [pl.when(pl.col(f"s{i}")).then(pl.lit(name)) for i, (name, _) in enumerate(stages[col])],
            separator=",", ignore_nulls=True).alias("normalizers"))
        part = pl.concat([base, pl.DataFrame({"field": pl.Series([col] * frame.height, dtype=pl.String),
                                              "before": frame[col], "after": new_frame[col]}), tags],
                         how="horizontal").filter(changed)
        if part.height:
            parts.append(part)
    change_schema = {"record": pl.Int64, "line": pl.Int64, "field": pl.String, "before": pl.String,
                     "after": pl.String, "normalizers": pl.String}
    changes = pl.concat(parts).sort("record", maintain_order=True) if parts else pl.DataFrame(schema=change_schema)
    found = [part for col in date_columns if col in cols
             for part in date_issues(frame[col], new_frame[col], col, records, lines,
                                     date_only="date" in chains.get(col, ()), options=opts)]
    issues = pl.concat(found).sort("record", maintain_order=True) if found else issues_frame()
    out_labels = tuple(labels) if labels is not None else table.info.labels
    if renamed:
        counts["rename"] = len(renamed)
    return Normalized(frame=new_frame, labels=out_labels, counts=dict(counts.items()),
                      changes=changes, renamed=dict(renamed or {}), issues=issues)


@dataclass(frozen=True, slots=True, kw_only=True)
class FixPlan:
    """What ``cgformat fix`` does to a source with these labels: each column's normalizer chain, the header
    to write (``labels``, in the order the columns are read), the labels renamed, the date columns checked
    for ambiguous day/month values, and, for a schema whose header must match exactly (a template, the
    revenue type), the columns to write (``order``: positions of the columns as read, and labels of empty
    columns to add; None to keep them as they are)."""

    chains: dict[str, tuple[str, ...]]
    labels: tuple[str, ...]
    renamed: dict[str, str]
    date_columns: tuple[str, ...]
    order: tuple[int | str, ...] | None = None

    @property
    def output_labels(self) -> tuple[str, ...]:
        """The header as written: ``labels`` in ``order``, added columns included."""
        if self.order is None:
            return self.labels
        return tuple(self.labels[i] if isinstance(i, int) else i for i in self.order)

    @property
    def reordered(self) -> bool:
        """Whether the columns read are written in another order."""
        kept = [i for i in (self.order or ()) if isinstance(i, int)]
        return kept != sorted(kept)

    @property
    def added(self) -> tuple[str, ...]:
        """Empty columns added for fields the header needs (values optional)."""
        return tuple(i for i in (self.order or ()) if isinstance(i, str))

    @property
    def dropped(self) -> tuple[int, ...]:
        """1-based positions of the columns read that are not written (unlabelled and empty)."""
        if self.order is None:
            return ()
        kept = {i for i in self.order if isinstance(i, int)}
        return tuple(i + 1 for i in range(len(self.labels)) if i not in kept)


def fix_table(table: Table, schema: Schema | str | None, *, options: NormalizeOptions | None = None,
              rename: bool = True) -> Normalized:
    """Normalize a table as ``cgformat fix`` does: every column trimmed and NFC, each schema field's own
    normalizers, and (with ``rename``) aliased or mis-cased headers renamed to the canonical field names,
    an exact header's columns put in its order, and unlabelled empty columns dropped. ``schema`` is a
    :class:`Schema`, a built-in type name or None; the result's frame has its columns named like its
    ``labels`` (:meth:`Normalized.named`)."""
    spec = load_schema(schema) if isinstance(schema, str) else schema
    drop = empty_unlabelled(table.info.labels, [table.frame]) if rename else ()
    plan = fix_plan(table.info.labels, spec, rename=rename, drop=drop)
    return normalize(table, plan.chains, options=options, labels=plan.labels, renamed=plan.renamed,
                     date_columns=plan.date_columns).in_order(plan.order).named()


def empty_unlabelled(labels: Sequence[str], frames: Iterable[pl.DataFrame]) -> tuple[int, ...]:
    """Positions (0-based) of the columns with a blank label and no value in any of ``frames`` (the whole
    source): what a trailing delimiter in a spreadsheet export leaves. Dropping them loses nothing."""
    blank = [i for i, label in enumerate(labels) if not label.strip()]
    if not blank:
        return ()
    filled: set[int] = set()
    for frame in frames:
        names = frame.columns
        row = frame.select([(pl.col(names[i]) != "").any() for i in blank]).row(0) if frame.height else ()
        filled.update(i for i, has in zip(blank, row, strict=False) if has)
    return tuple(i for i in blank if i not in filled)


def fix_plan(labels: tuple[str, ...], schema: Schema | None, *, rename: bool = True,
             drop: Sequence[int] = (), drop_extra: bool = False) -> FixPlan:
    """The :class:`FixPlan` for a header (the columns are :func:`~cgformat.model.unique_columns` of it);
    ``drop``: positions of columns not to write (:func:`empty_unlabelled`); with ``drop_extra``, the columns
    the schema does not know are not written either (asked for: a template takes no other column)."""
    chains: dict[str, tuple[str, ...]] = {}
    date_columns: list[str] = []
    renamed: dict[str, str] = {}
    order: tuple[int | str, ...] | None = None
    if schema is not None:
        res = schema.resolve(labels)
        if drop_extra:
            drop = (*drop, *(m.position - 1 for m in res.columns if m.field is None))
        for m in res.columns:
            f = m.field if m.how != "duplicate" else None
            if f is None:
                continue
            chains[m.column] = normalizers_for(f.normalizers)
            if "datetime" in f.normalizers or "date" in f.normalizers:
                date_columns.append(m.column)
        if rename:
            new = schema.canonical_labels(labels)
            if len(set(new)) == len(new):
                renamed = {old: nw for old, nw in zip(labels, new, strict=True) if old != nw}
                labels = tuple(new)
                order = _exact_order(labels, schema)
    if drop:
        order = tuple(i for i in (order or range(len(labels))) if not (isinstance(i, int) and i in drop))
    return FixPlan(chains=chains, labels=tuple(labels), renamed=renamed, date_columns=tuple(date_columns),
                   order=order)


def _exact_order(labels: tuple[str, ...], schema: Schema) -> tuple[int | str, ...] | None:
    """A header that must match exactly (a template, the revenue type) wants the schema's columns in its
    order: those found among ``labels`` (renamed already), then the others as they stand (no value is
    dropped). A missing column of a template gets an empty column (CG needs every column of the template,
    even empty), and so does a missing field of a record type whose values are optional (a required one is
    left missing: an empty column would not give it its values; validate reports it). None when nothing
    changes, and for other schemas."""
    if not (schema.template or schema.fields_match == "exact"):
        return None
    at = {label: i for i, label in enumerate(labels)}
    first: list[int | str] = []
    for f in schema.fields:
        if f.name in at:
            first.append(at[f.name])
        elif schema.template or not f.required:
            first.append(f.name)
    taken = {i for i in first if isinstance(i, int)}
    order = (*first, *(i for i in range(len(labels)) if i not in taken))
    return None if order == tuple(range(len(labels))) else order
