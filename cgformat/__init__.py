"""cgformat: prepare, validate, convert, split and upload record files for CustomerGauge's File API.

The library is what this package exports (``cgformat.__all__``): the commands' jobs on paths, standard input
or output (``"-"``), bytes or binary streams, and (``validate``, ``fix``, ``convert``, ``split``) on records
in memory: a :class:`Table` or a polars DataFrame. A DataFrame's column names are its labels, its values
are taken as text (other column types in CG's forms, as ``write`` writes them, or refused naming the column),
its records are numbered from 1 and it has no lines: its issues have ``line`` None. ``schema=`` is a record
type's name or a :class:`Schema` wherever it is taken. The examples run in a folder holding a copy of the
project's ``examples/`` (outputs are written there too), and a test runs them::

    >>> import cgformat
    >>> table = cgformat.read("examples/transactional-messy.csv")   # every value as text: no type guessing
    >>> table.info.format, table.info.delimiter, table.frame.height      # told from the content
    ('csv', ';', 3)
    >>> table.frame["CustomerNumber"].to_list()                     # leading zeros kept
    ['000301', '000302', '000303']
    >>> report = cgformat.validate("examples/transactional-messy.csv", "transactional")
    >>> report.valid
    False
    >>> [(i.code, i.record, i.line) for i in report.issue_list() if i.field == "E-mail"]
    [('alias-label', None, 1), ('invalid-email', 1, 2)]
    >>> fixed = cgformat.fix(table, schema="transactional")        # no dst: in memory, a Normalized
    >>> fixed.frame["Email"].to_list()[0]                # trimmed, domain in lower case, label renamed
    'Anna.deVries@example.nl'
    >>> cgformat.fix("examples/transactional-messy.csv", "fixed.csv", schema="transactional").records
    3
    >>> result = cgformat.convert("examples/transactional.csv", "transactional.xml")
    >>> result.ok, result.records
    (True, 12)
    >>> seen = []
    >>> manifest = cgformat.split("examples/transactional.csv", "parts", schema="transactional",
    ...                           max_records=5, progress=seen.append)
    >>> [part.records for part in manifest.parts], seen[-1]
    ([5, 5, 2], 12)

Records in memory, and progress: ``progress=`` takes a :data:`Progress`, a function told the records done so
far after each batch (``ReadOptions.batch_size`` records, 100,000 unless set), the last call the total::

    >>> import polars as pl
    >>> frame = pl.DataFrame({"CustomerNumber": [301, 302], "Email": ["a@example.nl", "not-an-address"],
    ...                       "OrderDate": ["2025-03-01 10:00:00", "2025-03-01 11:00:00"]})
    >>> report = cgformat.validate(frame, "transactional")
    >>> report.source, [(i.code, i.record, i.line) for i in report.issue_list()]
    ('<frame>', [('invalid-email', 2, None)])
    >>> counts = []
    >>> _ = cgformat.validate(frame, "transactional", options=cgformat.ReadOptions(batch_size=1),
    ...                       progress=counts.append)
    >>> counts
    [1, 2]
    >>> cgformat.split(frame, "frame-parts", schema="transactional").rejected   # csv parts by default
    1

``upload`` sends a split folder's parts (or one file) to CG's File API, in order and on the interval, and
keeps a journal beside them (call again to resume: a part is never sent twice); ``status`` reads what CG made
of each part, ``undo`` deletes them from CG; ``upload_plan`` is the dry run. Credentials come from the
environment (``CG_API_KEY``, or ``CG_CLIENT_ID`` + ``CG_CLIENT_SECRET``) unless a :class:`Credentials` is given;
``on_event`` receives an :class:`UploadEvent` per step (each part's sending and sent, with its attempt number),
and ``stop`` (a :class:`threading.Event` or a callable) ends a run within a second, also during the interval
wait. Here against ``cgformat.Sandbox``, a local stand-in of CG's API (a short interval is allowed off CG's
hosts)::

    >>> box = cgformat.Sandbox(interval_s=0).start()
    >>> key = cgformat.Credentials(api_key="sandbox-key")
    >>> summary = cgformat.upload("parts", base_url=box.url, interval=0.1, credentials=key)
    >>> summary.complete, summary.delivered, summary.records_delivered
    (True, 3, 12)
    >>> status = cgformat.status("parts", base_url=box.url, credentials=key)
    >>> [(str(part.state), part.successful_records) for part in status.parts]
    [('confirmed', 5), ('confirmed', 5), ('confirmed', 2)]
    >>> len(cgformat.undo("parts", base_url=box.url, credentials=key).deleted)
    3
    >>> box.stop()

(:mod:`cgformat.uploader` has the parts these are made of: ``Uploader``, ``Journal``, ``CgClient``.)

What is raised. Data problems never are: they are :class:`Issue` values in ``Table.issues`` (what the reader
noticed), in the :class:`Report` (every bad cell, counted by code) and in ``ConvertResult.issues`` (a
conversion of an input with broken records writes nothing and has ``ok`` false). Program problems raise a
:class:`CgformatError` subclass (the tree is in :mod:`cgformat.errors`; each is also a builtin exception):

- ``read``, ``validate``, ``fix``, ``convert``, ``split``, ``split_file``, ``schema_from_template`` raise
  :class:`~cgformat.errors.ReadError` for an input that cannot be read at all: missing, a folder,
  undecodable (``EncodingError``), a sheet that does not exist or several sheets and none chosen
  (``SheetError``), past a protective limit of :class:`ReadOptions` (``LimitExceeded``); and
  :class:`~cgformat.errors.UsageError` for options that do not fit: a format that cannot be told from the
  name or is not supported (``UnsupportedFormat``), a sheet for a file that has none, an unknown limit
  profile, a split folder that already holds a split (unless ``force``) or an upload; for records in
  memory, ``fmt=`` or a read option about files (``sheet=``, ``encoding=`` ...), or a column that cannot
  be written as text exactly. ``fix`` in memory (no ``dst``) raises ``ReadError`` for a source with records
  the reader could not read exactly (to a file, they are in ``Fixed.broken`` and nothing is written).
- ``validate`` and ``load_schema`` raise :class:`~cgformat.errors.SchemaError` (a ``UsageError``) for an
  unknown record type or a schema file that is missing or makes no sense; ``schema_from_template`` for a
  template whose header has blank or repeated labels.
- ``write``, ``fix``, ``convert``, ``split`` and ``split_file`` raise an :class:`OSError` when the output cannot be
  written: :class:`~cgformat.errors.WriteError` (a folder that does not exist, a value the format cannot
  hold), or the operating system's own (a full disk). A file output is renamed into place only when
  complete, so a failure leaves none behind. ``write`` takes frames of any column types and writes each
  value in CG's form (integers as digits, floats without exponent or ``.0``, dates ``YYYY-MM-DD``,
  datetimes ``YYYY-MM-DD HH:MM:SS``, booleans ``true``/``false`` or ``WriteOptions.booleans``), or raises
  :class:`~cgformat.errors.UsageError` naming the column (NaN, a fraction of a second, a time zone, a
  struct or list column ...).
- Messages name the library's parameters (``sheet=``, ``max_records=``), listed in the error's
  ``options``; the command line shows its flags in their place.
- ``load_manifest`` raises :class:`~cgformat.errors.ManifestError`.
- ``upload``, ``upload_plan``, ``status`` and ``undo`` raise :class:`~cgformat.errors.JournalBusy` (a
  ``UsageError``) when another run, in a thread or a process, holds the same journal: nothing is sent or
  deleted; :class:`~cgformat.errors.NotSent` (an ``UploadError``) when there is nothing to send, or a single
  file CG would garble (``codes``); a ``UsageError`` for options or credentials that do not fit (an interval
  shorter than CG's 600 s against CG's hosts without ``allow_short_interval``, a server other than the
  journal's, no credentials), :class:`~cgformat.errors.NotUploaded` (``status``, ``undo``: no journal) and
  :class:`~cgformat.errors.JournalDamaged` (a ``ReadError``); :class:`~cgformat.errors.ApiError` when CG
  refuses, :class:`~cgformat.errors.TransportError` when network faults outlive the retries (the journal is
  saved: call again), :class:`~cgformat.errors.ManifestError` when a part changed since the split. A stop
  is no error: the summary says ``stopped``.

::

    >>> cgformat.validate("examples/missing.csv", "transactional")
    Traceback (most recent call last):
    ...
    cgformat.errors.ReadError: examples/missing.csv: no such file
    >>> cgformat.read("examples/transactional.csv", options=cgformat.ReadOptions(sheet="Sheet1"))
    Traceback (most recent call last):
    ...
    cgformat.errors.UsageError: sheet= is for workbooks (xlsx, xls): ... is csv, which has no sheets
"""

