"""The uploader: CG File API client, resumable journal, the run that sends parts.

A part is found in CG's statistics by evidence, never by its name alone (:mod:`.match`).

Nothing here imports polars, the format layer or the sandbox (:mod:`cgformat.sandbox`): the uploader only
sends files and reads manifests.
"""

from __future__ import annotations

from .client import (
    DEFAULT_UPLOAD_PATHS,
    REGIONS,
    STATISTICS_PATHS,
    UPLOAD_TYPES,
    Answer,
    CgClient,
    Credentials,
    RetryableError,
    resolve_auth_url,
    resolve_base_url,
)
from .journal import JOURNAL_NAME, Journal, PartEntry, PartState, journal_path_for
from .runner import RetryPolicy, Uploader, UploadEvent, UploadSummary, check_part, find_upload, schedule

__all__ = [
    "DEFAULT_UPLOAD_PATHS",
    "JOURNAL_NAME",
    "REGIONS",
    "STATISTICS_PATHS",
    "UPLOAD_TYPES",
    "Answer",
    "CgClient",
    "Credentials",
    "Journal",
    "PartEntry",
    "PartState",
    "RetryPolicy",
    "RetryableError",
    "UploadEvent",
    "UploadSummary",
    "Uploader",
    "check_part",
    "find_upload",
    "journal_path_for",
    "resolve_auth_url",
    "resolve_base_url",
    "schedule",
]
