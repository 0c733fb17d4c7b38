"""Private: the CSV reader's batches, records collected from parsed pieces and handed out ``size`` at a time,
with (when known) the bytes the CSV writer would write for them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import polars as pl

from ..model import Issue, RecordBatch

__all__ = ["Batcher", "RawBatch"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RawBatch(RecordBatch):
    """A batch with its records' bytes as cgformat's CSV writer writes them (see ``csv.raw_segments``)."""

    raw: tuple[bytes | memoryview, ...]     # consecutive segments, views of the bytes read
    raw_sizes: pl.Series                    # Int64: each record's bytes in them


@dataclass(slots=True)
class Batcher:
    """Collects parsed records and hands them out in batches of exactly ``size`` (the last one less)."""

    size: int
    columns: tuple[str, ...]
    next_record: int = 1
    frames: list[pl.DataFrame] = field(default_factory=list)
    lines: list[pl.Series] = field(default_factory=list)
    issues: list[tuple[int, Issue]] = field(default_factory=list)   # (record it belongs before/to, issue)
    count: int = 0
    raws: list[bytes | memoryview | None] = field(default_factory=list)  # each frame's writer bytes, if known
    sizes: list[pl.Series | None] = field(default_factory=list)     # and each record's share of them

    def add(self, frame: pl.DataFrame, lines: pl.Series, issues: list[tuple[int, Issue]],
            raw: bytes | memoryview | None = None, sizes: pl.Series | None = None) -> None:
        if frame.height:
            self.frames.append(frame)
            self.lines.append(lines)
            self.raws.append(raw if sizes is not None else None)
            self.sizes.append(sizes if raw is not None else None)
            self.count += frame.height
        self.issues.extend(issues)

    def _take_raw(self, n: int) -> tuple[tuple[bytes | memoryview, ...] | None, pl.Series | None]:
        """The writer bytes of the first ``n`` pending records, as consecutive segments (None unless known
        for all of them); the rest stays pending."""
        if not self.frames or any(r is None for r in self.raws):
            self.raws = [None] if self.count > n else []
            self.sizes = [None] if self.count > n else []
            return None, None
        sizes_all = pl.concat([s for s in self.sizes if s is not None]) if len(self.sizes) > 1 \
            else self.sizes[0]
        assert sizes_all is not None
        cut = int(sizes_all.slice(0, n).sum())
        # the batch's bytes are the pending pieces up to ``cut``, as views (nothing copied); the rest stays
        # pending as a view
        taken: list[bytes | memoryview] = []
        rest: list[bytes | memoryview | None] = []
        got = 0
        for r in self.raws:
            assert r is not None
            if got >= cut:
                rest.append(r)
            elif got + len(r) <= cut:
                taken.append(r)
                got += len(r)
            else:
                view = memoryview(r)
                taken.append(view[: cut - got])
                rest.append(view[cut - got:])
                got = cut
        if self.count > n:
            self.raws, self.sizes = rest, [sizes_all.slice(n)]
        else:
            self.raws, self.sizes = [], []
        return tuple(taken), sizes_all.slice(0, n)

    def take(self, *, final: bool) -> Iterator[RecordBatch]:
        # without ``final`` one record is held back, so trailing issues (blank rows) join the last batch
        while self.count > self.size or (final and (self.count or self.issues)):
            n = min(self.size, self.count)
            if self.frames:
                frame = self.frames[0] if len(self.frames) == 1 else pl.concat(self.frames, how="vertical")
                lines = self.lines[0] if len(self.lines) == 1 else pl.concat(self.lines)
            else:
                frame = pl.DataFrame(schema=dict.fromkeys(self.columns, pl.String))
                lines = pl.Series("line", [], dtype=pl.Int64)
            last = self.next_record + n - 1
            if final and n == self.count:
                mine = [issue for _, issue in self.issues]
                self.issues = []
            else:
                mine = [issue for key, issue in self.issues if key <= last]
                self.issues = [(key, issue) for key, issue in self.issues if key > last]
            raw, raw_sizes = self._take_raw(n)
            rest = self.count - n
            self.frames = [frame.slice(n)] if rest else []
            self.lines = [lines.slice(n)] if rest else []
            self.count = rest
            batch = RecordBatch(frame=frame.slice(0, n), lines=lines.slice(0, n).alias("line"),
                                first_record=self.next_record, issues=tuple(mine))
            if raw is not None and raw_sizes is not None:
                batch = RawBatch(frame=batch.frame, lines=batch.lines, first_record=batch.first_record,
                                 issues=batch.issues, raw=raw, raw_sizes=raw_sizes)
            self.next_record = last + 1
            yield batch
