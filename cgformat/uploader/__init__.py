"""The uploader: CG File API client, resumable journal, the run that sends parts, and the jobs in one call
each (:func:`upload`, :func:`status`, :func:`undo`, in :mod:`.jobs`).

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
from .jobs import UndoEvent, UndoSummary, Unsettled, UploadStatus, status, undo, upload, upload_plan
from .journal import JOURNAL_NAME, Journal, PartEntry, PartState, journal_path_for
from .plan import UploadPlan
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
    "UndoEvent",
    "UndoSummary",
    "Unsettled",
    "UploadEvent",
    "UploadPlan",
    "UploadStatus",
    "UploadSummary",
    "Uploader",
    "check_part",
    "find_upload",
    "journal_path_for",
    "resolve_auth_url",
    "resolve_base_url",
    "schedule",
    "status",
    "undo",
    "upload",
    "upload_plan",
]
