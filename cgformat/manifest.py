"""The split manifest (``DIR/manifest.json``): what ``cgformat split`` wrote and ``cgformat upload`` sends.

Plain JSON values, no polars: the uploader reads manifests without the data layer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ManifestError
from .limits import LimitProfile

__all__ = ["MANIFEST_NAME", "MANIFEST_VERSION", "Manifest", "Part", "load_manifest"]

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """One file of a split: its name inside the manifest's folder, size, hash and source records."""

    file: str
    records: int
    bytes: int
    sha256: str
    first_record: int
    last_record: int

    def to_dict(self) -> dict[str, Any]:
        """The part as it appears in the manifest."""
        return {"file": self.file, "records": self.records, "bytes": self.bytes, "sha256": self.sha256,
                "first_record": self.first_record, "last_record": self.last_record}


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """What a split produced, in upload order."""

    source: str
    source_sha256: str
    type: str | None
    format: str
    profile: LimitProfile
    records: int
    rejected: int
    parts: tuple[Part, ...] = field(default=())
    rejects_file: str | None = None
    # columns the parts write under another label than the source's: (column, label, written, why)
    renamed: tuple[tuple[int, str, str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The manifest document (``cgformat_manifest`` is its version)."""
        doc: dict[str, Any] = {
            "cgformat_manifest": MANIFEST_VERSION, "source": self.source, "source_sha256": self.source_sha256,
            "type": self.type, "format": self.format, "profile": self.profile.to_dict(),
            "records": self.records, "rejected": self.rejected, "parts": [p.to_dict() for p in self.parts],
        }
        if self.rejects_file is not None:
            doc["rejects_file"] = self.rejects_file
        if self.renamed:
            doc["renamed"] = [{"column": c, "label": label, "written": w, "why": why}
                              for c, label, w, why in self.renamed]
        return doc

    def to_json(self) -> str:
        """The manifest as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _need(doc: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = doc.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ManifestError(f"{where}: field {key!r} is missing or not of the right type")
    return value


def load_manifest(path: str | Path) -> Manifest:
    """Read and check a manifest file; :class:`ManifestError` says what is wrong with it."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"no manifest at {path}: run 'cgformat split' first, or pass a single file") from None
    except (OSError, ValueError) as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc}") from None
    where = str(path)
    if not isinstance(doc, dict) or doc.get("cgformat_manifest") != MANIFEST_VERSION:
        raise ManifestError(f"{where} is not a cgformat manifest (version {MANIFEST_VERSION})")
    prof = _need(doc, "profile", dict, where)
    profile = LimitProfile(name=_need(prof, "name", str, where + " profile"),
                           max_records=_need(prof, "max_records", int, where + " profile"),
                           max_bytes=_need(prof, "max_bytes", int, where + " profile"),
                           interval_s=_need(prof, "interval_s", int, where + " profile"))
    parts = []
    for i, p in enumerate(_need(doc, "parts", list, where), start=1):
        w = f"{where} part {i}"
        if not isinstance(p, dict):
            raise ManifestError(f"{w} is not an object")
        name = _need(p, "file", str, w)
        if Path(name).name != name or name in ("", ".", ".."):
            raise ManifestError(f"{w}: file name {name!r} must be a plain name inside the folder")
        parts.append(Part(file=name, records=_need(p, "records", int, w), bytes=_need(p, "bytes", int, w),
                          sha256=_need(p, "sha256", str, w), first_record=_need(p, "first_record", int, w),
                          last_record=_need(p, "last_record", int, w)))
    typ = doc.get("type")
    if typ is not None and not isinstance(typ, str):
        raise ManifestError(f"{where}: field 'type' must be a string or null")
    return Manifest(source=_need(doc, "source", str, where), source_sha256=_need(doc, "source_sha256", str, where),
                    type=typ, format=_need(doc, "format", str, where), profile=profile,
                    records=_need(doc, "records", int, where), rejected=_need(doc, "rejected", int, where),
                    parts=tuple(parts), rejects_file=doc.get("rejects_file"), renamed=_renamed(doc, where))


def _renamed(doc: dict[str, Any], where: str) -> tuple[tuple[int, str, str, str], ...]:
    out = []
    for r in doc.get("renamed") or []:
        if not isinstance(r, dict):
            raise ManifestError(f"{where}: an entry of 'renamed' is not an object")
        out.append((_need(r, "column", int, where), _need(r, "label", str, where), _need(r, "written", str, where),
                    _need(r, "why", str, where)))
    return tuple(out)
