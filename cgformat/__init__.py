"""cgformat: prepare, validate, convert, split and upload record files for CustomerGauge's File API."""

from __future__ import annotations

from .errors import CgformatError
from .limits import PROFILES, LimitProfile, get_profile
from .manifest import Manifest, Part, load_manifest
from .model import Issue, IssueCode, RecordBatch, Severity, SourceInfo, Table

__version__ = "0.1.0"

__all__ = [
    "PROFILES",
    "CgformatError",
    "Issue",
    "IssueCode",
    "LimitProfile",
    "Manifest",
    "Part",
    "RecordBatch",
    "Severity",
    "SourceInfo",
    "Table",
    "__version__",
    "get_profile",
    "load_manifest",
]