# ruff: noqa: E402 - the excepthook goes in before the heavy imports below
from __future__ import annotations

import sys as _sys
from typing import TYPE_CHECKING, Any

from ._interrupt import quiet_interrupts as _quiet_interrupts

# a Ctrl-C while the modules below load (polars takes a few tenths of a second) gives one line, not a
# traceback; the usual hook is back once they are loaded
_hook_before = _quiet_interrupts()
from .errors import CgformatError
from .files import read_file as read
from .files import write_file as write
from .formats import ReadOptions, WriteOptions
from .jobs.convert import ConvertResult
from .jobs.convert import convert_file as convert
from .jobs.fix import Fixed, fix
from .jobs.split import SplitResult, split, split_file
from .jobs.template import schema_from_template
from .jobs.validate import Separated
from .jobs.validate import validate_file as validate
from .limits import PROFILES, LimitProfile, get_profile
from .manifest import Manifest, Part, load_manifest
from .model import Issue, IssueCode, Progress, RecordBatch, Severity, SourceInfo, Table
from .normalize import Normalized, NormalizeOptions, fix_table
from .report import Report
from .schema import Field, Resolution, Schema, list_schemas, load_schema
from .settings import Setting, Settings, load_settings

_sys.excepthook = _hook_before

if TYPE_CHECKING:
    from .sandbox import Sandbox
    from .uploader import Answer, CgClient, Credentials, Journal, PartEntry, PartState, RetryPolicy, Uploader
    from .uploader.jobs import (
        UndoEvent,
        UndoSummary,
        Unsettled,
        UploadStatus,
        status,
        undo,
        upload,
        upload_plan,
    )
    from .uploader.plan import UploadPlan
    from .uploader.runner import UploadEvent, UploadSummary

