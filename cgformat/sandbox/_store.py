"""What the sandbox keeps of each upload, and its state on disk (``data_dir/sandbox-state.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from .checks import FileCheck


@dataclass(slots=True, kw_only=True)
class StoredUpload:
    """One upload the sandbox stored: what CG's statistics list of it, and its hash (400103)."""

    id: int
    type: str
    source_filename: str
    sha256: str
    bytes: int
    received_at: float
    check: FileCheck
    deleted: bool = False

    def row(self) -> dict[str, Any]:
        """The upload as a statistics row: CG sends every value as a string."""
        return {"id": str(self.id), "status": self.check.status, "source_filename": self.source_filename,
                "date_upload": datetime.fromtimestamp(self.received_at, UTC).strftime("%Y-%m-%d %H:%M:%S"),
                "total_records": str(self.check.total), "successful_records": str(self.check.successful),
                "unsuccessful_records": str(self.check.unsuccessful), "logs": list(self.check.logs)}

    def to_dict(self) -> dict[str, Any]:
        """The upload as kept in the state file."""
        return {"id": self.id, "type": self.type, "source_filename": self.source_filename, "sha256": self.sha256,
                "bytes": self.bytes, "received_at": self.received_at, "deleted": self.deleted,
                "check": {"total": self.check.total, "successful": self.check.successful,
                          "unsuccessful": self.check.unsuccessful, "logs": list(self.check.logs),
                          "status": self.check.status}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StoredUpload:
        """An upload read back from the state file."""
        c = d["check"]
        return cls(id=int(d["id"]), type=str(d["type"]), source_filename=str(d["source_filename"]),
                   sha256=str(d["sha256"]), bytes=int(d["bytes"]), received_at=float(d["received_at"]),
                   deleted=bool(d["deleted"]),
                   check=FileCheck(total=int(c["total"]), successful=int(c["successful"]),
                                   unsuccessful=int(c["unsuccessful"]), logs=tuple(c["logs"]),
                                   status=str(c["status"])))


def stored_name(upload_id: int, filename: str) -> str:
    """The name a received file is kept under: its id, and its own name cut to what any file system takes."""
    name = PurePath(filename).name.encode("utf-8")[:200].decode("utf-8", "ignore")
    return f"{upload_id}-{name}"


def load_state(path: Path) -> tuple[list[StoredUpload], float | None]:
    """The uploads and the last upload's arrival time kept at ``path`` (none when it does not exist)."""
    if not path.exists():
        return [], None
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [StoredUpload.from_dict(d) for d in doc.get("uploads", [])], doc.get("last_upload_at")


def save_state(path: Path, uploads: list[StoredUpload], last_upload_at: float | None) -> None:
    """Write the state to ``path`` whole: a temporary file beside it, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"uploads": [u.to_dict() for u in uploads], "last_upload_at": last_upload_at}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
