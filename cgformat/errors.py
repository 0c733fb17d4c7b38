"""The exception tree of cgformat.

Data problems are never raised: they are :class:`cgformat.model.Issue` values in a report.
Program problems (a file that cannot be read, a format that is not supported, a bad schema,
an upload that fails) raise a subclass of :class:`CgformatError`, each also a builtin, so
callers can catch either::

    CgformatError
    ├── UsageError (ValueError)              bad options or arguments        -> exit 2
    │   ├── UnsupportedFormat (ValueError)   a format cgformat cannot read or write
    │   ├── SchemaError (ValueError)         a schema or template that makes no sense
    │   ├── SheetError (also a ReadError)    a missing sheet, or several and no choice
    │   ├── JournalBusy                      another upload or undo holds the same parts' journal now
    │   └── NotUploaded                      no upload journal: nothing was uploaded from there
    ├── ReadError (ValueError)               input that cannot be read at all -> exit 3
    │   ├── EncodingError                    bytes that decode in no supported encoding
    │   ├── LimitExceeded                    input past a protective limit (size, depth ...)
    │   └── JournalDamaged                   an upload journal that is not what cgformat writes
    ├── WriteError (OSError)                 output that cannot be written   -> exit 3
    └── UploadError (RuntimeError)           the File API refused or failed  -> exit 4
        ├── ApiError                         CG answered with an error envelope (code, message)
        ├── TransportError                   network faults that outlived the retries
        ├── ManifestError                    a manifest or part that does not match its files
        └── NotSent                          nothing to send, or a file CG would garble (exit 1)
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "CgformatError",
    "EncodingError",
    "JournalBusy",
    "JournalDamaged",
    "LimitExceeded",
    "ManifestError",
    "NotSent",
    "NotUploaded",
    "ReadError",
    "SchemaError",
    "SheetError",
    "TransportError",
    "UnsupportedFormat",
    "UploadError",
    "UsageError",
    "WriteError",
]


class CgformatError(Exception):
    """Root of every exception cgformat raises on purpose.

    Messages speak the library's language: a parameter is written ``name=`` (``force=True``,
    ``max_records=5000``, ``fmt=csv|xlsx|xml``), and ``options`` lists the names so written; the command line
    shows its flag in their place (``--force``, ``--max-records 5000``).
    """

    def __init__(self, *args: object, options: tuple[str, ...] = ()) -> None:
        super().__init__(*args)
        self.options = options


class UsageError(CgformatError, ValueError):
    """Options or arguments that do not fit together."""


class UnsupportedFormat(UsageError):
    """A file format cgformat cannot read or write (for example writing .xls)."""


class SchemaError(UsageError):
    """A schema or template file that is missing, malformed or contradictory."""


class ReadError(CgformatError, ValueError):
    """Input that cannot be read; the message names the source and, where known, the line."""


class EncodingError(ReadError):
    """Bytes that decode in none of the supported encodings."""


class SheetError(ReadError, UsageError):
    """A sheet that does not exist, or a workbook with several sheets and no choice made: a choice to make
    (option ``sheet``, CLI ``--sheet``), so a usage error (exit 2); also a ReadError, as it always was."""


class LimitExceeded(ReadError):
    """Input past a limit that protects memory or time; the message names the option that raises it."""


class JournalBusy(UsageError):
    """Another run (a thread or a process) holds the lock of an upload journal: nothing was sent or deleted."""


class NotUploaded(UsageError):
    """No journal where one was expected: nothing was uploaded from there."""


class JournalDamaged(ReadError):
    """An upload journal that is not what cgformat writes (hand-edited, truncated), naming what is wrong."""


class WriteError(CgformatError, OSError):
    """Output that cannot be written (a value XML cannot hold, a full disk, a bad path)."""


class UploadError(CgformatError, RuntimeError):
    """An upload that could not be completed."""


class ApiError(UploadError):
    """CG answered with an error envelope; ``code`` and ``api_message`` are CG's."""

    def __init__(self, message: str, *, code: int | None = None, api_message: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.api_message = api_message
        self.status = status


class TransportError(UploadError):
    """Connection errors, time-outs, 429 and 5xx answers that outlived the retries."""


class ManifestError(UploadError):
    """A manifest, journal or part file that does not match what was planned."""


class NotSent(UploadError):
    """An upload that sends nothing: a split with no records, or a single file CG would garble or refuse.

    ``codes`` counts the errors found in such a file by issue code (empty when there was nothing to send).
    """

    def __init__(self, message: str, *, codes: tuple[tuple[str, int], ...] = ()) -> None:
        super().__init__(message)
        self.codes = codes
