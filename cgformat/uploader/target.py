"""What an upload sends, and through which channel: a split folder's manifest or a one-part manifest for a
single file, the record type, the journal, the endpoint path, and the interval the File API allows.

A single file is read to count its records and check what CG would garble or refuse: the one place the
uploader uses the data layer, imported when a single file is uploaded (reading a split folder never does).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .._naming import option
from ..errors import CgformatError, UsageError
from ..limits import PROFILES, LimitProfile, get_profile
from ..manifest import MANIFEST_NAME, Manifest, Part, load_manifest
from .client import DEFAULT_UPLOAD_PATHS, UPLOAD_TYPES, is_cg_host
from .journal import journal_path_for

__all__ = ["UPLOAD_FORMATS", "Target", "Unsound", "check_interval", "file_api_profile", "resolve_target",
           "single_file_manifest", "upload_path_for"]

UPLOAD_FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xls": "xls", ".xml": "xml"}
"""The formats CG takes, by file name extension."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsound:
    """A single file that is not sent: errors CG would garble or refuse, counted by issue code."""

    path: Path
    errors: int
    codes: tuple[tuple[str, int], ...]

    def message(self) -> str:
        """One line that says what was found and what to do."""
        found = ", ".join(f"{code} x{count}" for code, count in self.codes)
        recode = {"non-utf8", "delimiter"} & {code for code, _ in self.codes}
        return (f"{self.path} is not sent: {self.errors} error(s) CG would garble or refuse ({found}); "
                f"'cgformat validate {self.path}' lists them"
                + (f"; 'cgformat fix {self.path} FIXED' writes a UTF-8, comma-separated copy" if recode else ""))


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """What one ``upload`` run sends: the manifest of its parts, its journal and the record type."""

    manifest: Manifest
    journal_path: Path
    record_type: str


def file_api_profile(record_type: str) -> LimitProfile:
    """The limits of CG's File API for a record type: ``revenue`` for revenue, ``api`` for the others."""
    return PROFILES["revenue" if record_type == "revenue" else "api"]


def single_file_manifest(path: Path, *, record_type: str, profile: LimitProfile) -> Manifest | Unsound:
    """A one-part manifest for a file sent as it is, or :class:`Unsound` for one CG would garble or refuse.

    The file is checked against the profile's limits (a :class:`UsageError` that says to split it) and for
    what CG would garble or refuse whatever the customer's column mapping: an encoding other than UTF-8, a
    delimiter other than a comma, broken (ragged) records, control characters (a split folder was checked
    when it was split).
    """
    fmt = UPLOAD_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"{path}: CG takes .csv, .xls, .xlsx or .xml files; convert it first ('cgformat convert')")
    data = path.read_bytes()
    split_hint = f"split it first: cgformat split {path} --out DIR --type {record_type}, then upload DIR"
    if len(data) > profile.max_bytes:
        raise UsageError(f"{path} is {len(data):,} bytes, over the {profile.name} profile's "
                         f"{profile.max_bytes:,}-byte limit: {split_hint}")
    from .. import files  # counting the records and checking them needs the data layer
    from ..validation import validate

    table = files.read_file(path)
    records = table.frame.height
    if records > profile.max_records:
        raise UsageError(f"{path} holds {records:,} records, over the {profile.name} profile's "
                         f"{profile.max_records:,}-record limit: {split_hint}")
    # no record type's columns here (a customer's mapping may name them otherwise): the file's own soundness
    report = validate(table, None, profile=profile, max_issues=10 * profile.max_records)   # every one listed
    if report.errors:
        erroneous = {row["code"] for row in report.tally.iter_rows(named=True) if row["severity"] == "error"}
        codes = tuple((row["code"], int(row["count"])) for row in report.by_code.iter_rows(named=True)
                      if row["code"] in erroneous)
        return Unsound(path=path, errors=report.errors, codes=codes)
    digest = hashlib.sha256(data).hexdigest()
    part = Part(file=path.name, records=records, bytes=len(data), sha256=digest, first_record=1,
                last_record=records)
    return Manifest(source=str(path), source_sha256=digest, type=record_type, format=fmt, profile=profile,
                    records=records, rejected=0, parts=(part,))