# the uploader (and httpx with it) and the sandbox load on first use: reading and validating a file never needs them
_LAZY = {
    **dict.fromkeys(("Answer", "CgClient", "Credentials", "Journal", "PartEntry", "PartState", "RetryPolicy",
                     "Uploader", "UploadEvent", "UploadSummary"), ".uploader"),
    **dict.fromkeys(("UndoEvent", "UndoSummary", "Unsettled", "UploadStatus", "status", "undo", "upload",
                     "upload_plan"), ".uploader.jobs"),
    "UploadPlan": ".uploader.plan",
    "Sandbox": ".sandbox",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "PROFILES",
    "Answer",
    "CgClient",
    "CgformatError",
    "ConvertResult",
    "Credentials",
    "Field",
    "Fixed",
    "Issue",
    "IssueCode",
    "Journal",
    "LimitProfile",
    "Manifest",
    "NormalizeOptions",
    "Normalized",
    "Part",
    "PartEntry",
    "PartState",
    "Progress",
    "ReadOptions",
    "RecordBatch",
    "Report",
    "Resolution",
    "RetryPolicy",
    "Sandbox",
    "Schema",
    "Separated",
    "Setting",
    "Settings",
    "Severity",
    "SourceInfo",
    "SplitResult",
    "Table",
    "UndoEvent",
    "UndoSummary",
    "Unsettled",
    "UploadEvent",
    "UploadPlan",
    "UploadStatus",
    "UploadSummary",
    "Uploader",
    "WriteOptions",
    "__version__",
    "convert",
    "fix",
    "fix_table",
    "get_profile",
    "list_schemas",
    "load_manifest",
    "load_schema",
    "load_settings",
    "read",
    "schema_from_template",
    "split",
    "split_file",
    "status",
    "undo",
    "upload",
    "upload_plan",
    "validate",
    "write",
]
