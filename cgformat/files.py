"""Sources and sinks: the only module that opens paths for the jobs.

A source is a path, ``"-"`` (standard input), bytes or a binary stream; the jobs also take records in memory
(:data:`Input`: a :class:`~cgformat.model.Table` or a polars DataFrame, see :func:`table_of`). A path that
changes while it is read is refused (:func:`open_watched`: the readers pass over some inputs twice, and a file
rewritten between the passes must not be half one version and half another). A sink is a path, written under a
temporary name and renamed when complete, or ``"-"`` (standard output) / a stream, which receives its bytes
from a spool only once the job has succeeded: a refusal leaves no output anywhere. ``"-"`` needs an explicit
format; bytes and streams are told by their content (:mod:`cgformat.formats.detect`).

``cgformat.read`` is :func:`read_file`, ``cgformat.write`` :func:`write_file`. Every call raises what the
package docstring lists: :class:`~cgformat.errors.ReadError` for an input that cannot be read,
:class:`~cgformat.errors.UsageError` for options that do not fit, an :class:`OSError`
(:class:`~cgformat.errors.WriteError` or the system's own) for an output that cannot be written.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, cast

import polars as pl

from . import formats
from ._atomic import atomic_output
from .errors import ReadError, UsageError, WriteError
from .formats import Reader, ReadOptions, WriteOptions
from .formats._text import as_text
from .formats.detect import format_by_name, format_from_content, format_from_name
from .model import FRAME, Issue, RecordBatch, SourceInfo, Table

__all__ = [
    "FRAME_SOURCE",
    "Input",
    "Sink",
    "Source",
    "binary_input",
    "default_output_format",
    "distinct_outputs",
    "enter_outputs",
    "frame_reader",
    "in_memory",
    "input_format",
    "open_source",
    "open_watched",
    "output",
    "output_format",
    "read_file",
    "source_name",
    "table_of",
    "write_file",
    "write_to",
]

Source = str | Path | bytes | BinaryIO
"""What a reader accepts: a path, ``"-"`` (standard input), raw bytes, or a binary stream."""

Input = str | Path | bytes | BinaryIO | Table | pl.DataFrame
"""What the jobs read: a :data:`Source`, or records in memory: a :class:`~cgformat.model.Table` (as
``cgformat.read`` gives it) or a polars DataFrame (read as :func:`table_of` says)."""

Sink = str | Path | BinaryIO
"""Where a writer writes: a path (atomically), ``"-"`` (standard output, spooled) or a binary stream."""

FRAME_SOURCE = "<frame>"
"""How messages and reports name records given as a DataFrame."""

# read options that say how to read a file: records in memory are read as they are
_FILE_OPTIONS = ("encoding", "delimiter", "sheet", "header_row", "record_tag")


def in_memory(src: Input) -> bool:
    """Whether ``src`` holds records in memory (a Table or a DataFrame) rather than naming bytes to read."""
    return isinstance(src, (Table, pl.DataFrame))


def table_of(frame: pl.DataFrame) -> Table:
    """A DataFrame as the :class:`~cgformat.model.Table` the jobs read: its column names are the labels,
    every value is text (a column of another type in CG's form, see :mod:`cgformat.formats._text`, or a
    :class:`~cgformat.errors.UsageError` naming the column and record), a null is an empty value; records
    are numbered from 1, and have no lines (``line`` None in every issue; ``format`` is ``"frame"``)."""
    text = as_text(frame).with_columns(pl.all().fill_null(""))
    info = SourceInfo(source=FRAME_SOURCE, format=FRAME, labels=tuple(frame.columns))
    return Table(info=info, frame=text.rename(dict(zip(text.columns, info.columns, strict=True))),
                 lines=pl.repeat(None, text.height, dtype=pl.Int64, eager=True).alias("line"))


class _TableReader:
    """A :class:`~cgformat.formats.Reader` over a table in memory: slices of ``batch_size`` records, each
    with the table's issues about its records (those about no record come with the first)."""

    def __init__(self, table: Table, batch_size: int) -> None:
        self.info = table.info
        self._table = table
        self._size = batch_size

    def batches(self) -> Iterator[RecordBatch]:
        """The records in order, in batches of at most ``batch_size``."""
        table, size = self._table, self._size
        n = table.frame.height
        count = max(1, -(-n // size))
        issues: list[list[Issue]] = [[] for _ in range(count)]
        for issue in table.issues:
            if issue not in self.info.issues:
                at = 0 if issue.record is None else min(max(issue.record - 1, 0) // size, count - 1)
                issues[at].append(issue)
        if n == 0:
            if issues[0]:
                yield RecordBatch(frame=table.frame, lines=table.lines, first_record=1, issues=tuple(issues[0]))
            return
        for k in range(count):
            yield RecordBatch(frame=table.frame.slice(k * size, size), lines=table.lines.slice(k * size, size),
                              first_record=k * size + 1, issues=tuple(issues[k]))


def frame_reader(src: Table | pl.DataFrame, options: ReadOptions | None = None) -> Reader:
    """A reader over records in memory (see :func:`table_of`); of ``options`` only ``batch_size`` applies,
    and an option about reading a file (``sheet=``, ``encoding=`` ...) is a
    :class:`~cgformat.errors.UsageError`."""
    opts = options or ReadOptions()
    for name in _FILE_OPTIONS:
        if getattr(opts, name) is not None:
            raise UsageError(f"{name}= is for reading files: records in memory are read as they are",
                             options=(name,))
    if opts.batch_size < 1:
        raise UsageError(f"batch_size={opts.batch_size}: give at least 1", options=("batch_size",))
    return _TableReader(src if isinstance(src, Table) else table_of(src), opts.batch_size)


def source_name(src: Input) -> str:
    """How messages and reports name a source: its path, ``-``, ``<bytes>``, the stream's name, a table's
    source, or ``<frame>``."""
    if isinstance(src, Table):
        return src.info.source
    if isinstance(src, pl.DataFrame):
        return FRAME_SOURCE
    if isinstance(src, (str, Path)):
        return str(src)
    if isinstance(src, bytes):
        return "<bytes>"
    return str(getattr(src, "name", "<stream>"))


def _path_of(src: Input) -> str | Path | None:
    """The path a source or sink names (None for ``-``, bytes and streams)."""
    return src if isinstance(src, (str, Path)) and str(src) != "-" else None


def input_format(src: Input, fmt: str | None) -> str | None:
    """The input's format as given or as its extension says; None for standard input, bytes and streams,
    whose content tells (:func:`~cgformat.formats.detect.format_from_content`). Records in memory have
    theirs (a table's, or ``"frame"``), and ``fmt`` given for them is a :class:`~cgformat.errors.UsageError`."""
    if in_memory(src):
        if fmt is not None:
            raise UsageError(f"fmt={fmt} is for bytes to read: records in memory are read as they are",
                             options=("fmt",))
        return src.info.format if isinstance(src, Table) else FRAME
    return format_by_name(fmt, _path_of(src))


def output_format(dst: Sink, fmt: str | None, *, param: str = "fmt") -> str:
    """The format to write ``dst`` in: as given, else as its extension says; standard output and streams
    need it given (:class:`~cgformat.errors.UsageError` naming ``param``, the caller's parameter)."""
    key = format_by_name(fmt, _path_of(dst), write=True)
    if key is None:
        raise UsageError(f"cannot tell the format of {source_name(dst)}: give {param}=csv|xlsx|xml",
                         options=(param,))
    return key


def default_output_format(dst: str | Path, input_format: str) -> str:
    """The format to write ``dst`` in: its extension's, else the input's (an xls input gives xlsx, a
    DataFrame csv)."""
    try:
        return format_from_name(str(dst))
    except UsageError:
        return {"xls": "xlsx", FRAME: "csv"}.get(input_format, input_format)


class _WatchedFile(io.FileIO):
    """A file that refuses to go on reading once it has changed on disk since it was opened."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "rb")
        self._path = path
        stat = os.fstat(self.fileno())
        self._stamp = (stat.st_size, stat.st_mtime_ns)

    def _check(self) -> None:
        stat = os.fstat(self.fileno())
        if (stat.st_size, stat.st_mtime_ns) != self._stamp:
            raise ReadError(f"{self._path}: the file changed while it was being read (it was "
                            f"{self._stamp[0]:,} bytes, now {stat.st_size:,}); read it again once it is complete")

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        self._check()
        return super().readinto(buffer)

    def readall(self) -> bytes:
        self._check()
        return super().readall()


def open_watched(path: Path) -> BinaryIO:
    """Open ``path`` for reading; a read after the file changed raises :class:`~cgformat.errors.ReadError`."""
    return io.BufferedReader(_WatchedFile(path), buffer_size=1 << 20)


@contextlib.contextmanager
def binary_input(src: Source) -> Iterator[BinaryIO]:
    """A seekable binary stream over the source; standard input and pipes are spooled to a temp file."""
    if isinstance(src, bytes):
        yield io.BytesIO(src)
        return
    if isinstance(src, (str, Path)):
        if str(src) == "-":
            with tempfile.TemporaryFile() as spool:
                shutil.copyfileobj(sys.stdin.buffer, spool, 1 << 20)
                spool.seek(0)
                yield spool
            return
        path = Path(src)
        if path.is_dir():
            raise ReadError(f"{path} is a folder, not a file")
        try:
            stream = open_watched(path)  # a file rewritten while it is read is refused, not half read
        except FileNotFoundError:
            raise ReadError(f"{path}: no such file") from None
        except PermissionError:
            raise ReadError(f"{path}: permission denied") from None
        except OSError as exc:
            raise ReadError(f"{path}: cannot open: {exc.strerror or exc}") from None
        with stream:
            yield stream
        return
    if src.seekable():
        yield src
        return
    with tempfile.TemporaryFile() as spool:
        shutil.copyfileobj(src, spool, 1 << 20)
        spool.seek(0)
        yield spool


@contextlib.contextmanager
def open_source(src: Input, *, fmt: str | None = None, options: ReadOptions | None = None) -> Iterator[Reader]:
    """Open a source for streaming: the reader's ``info`` now, its records through ``batches()`` (records in
    memory: :func:`frame_reader`).

    Raises :class:`~cgformat.errors.ReadError` (and its ``EncodingError``, ``SheetError``,
    ``LimitExceeded``) for a source that cannot be read, on opening or while the batches are read;
    :class:`~cgformat.errors.UsageError` (``UnsupportedFormat``) for a format it cannot tell or read, or
    read options that do not fit it (a sheet for a file without sheets, a header row for XML).
    """
    key = input_format(src, fmt)
    if isinstance(src, (Table, pl.DataFrame)):
        yield frame_reader(src, options)
        return
    with binary_input(src) as stream:
        yield formats.open_reader(stream, key or format_from_content(stream), source=source_name(src),
                                  options=options)


def read_file(src: Input, *, fmt: str | None = None, options: ReadOptions | None = None) -> Table:
    """Read a whole source into memory as a :class:`Table` of text values (``cgformat.read``).

    What the reader noticed (ragged rows, a byte order mark, another encoding) is in ``Table.issues``.
    Raises what :func:`open_source` raises.
    """
    with open_source(src, fmt=fmt, options=options) as reader:
        return Table.from_batches(reader.info, reader.batches())


def _frames(data: Table | pl.DataFrame | Iterable[pl.DataFrame]) -> Iterable[pl.DataFrame]:
    if isinstance(data, Table):
        return [data.frame]
    if isinstance(data, pl.DataFrame):
        return [data]
    return data


def write_file(data: Table | pl.DataFrame | Iterable[pl.DataFrame], dst: Sink, *,
               fmt: str | None = None, labels: Sequence[str] | None = None,
               options: WriteOptions | None = None) -> int:
    """Write records to a path (atomically), ``"-"`` (standard output) or a binary stream; return the bytes.

    ``labels`` are the header labels (default: the table's labels, else the frame's column names).
    ``cgformat.write``. Raises :class:`~cgformat.errors.UsageError` (``UnsupportedFormat``) for a format
    it cannot tell or write; :class:`~cgformat.errors.WriteError` for an output it cannot write (a folder
    that does not exist, a value the format cannot hold, a CSV without columns) and the system's
    :class:`OSError` (a full disk): a path is then left as it was.
    """
    if labels is None:
        if isinstance(data, Table):
            labels = data.info.labels
        elif isinstance(data, pl.DataFrame):
            labels = data.columns
        else:
            raise UsageError("write_file needs labels when given an iterable of frames")
    key = output_format(dst, fmt)
    if key == "csv" and not labels:
        # an input without fields (an XML file with no records): a CSV file cannot say so; this is about the
        # data, not the options, so it is a WriteError (exit 3), not a usage error
        raise WriteError(f"cannot write {source_name(dst)}: the input has no columns (no fields), and a CSV file "
                         f"needs at least one; write XML or XLSX, or fix the input")
    frames = _frames(data)

    def _emit(sink: BinaryIO) -> None:
        writer = formats.open_writer(sink, key, labels, options=options)
        for frame in frames:
            writer.write(frame)
        writer.close()

    return write_to(dst, _emit)


def write_to(dst: Sink, emit: Callable[[BinaryIO], None]) -> int:
    """Run ``emit`` on a sink for ``dst`` (see :func:`output`); return the bytes written. When ``emit``
    raises, ``dst`` receives nothing."""
    with output(dst) as stream:
        emit(stream)
        return stream.tell()


# bytes of an output to standard output (or a stream) held in memory before its spool moves to a temp file
_SPOOL_MEMORY = 16 << 20


def _to_stream(dst: Sink) -> bool:
    return not isinstance(dst, (str, Path)) or str(dst) == "-"


def enter_outputs(stack: contextlib.ExitStack, *dsts: Sink | None) -> list[BinaryIO | None]:
    """The sinks of several outputs (None where ``dst`` is None), files entered first: standard output and
    streams exit first, so their copy (which a closed pipe can break) is done before any file is renamed
    into place, and a failed copy leaves no file either."""
    sinks: list[BinaryIO | None] = [None] * len(dsts)
    for i in sorted(range(len(dsts)), key=lambda i: dsts[i] is not None and _to_stream(dsts[i])):  # type: ignore[arg-type]
        dst = dsts[i]
        if dst is not None:
            sinks[i] = stack.enter_context(output(dst))
    return sinks


@contextlib.contextmanager
def output(dst: Sink) -> Iterator[BinaryIO]:
    """A binary sink for ``dst``: a path is written atomically (renamed into place when the block ends
    without an exception); ``"-"`` (standard output) and a stream get the bytes only then, copied from a
    spool: a refusal found at the last record (a broken record, a value the format cannot hold, an input
    that changed) leaves them empty, as it leaves no file, so "nothing written" is always true."""
    if _to_stream(dst):
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY) as spool:
            yield cast(BinaryIO, spool)
            spool.seek(0)
            out = sys.stdout.buffer if isinstance(dst, (str, Path)) else dst
            shutil.copyfileobj(spool, out, 1 << 20)
            out.flush()
        return
    target = Path(cast("str | Path", dst))
    if target.is_dir():
        raise WriteError(f"{target} is a folder; give a file name")
    if not target.parent.exists():
        raise WriteError(f"cannot write {target}: folder {target.parent} does not exist")
    with atomic_output(target) as stream:
        yield stream


def distinct_outputs(*named: tuple[str, str | Path | None]) -> None:
    """Refuse two outputs that are one file (or both standard output): the one renamed last would win.
    Each is named by the caller's parameter (``dst``, ``changes``); the error lists them in ``options``."""
    given = [(name, dst) for name, dst in named if dst is not None]
    for i, (name, dst) in enumerate(given):
        for other, dst2 in given[:i]:
            same = str(dst) == str(dst2) == "-" or ("-" not in (str(dst), str(dst2))
                                                     and Path(dst).resolve() == Path(dst2).resolve())
            if same:
                where = "standard output" if str(dst) == "-" else str(dst)
                raise UsageError(f"{other}= and {name}= are the same file ({where}): give two names",
                                 options=(other, name))
