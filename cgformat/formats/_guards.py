"""Protective limits: checks that keep a broken or hostile input from exhausting memory or time.

Workbooks
    The workbook's own guard (a sheet's grid, its parts' inflated size) is :class:`._workbook.Workbook`.

Records
    :class:`GuardedReader` wraps any reader: more than ``ReadOptions.max_columns`` columns, or a value
    (or header label) longer than ``ReadOptions.max_field_bytes`` bytes, raise :class:`LimitExceeded`
    naming the record, line, field and the option that raises the limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import polars as pl

from .._prefetch import prefetch
from ..errors import CgformatError, LimitExceeded, ReadError, UsageError

if TYPE_CHECKING:
    from ..model import RecordBatch, SourceInfo
    from . import Reader, ReadOptions

__all__ = ["GuardedReader", "ReaderFailure", "check_batch", "check_labels", "reader_failure"]


# --------------------------------------------------------------------------------------------- records


def check_labels(info: SourceInfo, options: ReadOptions) -> None:
    """Refuse a source with more columns than ``max_columns`` or a header label over ``max_field_bytes``."""
    if len(info.labels) > options.max_columns:
        raise LimitExceeded(f"{info.source}: {len(info.labels):,} columns, over the limit "
                            f"max_columns={options.max_columns:,}; raise it to read the source anyway",
                            options=("max_columns",))
    for position, label in enumerate(info.labels, start=1):
        size = len(label.encode("utf-8", "surrogatepass"))
        if size > options.max_field_bytes:
            raise LimitExceeded(f"{info.source}: header column {position} is {size:,} bytes long, over the limit "
                                f"max_field_bytes={options.max_field_bytes:,}; raise it to read the source anyway",
                                options=("max_field_bytes",))


def check_batch(batch: RecordBatch, info: SourceInfo, options: ReadOptions) -> None:
    """Refuse a batch holding a value longer than ``max_field_bytes`` (naming its record, line and field)."""
    frame = batch.frame
    if frame.width == 0 or frame.height == 0:
        return
    longest = frame.select(pl.all().str.len_bytes().max()).row(0)
    limit = options.max_field_bytes
    for column, size in zip(frame.columns, longest, strict=True):
        if size is None or size <= limit:
            continue
        row = int(frame[column].str.len_bytes().arg_max() or 0)
        record = batch.first_record + row
        line = int(batch.lines[row]) if row < batch.lines.len() else None
        where = f"record {record}" + (f" (line {line})" if line else "")
        raise LimitExceeded(f"{info.source}: {where}, field {column!r}: a value of {size:,} bytes, over the "
                            f"limit max_field_bytes={limit:,}; raise it to read the source anyway",
                            options=("max_field_bytes",))


class ReaderFailure(ReadError):
    """An unexpected exception inside a reader (a bug in cgformat or a library it uses), as a ReadError.

    The user sees one line and exit 3, never a traceback; ``__cause__`` keeps the original, and the fuzz
    tests count every such failure as a bug.
    """


def reader_failure(error: Exception, *, fmt: str, source: str) -> Exception:
    """``error`` as it should leave a reader: cgformat's own errors and MemoryError as they are, anything
    else as a :class:`ReaderFailure` naming the input."""
    if isinstance(error, (CgformatError, MemoryError)):
        return error
    detail = str(error).splitlines()[0][:200] if str(error) else ""
    return ReaderFailure(f"{source}: cannot read this {fmt.upper()} input: an unexpected "
                         f"{type(error).__name__}{': ' + detail if detail else ''} (a bug in cgformat: please "
                         f"report it with the file)")


class GuardedReader:
    """A reader whose labels and batches are checked against the protective limits of its options, and
    whose unexpected exceptions become a :class:`ReaderFailure`."""

    def __init__(self, inner: Reader, options: ReadOptions, *, fmt: str = "", source: str = "",
                 read_ahead: int = 1) -> None:
        self._inner = inner
        self._options = options
        self._fmt = fmt
        self._source = source
        self.info = inner.info
        if read_ahead < 1:
            raise UsageError(f"read_ahead must be at least 1, not {read_ahead}")
        self._read_ahead = read_ahead
        check_labels(self.info, options)

    def batches(self) -> Iterator[RecordBatch]:
        """The inner reader's batches, each checked by :func:`check_batch`, read ahead (``read_ahead`` of
        them) by a background thread while the caller works on the last one."""
        try:
            yield from prefetch(self._checked(), depth=self._read_ahead)
        except Exception as error:
            raise reader_failure(error, fmt=self._fmt, source=self._source or self.info.source) from error

    def _checked(self) -> Iterator[RecordBatch]:
        for batch in self._inner.batches():
            check_batch(batch, self.info, self._options)
            yield batch
