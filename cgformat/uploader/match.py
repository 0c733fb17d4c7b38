"""Which of CG's statistics rows is a part's upload: matched by evidence, never by guess.

CG's upload POST is not documented to return the new upload's id (spec §4), so a part is found in the
statistics afterwards. A name alone identifies nothing: two folders can each send an ``export.csv``, and the
statistics can lag. A row is this part's upload only when it carries

- the id the journal already holds (and then also the part's file name and record count: a journal edited to
  name another upload's id is refused, not obeyed); else
- the part's file name, the part's record count, and an upload time inside the part's send window (from the
  start of its first attempt that may have reached CG to the end of its last one), give or take a margin.

``date_upload`` is CG's local time without a zone (assumed, spec §4). Every time zone is a whole number of
quarter hours from UTC, so the row's time minus the send time must be such a number, give or take the margin:
an upload sent minutes before or after this part's (another folder's ``export.csv``) does not fit. Once a part
of the journal is found, CG's offset is known and holds for the others. A row another part of the same
journal holds is never taken. When more than one row fits, or a row that could fit cannot be read whole (a
date or count that does not parse), nothing is taken: :class:`AmbiguousMatch` lists the candidates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import UploadError
from .answer import int_or_none
from .client import CgClient
from .journal import Journal, PartEntry, from_iso

__all__ = ["AmbiguousMatch", "Candidate", "cg_offsets", "find_upload", "id_floor", "match_rows", "row_fields",
           "send_window"]

QUARTER_S = 900                 # every zone's offset from UTC is a whole number of quarter hours ...
OFFSETS_S = tuple(range(-12 * 3600, 14 * 3600 + 1, QUARTER_S))   # ... from UTC-12 to UTC+14
MARGIN_S = 120.0                # clocks that disagree by a little
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f")


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A statistics row that could be a part's upload."""

    upload_id: int | None
    source_filename: str
    date_upload: str
    total_records: str

    def describe(self) -> str:
        """One line for a message."""
        return (f"upload {self.upload_id if self.upload_id is not None else '?'} ({self.source_filename}, "
                f"{self.date_upload or 'no date'}, {self.total_records or '?'} records)")


class AmbiguousMatch(UploadError):
    """More than one statistics row could be the part's upload (or the one that could, cannot be read whole)."""

    def __init__(self, message: str, *, candidates: tuple[Candidate, ...]) -> None:
        super().__init__(message)
        self.candidates = candidates


