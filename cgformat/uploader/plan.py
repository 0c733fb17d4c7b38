"""The dry run of an upload: every part checked against the manifest and scheduled, nothing sent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ManifestError
from ..manifest import Manifest
from .journal import Journal, to_iso
from .runner import check_part, schedule

__all__ = ["PlannedPart", "UploadPlan", "plan_upload"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedPart:
    """One part in the plan: its journal state, its check (``ok`` or what is wrong) and when it would go."""

    index: int
    file: str
    records: int
    bytes: int
    state: str
    check: str
    send_at: float | None

    def to_dict(self) -> dict[str, Any]:
        """The part as it appears in the JSON plan."""
        return {"index": self.index, "file": self.file, "records": self.records, "bytes": self.bytes,
                "state": self.state, "check": self.check, "send_at": to_iso(self.send_at)}


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadPlan:
    """What an upload run would do: the parts in order, checked, and the time each would be sent."""

    url: str
    record_type: str
    interval_s: float
    journal_path: Path
    parts: tuple[PlannedPart, ...]

    @property
    def sends(self) -> list[float]:
        """The send times of the parts still to send, in order."""
        return [p.send_at for p in self.parts if p.send_at is not None]

    @property
    def problems(self) -> int:
        """How many parts do not match the manifest (size or SHA-256, or missing)."""
        return sum(1 for p in self.parts if p.check != "ok")

    def to_dict(self) -> dict[str, Any]:
        """The JSON plan (``cgformat_upload_plan`` 1)."""
        sends = self.sends
        return {"cgformat_upload_plan": 1, "url": self.url, "type": self.record_type, "interval_s": self.interval_s,
                "journal": str(self.journal_path), "parts": [p.to_dict() for p in self.parts],
                "to_send": len(sends), "problems": self.problems,
                "first_send_at": to_iso(sends[0]) if sends else None,
                "last_send_at": to_iso(sends[-1]) if sends else None}

    def check(self) -> None:
        """Raise :class:`ManifestError` when a part does not match the manifest."""
        if self.problems:
            raise ManifestError(f"{self.problems} part(s) do not match the manifest: see the plan above")


def plan_upload(manifest: Manifest, journal_path: Path, *, record_type: str, base_url: str, upload_path: str,
                interval_s: float, clock: Callable[[], float]) -> UploadPlan:
    """Plan an upload as the real run would send it, writing nothing.

    An existing journal is checked as the real run checks it (another server, path or type is refused, not
    planned) and its delivered parts stay delivered; without one, every part is pending.
    """
    url = base_url + upload_path
    if journal_path.exists():
        journal = Journal.load(journal_path, clock=clock)
        journal.check_fits(manifest, type=record_type, base_url=base_url, upload_path=upload_path)
    else:
        journal = Journal.create(journal_path, manifest=manifest, type=record_type, base_url=url, auth_url=None,
                                 upload_path="", statistics_path=None, clock=clock)
    parts = []
    for entry, due in schedule(journal, interval_s=interval_s, now=clock()):
        try:
            check_part(journal.folder, entry)
            check = "ok"
        except ManifestError as exc:
            check = str(exc)
        parts.append(PlannedPart(index=entry.index, file=entry.file, records=entry.records, bytes=entry.bytes,
                                 state=str(entry.state), check=check, send_at=due))
    return UploadPlan(url=url, record_type=record_type, interval_s=interval_s, journal_path=journal_path,
                      parts=tuple(parts))