def resolve_target(target: Path, *, record_type: str | None, profile_name: str | None) -> Target | Unsound:
    """The parts to send from a split folder, its manifest.json, or a single file (checked first)."""
    if target.is_dir() or target.name == MANIFEST_NAME:
        folder = target if target.is_dir() else target.parent
        manifest = load_manifest(folder)
        if profile_name is not None:
            raise UsageError(f"{option('profile', profile_name)} applies to a single file; a split folder's "
                             "limits are in its manifest")
        typ = manifest.type
        if record_type and typ and record_type != typ:
            raise UsageError(f"{option('record_type', record_type)} does not match the manifest's record type "
                             f"{typ!r}")
        typ = record_type or typ
        if typ is None:
            raise UsageError("the manifest names no record type: say " + option("record_type", UPLOAD_TYPES))
        return Target(manifest=manifest, journal_path=journal_path_for(folder), record_type=typ)
    if record_type is None:
        raise UsageError("say which record type the file holds: " + option("record_type", UPLOAD_TYPES))
    profile = get_profile(profile_name) if profile_name else file_api_profile(record_type)
    found = single_file_manifest(target, record_type=record_type, profile=profile)
    if isinstance(found, Unsound):
        return found
    return Target(manifest=found, journal_path=journal_path_for(target), record_type=record_type)


def upload_path_for(record_type: str) -> str:
    """The record type's upload path from its schema, else the client's table of defaults."""
    try:
        from ..schema import load_schema  # a schema may name another path (CG's anonymous-survey one ...)
        path = load_schema(record_type).upload_path
    except (ImportError, CgformatError):
        path = None
    return path or DEFAULT_UPLOAD_PATHS[record_type]


def check_interval(manifest: Manifest, *, record_type: str, url: str, interval_s: float, given: bool,
                   allow_short: bool) -> None:
    """Refuse an interval shorter than the File API's against CG's own hosts, unless ``allow_short``.

    ``given``: the interval was given (``interval``) (else from the manifest's profile). Parts made for
    another channel (the in-app upload has no interval and larger limits) are told how to reach the File API.
    """
    channel = file_api_profile(record_type)
    if interval_s >= channel.interval_s or not is_cg_host(url) or allow_short:
        return
    allow = f"if your contract with CG allows a shorter one, say so with {option('allow_short_interval')}"
    if given or manifest.profile.name == channel.name:   # the File API's own parts, a shorter interval asked for
        raise UsageError(f"an interval of {interval_s:g} s is shorter than CG's one upload every "
                         f"{channel.interval_s} s: CG may refuse or queue the parts. Give "
                         f"{option('interval', channel.interval_s)}, or, {allow}")
    made_for = (f"these parts were split for the {manifest.profile.name} profile ({manifest.profile.max_records:,} "
                f"records, {manifest.profile.max_bytes:,} bytes a file, {manifest.profile.interval_s:g} s apart), "
                f"not for CG's File API ({channel.max_records:,} records, {channel.max_bytes:,} bytes, one upload "
                f"every {channel.interval_s} s)")
    fits = all(p.records <= channel.max_records and p.bytes <= channel.max_bytes for p in manifest.parts)
    if fits:
        raise UsageError(f"{made_for}. Every part fits the File API's limits: give "
                         f"{option('interval', channel.interval_s)} to send them through it, or, {allow}")
    again = f"cgformat split {manifest.source} --out NEWDIR --type {record_type} --profile {channel.name}"
    raise UsageError(f"{made_for}. Some parts are over the File API's limits: split again for it ({again}) and "
                     f"upload NEWDIR; or send these parts through the {manifest.profile.name} channel itself")