def _parse_date(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    text = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def send_window(entry: PartEntry, *, now: float) -> tuple[datetime, datetime] | None:
    """The part's send window in UTC (naive): the start of its first attempt that may have reached CG and
    the end of its last one; None if it was never sent."""
    start = entry.first_sending_at or entry.sending_at
    if start is None:
        return None
    first = from_iso(start)
    end = entry.answered_at or entry.sent_at
    last = from_iso(end) if end else now
    if first is None or last is None:
        return None
    return (datetime.fromtimestamp(first, UTC).replace(tzinfo=None),
            datetime.fromtimestamp(max(first, last), UTC).replace(tzinfo=None))


def _fitting_offsets(when: datetime, window: tuple[datetime, datetime], offsets: Iterable[int]) -> set[int]:
    lo, hi = window
    margin = timedelta(seconds=MARGIN_S)
    return {k for k in offsets if lo - margin <= when - timedelta(seconds=k) <= hi + margin}


def cg_offsets(journal: Journal) -> tuple[int, ...]:
    """CG's possible offsets from UTC: every zone's, or those the parts found already agree on."""
    offsets = set(OFFSETS_S)
    for e in journal.parts:
        when = _parse_date(e.date_upload)
        window = send_window(e, now=journal.clock())
        if e.upload_id is None or when is None or window is None:
            continue
        agreed = offsets & _fitting_offsets(when, window, OFFSETS_S)
        if agreed:
            offsets = agreed
    return tuple(sorted(offsets))


def _candidate(row: dict[str, Any]) -> Candidate:
    return Candidate(upload_id=int_or_none(row.get("id")),
                     source_filename=_scalar_text(row.get("source_filename", ""))[:200],
                     date_upload=_scalar_text(row.get("date_upload", ""))[:40],
                     total_records=_scalar_text(row.get("total_records", ""))[:20])


def match_rows(entry: PartEntry, rows: Iterable[dict[str, Any]], *, claimed: set[int],
               window: tuple[datetime, datetime] | None,
               offsets: Iterable[int] = OFFSETS_S, floor: int | None = None) -> dict[str, Any] | None:
    """The one row that is the part's upload, or None; :class:`AmbiguousMatch` when the evidence is not enough."""
    fits: list[dict[str, Any]] = []
    unsure: list[dict[str, Any]] = []
    for row in rows:
        if not isinstance(row, dict) or row.get("source_filename") != entry.file:
            continue
        uid = int_or_none(row.get("id"))
        if uid is not None and (uid in claimed or (floor is not None and uid <= floor)):
            continue
        total = int_or_none(row.get("total_records"))
        if total is not None and total != entry.records:
            continue
        when = _parse_date(row.get("date_upload"))
        if window is not None and when is not None and not _fitting_offsets(when, window, offsets):
            continue
        if uid is None or total is None or when is None or window is None:
            unsure.append(row)
        else:
            fits.append(row)
    if len(fits) == 1 and not unsure:
        return fits[0]
    if not fits and not unsure:
        return None
    candidates = tuple(_candidate(r) for r in (*fits, *unsure))
    listed = "; ".join(c.describe() for c in candidates[:10]) + (" ..." if len(candidates) > 10 else "")
    why = ("more than one upload of CG fits it" if len(fits) > 1
           else "an upload that could be it cannot be read whole (id, date or count)")
    raise AmbiguousMatch(f"part {entry.index} ({entry.file}): {why}, so none is taken as it: {listed}. "
                         "Check them in CG, then 'cgformat status --id N --type T' / 'cgformat undo --id N'",
                         candidates=candidates)


def row_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A statistics row as the journal entry's fields."""
    logs = row.get("logs")

    def text(name: str) -> str | None:
        value = row.get(name)
        return str(value)[:200] if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "" \
            else None

    return {"upload_id": int_or_none(row.get("id")), "status": text("status"),
            "date_upload": text("date_upload"), "total_records": int_or_none(row.get("total_records")),
            "successful_records": int_or_none(row.get("successful_records")),
            "unsuccessful_records": int_or_none(row.get("unsuccessful_records")),
            "logs": tuple(_scalar_text(x)[:1000] for x in logs[:10_000]) if isinstance(logs, list) else ()}


def _scalar_text(value: Any) -> str:
    """A value as text, never walking into a nested (possibly deep) structure."""
    return str(value) if isinstance(value, (str, int, float, bool)) or value is None else f"({type(value).__name__})"


def _rows_around(client: CgClient, path: str, window: tuple[datetime, datetime], *, max_pages: int,
                 what: str) -> list[dict[str, Any]]:
    date_from = (window[0].date() - timedelta(days=1)).isoformat()
    date_to = (window[1].date() + timedelta(days=2)).isoformat()
    limit = 1000
    rows: list[dict[str, Any]] = []
    for page in range(max_pages):
        got = client.statistics(path, date_from=date_from, date_to=date_to, start=page * limit, limit=limit)
        rows.extend(got)
        if len(got) < limit:
            return rows
    raise AmbiguousMatch(f"{what}: CG lists over {max_pages * limit:,} uploads around its send time: too many "
                         "to be sure which is it", candidates=())


def id_floor(client: CgClient, journal: Journal, *, now: float, max_pages: int = 20) -> int | None:
    """The highest upload id CG lists around ``now`` (0 when none): a part sent after this call has a higher
    one. None when the statistics cannot be read (the part is then matched without a floor)."""
    path = journal.statistics_path
    if path is None:
        return None
    at = datetime.fromtimestamp(now, UTC).replace(tzinfo=None)
    try:
        rows = _rows_around(client, path, (at, at), max_pages=max_pages, what="the id floor")
    except UploadError:
        return None
    return max((i for i in (int_or_none(r.get("id")) for r in rows) if i is not None), default=0)


def find_upload(client: CgClient, journal: Journal, entry: PartEntry, *,
                max_pages: int = 20) -> dict[str, Any] | None:
    """CG's statistics of a part's upload as entry fields, found by evidence (see the module); None when CG
    lists none that fits; :class:`AmbiguousMatch` when more than one could be it."""
    path = journal.statistics_path
    if path is None:
        return None
    claimed = {e.upload_id for e in journal.parts
               if e.upload_id is not None and e.index != entry.index}
    if entry.upload_id is not None:
        rows = [r for r in client.statistics(path, upload_id=entry.upload_id)
                if int_or_none(r.get("id")) == entry.upload_id]
        if not rows:
            return None
        row = rows[0]
        total = int_or_none(row.get("total_records"))
        if row.get("source_filename") != entry.file or (total is not None and total != entry.records):
            raise AmbiguousMatch(f"part {entry.index} ({entry.file}): the journal names upload {entry.upload_id}, "
                                 f"but CG lists that as {_candidate(row).describe()}: not this part (the journal "
                                 "was edited?); nothing is taken as it", candidates=(_candidate(row),))
        return row_fields(row)
    window = send_window(entry, now=journal.clock())
    if window is None:
        return None
    rows = _rows_around(client, path, window, max_pages=max_pages, what=f"part {entry.index} ({entry.file})")
    match = match_rows(entry, rows, claimed={c for c in claimed if c is not None}, window=window,
                       offsets=cg_offsets(journal), floor=entry.id_floor)
    return None if match is None else row_fields(match)
