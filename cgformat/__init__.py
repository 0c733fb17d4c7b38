"""cgformat: prepare, validate, convert, split and upload record files for CustomerGauge's File API.

The library in five calls::

    import cgformat
    table = cgformat.read("export.xlsx")                       # all-text frame, positions, reader issues
    report = cgformat.validate("export.csv", "transactional")  # every bad cell, never an exception
    cgformat.convert("export.xlsx", "export.xml")              # exact to the character
    manifest = cgformat.split("big.csv", "parts/", schema=cgformat.load_schema("transactional"))
    cgformat.Uploader  # sends a split folder to CG's File API (see cgformat.upload)
"""

# ruff: noqa: E402 - the excepthook goes in before the heavy imports below
from __future__ import annotations

import sys as _sys
from typing import TYPE_CHECKING, Any

from ._interrupt import quiet_interrupts as _quiet_interrupts

# a Ctrl-C while the modules below load (polars takes a few tenths of a second) gives one line, not a
# traceback; the usual hook is back once they are loaded
_hook_before = _quiet_interrupts()
# The module cgformat.validate shares its name with the function below: load the module first, so that
# the function bound afterwards is what `cgformat.validate` stays (a later `from cgformat.validate import X`
# finds the module in sys.modules and leaves the attribute alone).
from . import validate as _validate_module  # noqa: F401
from .api import ConvertResult, schema_from_template, split, split_file
from .api import convert_file as convert
from .api import read_file as read
from .api import validate_file as validate
from .api import write_file as write
from .errors import CgformatError
from .formats import ReadOptions, WriteOptions
from .limits import PROFILES, LimitProfile, get_profile
from .manifest import Manifest, Part, load_manifest
from .model import Issue, IssueCode, RecordBatch, Severity, SourceInfo, Table
from .normalize import NormalizeOptions, fix_table
from .report import Report
from .schema import Field, Schema, list_schemas, load_schema

_sys.excepthook = _hook_before

if TYPE_CHECKING:
    from .upload import CgClient, Journal, Sandbox, Uploader

# the uploader (and httpx with it) loads on first use: reading and validating a file never needs it
_UPLOAD_EXPORTS = ("CgClient", "Journal", "Sandbox", "Uploader")


def __getattr__(name: str) -> Any:
    if name in _UPLOAD_EXPORTS:
        from . import upload

        value = getattr(upload, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "PROFILES",
    "CgClient",
    "CgformatError",
    "ConvertResult",
    "Field",
    "Issue",
    "IssueCode",
    "Journal",
    "LimitProfile",
    "Manifest",
    "NormalizeOptions",
    "Part",
    "ReadOptions",
    "RecordBatch",
    "Report",
    "Sandbox",
    "Schema",
    "Severity",
    "SourceInfo",
    "Table",
    "Uploader",
    "WriteOptions",
    "__version__",
    "convert",
    "fix_table",
    "get_profile",
    "list_schemas",
    "load_manifest",
    "load_schema",
    "read",
    "schema_from_template",
    "split",
    "split_file",
    "validate",
    "write",
]
