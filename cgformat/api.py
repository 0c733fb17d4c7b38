"""Orchestration over paths and streams: read, write and convert whole files.

This is the only layer that opens paths. ``"-"`` stands for standard input or output and then needs an
explicit format. Outputs are written under a temporary name and renamed when complete; standard output (and
a stream given as output) receives its bytes from a spool, only once the command has succeeded, so a refusal
leaves no output anywhere.

The package exports the library's calls under short names (``cgformat.read`` is :func:`read_file`,
``cgformat.write`` :func:`write_file`, ``cgformat.convert`` :func:`convert_file`, ``cgformat.validate``
:func:`validate_file`; ``split``, ``split_file`` and ``schema_from_template`` keep theirs): use those. The
others here (:func:`open_source`, :func:`fix_file`, :func:`separate_file`, :func:`list_sheets`) are the
jobs behind ``cgformat fix``, ``validate --clean/--rejects`` and ``sheets``. Every call raises what the
package docstring lists: :class:`~cgformat.errors.ReadError` for an input that cannot be read,
:class:`~cgformat.errors.UsageError` for options that do not fit, an :class:`OSError`
(:class:`~cgformat.errors.WriteError` or the system's own) for an output that cannot be written.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import polars as pl

from . import formats
from ._atomic import atomic_output
from ._labels import Renamed
from .errors import ReadError, UsageError, WriteError
from .formats import Reader, ReadOptions, WriteOptions
from .formats._guards import open_watched
from .model import Issue, RecordBatch, Severity, SourceInfo, Table

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._splitting import SplitResult
    from .limits import LimitProfile
    from .manifest import Manifest
    from .report import Report
    from .schema import Schema
    from .validation import BatchResult

__all__ = [
    "ConvertResult",
    "Fixed",
    "Renamed",
    "Separated",
    "Source",
    "convert_file",
    "fix_file",
    "list_sheets",
    "open_source",
    "read_file",
    "schema_from_template",
    "separate_file",
    "split",
    "split_file",
    "validate_file",
    "write_file",
]

Source = str | Path | bytes | BinaryIO
"""What a reader accepts: a path, ``"-"`` (standard input), raw bytes, or a binary stream."""


def _name_of(src: Source) -> str:
    if isinstance(src, (str, Path)):
        return str(src)
    if isinstance(src, bytes):
        return "<bytes>"
    return str(getattr(src, "name", "<stream>"))


def _resolve_format(src: Source, fmt: str | None, *, write: bool = False) -> str:
    if fmt:
        return formats.check_format(fmt, write=write)
    if isinstance(src, (str, Path)) and str(src) != "-":
        return formats.check_format(formats.format_from_name(src), write=write)
    what = "--to" if write else "--from"
    raise UsageError(f"cannot tell the format of {_name_of(src)}: give it explicitly ({what} csv|xlsx|xml"
                     + ("" if write else "|xls") + ")")


def _read_format(src: Source, fmt: str | None) -> str | None:
    """The input's format as given or as its extension says; None for standard input, bytes and streams,
    whose format :func:`_content_format` tells."""
    if fmt or (isinstance(src, (str, Path)) and str(src) != "-"):
        return _resolve_format(src, fmt)
    return None


_XLSX_MAGIC = b"PK\x03\x04"                          # a zip container
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"      # an OLE2 compound file (BIFF8)


def _content_format(stream: BinaryIO) -> str:
    """xlsx or xls by their signatures, xml when the text starts with a declaration or an element, else csv.
    The stream is left where it was."""
    at = stream.tell()
    head = stream.read(256)
    stream.seek(at)
    if head.startswith(_XLSX_MAGIC):
        return "xlsx"
    if head.startswith(_XLS_MAGIC):
        return "xls"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<?xml") or (text[:1] == b"<" and (text[1:2].isalpha() or text[1:2] in (b"_", b"!"))):
        return "xml"
    return "csv"


@contextlib.contextmanager
def _binary_input(src: Source) -> Iterator[BinaryIO]:
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
def open_source(src: Source, *, fmt: str | None = None, options: ReadOptions | None = None) -> Iterator[Reader]:
    """Open a source for streaming: the reader's ``info`` now, its records through ``batches()``.

    Raises :class:`~cgformat.errors.ReadError` (and its ``EncodingError``, ``SheetError``,
    ``LimitExceeded``) for a source that cannot be read, on opening or while the batches are read;
    :class:`~cgformat.errors.UsageError` (``UnsupportedFormat``) for a format it cannot tell or read, or
    read options that do not fit it (a sheet for a file without sheets, a header row for XML).
    """
    key = _read_format(src, fmt)
    with _binary_input(src) as stream:
        yield formats.open_reader(stream, key or _content_format(stream), source=_name_of(src), options=options)


def read_file(src: Source, *, fmt: str | None = None, options: ReadOptions | None = None) -> Table:
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


def write_file(data: Table | pl.DataFrame | Iterable[pl.DataFrame], dst: str | Path | BinaryIO, *,
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
    key = _resolve_format(dst if isinstance(dst, (str, Path)) else "-", fmt, write=True)
    if key == "csv" and not labels:
        # an input without fields (an XML file with no records): a CSV file cannot say so; this is about the
        # data, not the options, so it is a WriteError (exit 3), not a usage error
        raise WriteError(f"cannot write {_name_of(dst)}: the input has no columns (no fields), and a CSV file "
                         f"needs at least one; write XML or XLSX, or fix the input")
    frames = _frames(data)

    def _emit(sink: BinaryIO) -> None:
        writer = formats.open_writer(sink, key, labels, options=options)
        for frame in frames:
            writer.write(frame)
        writer.close()

    return _write_to(dst, _emit)


def _write_to(dst: str | Path | BinaryIO, emit: Callable[[BinaryIO], None]) -> int:
    """Run ``emit`` on a sink for ``dst`` (see :func:`_output`); return the bytes written. When ``emit``
    raises, ``dst`` receives nothing."""
    with _output(dst) as stream:
        emit(stream)
        return stream.tell()


@dataclass(frozen=True, slots=True, kw_only=True)
class ConvertResult:
    """What a conversion did: the source's facts, records written, the header written, and every reader issue.

    ``labels`` is the header written (XML: the element names); ``renamed`` lists each column written under
    another label than it was read with (a record type's field name, or an XML element name), also reported
    in ``issues`` as ``renamed-label`` warnings. ``refused`` holds the issues that stopped the conversion
    (records the reader could not read exactly): then nothing was written.
    """

    info: SourceInfo
    target: str
    format: str
    records: int
    bytes: int
    issues: tuple[Issue, ...] = field(default=())
    labels: tuple[str, ...] = ()
    renamed: tuple[Renamed, ...] = ()
    refused: tuple[Issue, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the output was written: no broken record stopped it."""
        return not self.refused


class _Refused(Exception):
    """Internal: abort an atomic write because the input has errors."""


def convert_file(src: Source, dst: str | Path | BinaryIO, *, from_fmt: str | None = None,
                 to_fmt: str | None = None, read_options: ReadOptions | None = None,
                 write_options: WriteOptions | None = None,
                 xml_tags: Sequence[str] | None = None, schema: Schema | str | None = None,
                 progress: Callable[[int], None] | None = None) -> ConvertResult:
    """Convert between formats, streaming where the formats allow, every value kept exactly.

    Every column is carried, a blank or repeated header label included, as read where the format can hold
    it (CSV, XLSX); XML element names are made of the labels (``First Name`` -> ``First_Name``, a blank
    label -> ``_``: see :func:`cgformat.formats.xml.xml_names`). With ``schema`` (a :class:`Schema` or a
    built-in type name), a label that is an alias or case variant of a field is written as the field's name
    (XML: its tag). Each label written under another name is in ``renamed`` and reported (``renamed-label``).
    ``xml_tags`` gives XML element names outright.

    An input with broken records (ragged rows, nested or repeated XML elements) is refused: nothing is
    written (no file, and nothing on standard output or the stream) and the result lists the issues
    (``ok`` is False, ``refused`` holds them), since a guess at what a broken record meant is worse than
    nothing. Use ``cgformat validate --clean/--rejects`` to separate such records. ``cgformat.convert``.
    Raises what :func:`open_source` and :func:`write_file` raise, and
    :class:`~cgformat.errors.ReadError` for an input without fields.
    """
    from ._labels import output_header
    from .schema import load_schema

    _read_format(src, from_fmt)  # the input's format is asked for first, as the user gives it first
    out_key = _resolve_format(dst if isinstance(dst, (str, Path)) else "-", to_fmt, write=True)
    spec = load_schema(schema) if isinstance(schema, str) else schema
    issues: list[Issue] = []
    refused: list[Issue] = []
    records = 0
    with open_source(src, fmt=from_fmt, options=read_options) as reader:
        info = reader.info
        if not info.labels:
            raise ReadError(f"{info.source} has no fields (no header row, or an XML file without records, which "
                            "names none): nothing to convert")
        wopts = write_options or WriteOptions()
        header = output_header(info.labels, out_key, schema=spec, source_xml=info.format == "xml",
                               xml_tags=xml_tags if xml_tags is not None else wopts.xml_tags)
        issues.extend(info.issues)
        issues.extend(header.issues(line=None if info.format == "xml" else info.header_line or 1))
        if out_key == "xml":
            wopts = replace(wopts, xml_tags=header.labels)
        labels = info.labels if out_key == "xml" else header.labels

        batches = iter(reader.batches())

        def _emit(sink: BinaryIO) -> None:
            nonlocal records
            writer = formats.open_writer(sink, out_key, labels, options=wopts)
            for batch in batches:
                issues.extend(batch.issues)
                refused.extend(i for i in batch.issues if i.severity is Severity.ERROR)
                if refused:
                    raise _Refused
                writer.write(batch.frame, records=batch_records(batch.first_record, batch.frame.height))
                records += batch.frame.height
                if progress is not None:
                    progress(records)
            if out_key == "xml" and not records:
                raise UsageError(f"{info.source} has a header but no records: XML names fields only inside "
                                 f"records, so its labels would be lost; nothing written (csv or xlsx keep them)")
            writer.close()

        try:
            written = _write_to(dst, _emit)
        except _Refused:
            # finish reading so every issue of the input is reported, not just the first batch's
            for batch in batches:
                issues.extend(batch.issues)
                refused.extend(i for i in batch.issues if i.severity is Severity.ERROR)
            return ConvertResult(info=info, target=_name_of(dst), format=out_key, records=0, bytes=0,
                                 issues=tuple(issues), labels=header.labels, renamed=header.renamed,
                                 refused=tuple(refused))
    return ConvertResult(info=info, target=_name_of(dst), format=out_key, records=records, bytes=written,
                         issues=tuple(issues), labels=header.labels, renamed=header.renamed)


def batch_records(first: int, height: int) -> pl.Series:
    """Record numbers ``first .. first+height-1`` as an Int64 series."""
    return pl.int_range(first, first + height, eager=True, dtype=pl.Int64).alias("record")


def list_sheets(src: Source, *, fmt: str | None = None) -> list[Any]:
    """The sheets of an XLSX / XLS workbook with their sizes (name, position, rows, columns, visible).

    Raises :class:`~cgformat.errors.UsageError` for a source that is no workbook and
    :class:`~cgformat.errors.ReadError` for one that cannot be read.
    """
    def workbook(key: str) -> str:
        if key not in ("xlsx", "xls"):
            raise UsageError(f"{_name_of(src)} is {key}, not a workbook: only xlsx and xls files have sheets")
        return key

    given = _read_format(src, fmt)
    if given is not None:
        workbook(given)   # refused before the input is opened
    with _binary_input(src) as stream:
        key = workbook(given or _content_format(stream))
        from .formats import excel

        return list(excel.list_sheets(stream, source=_name_of(src), fmt=key))


def split_file(src: Source, out_dir: str | Path, *, fmt: str | None = None, to_fmt: str | None = None,
               read_options: ReadOptions | None = None, schema: Schema | None = None,
               profile: LimitProfile | str | None = None, max_records: int | None = None,
               max_bytes: int | None = None, validate: bool = True, force: bool = False,
               write_options: WriteOptions | None = None,
               progress: Callable[[int], None] | None = None) -> SplitResult:
    """Split a source into parts in ``out_dir`` that each fit the limit profile, plus ``manifest.json``.

    Every part holds at most ``max_records`` records and ``max_bytes`` bytes as written (header, XML
    envelope and XLSX container included), in input order, the header in each. With a schema (and
    ``validate``), invalid records go to ``rejects.<ext>`` with their reasons instead of a part. Every
    input record ends up in exactly one part or in the rejects file. The output format defaults to the
    input's (xlsx for an xls input). Raises what :func:`open_source` and :func:`write_file` raise, and
    :class:`~cgformat.errors.UsageError` for an unknown profile or an ``out_dir`` that is a file, already
    holds a split (unless ``force``) or holds an upload journal; a failed split leaves no manifest.
    """
    from ._splitting import run_split

    in_key = _read_format(src, fmt)
    with _binary_input(src) as stream:
        return run_split(stream, source=_name_of(src), in_fmt=in_key or _content_format(stream),
                         out_dir=Path(out_dir), out_fmt=to_fmt,
                         read_options=read_options, schema=schema, profile=profile, max_records=max_records,
                         max_bytes=max_bytes, do_validate=validate, force=force, write_options=write_options,
                         progress=progress)


def validate_file(src: Source, schema: Schema | str | None, *, fmt: str | None = None,
                  options: ReadOptions | None = None, profile: LimitProfile | str | None = None,
                  template: bool = False, strict: bool = False, max_issues: int = 1000) -> Report:
    """Validate a source against a schema (a :class:`Schema` or a built-in type name), streaming.

    Returns the :class:`~cgformat.report.Report`: data problems are its issues, never exceptions
    (``cgformat.validate``). Program problems raise: what :func:`open_source` raises,
    :class:`~cgformat.errors.SchemaError` for an unknown type name, and
    :class:`~cgformat.errors.UsageError` for an unknown profile.
    """
    from .validation import validate

    with open_source(src, fmt=fmt, options=options) as reader:
        return validate(reader, schema, profile=profile, template=template, strict=strict, max_issues=max_issues)


@dataclass(frozen=True, slots=True, kw_only=True)
class Separated:
    """What :func:`separate_file` did: the validation report, how many records went to each output, and the
    columns the outputs write under another label (the schema's field names, XML element names)."""

    report: Report
    clean: int
    rejected: int
    renamed: tuple[Renamed, ...] = ()


# bytes of an output to standard output (or a stream) held in memory before its spool moves to a temp file
_SPOOL_MEMORY = 16 << 20


def _to_stream(dst: str | Path | BinaryIO) -> bool:
    return not isinstance(dst, (str, Path)) or str(dst) == "-"


def _enter_outputs(stack: contextlib.ExitStack, *dsts: str | Path | BinaryIO | None) -> list[BinaryIO | None]:
    """The sinks of several outputs (None where ``dst`` is None), files entered first: standard output and
    streams exit first, so their copy (which a closed pipe can break) is done before any file is renamed
    into place, and a failed copy leaves no file either."""
    sinks: list[BinaryIO | None] = [None] * len(dsts)
    for i in sorted(range(len(dsts)), key=lambda i: dsts[i] is not None and _to_stream(dsts[i])):  # type: ignore[arg-type]
        dst = dsts[i]
        if dst is not None:
            sinks[i] = stack.enter_context(_output(dst))
    return sinks


@contextlib.contextmanager
def _output(dst: str | Path | BinaryIO) -> Iterator[BinaryIO]:
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


def _distinct_outputs(*named: tuple[str, str | Path | None]) -> None:
    """Refuse two outputs that are one file (or both standard output): the one renamed last would win."""
    given = [(name, dst) for name, dst in named if dst is not None]
    for i, (name, dst) in enumerate(given):
        for other, dst2 in given[:i]:
            same = str(dst) == str(dst2) == "-" or ("-" not in (str(dst), str(dst2))
                                                     and Path(dst).resolve() == Path(dst2).resolve())
            if same:
                where = "standard output" if str(dst) == "-" else str(dst)
                raise UsageError(f"{other} and {name} are the same file ({where}): give two names")


def _fix_format(dst: str | Path, input_format: str) -> str:
    """The format ``fix`` writes to ``dst``: CSV to standard output, else as :func:`_output_format` says."""
    return "csv" if str(dst) == "-" else _output_format(dst, input_format)


def _output_format(dst: str | Path, input_format: str) -> str:
    """The format to write ``dst`` in: its extension's, else the input's (an xls input gives xlsx)."""
    try:
        return formats.format_from_name(str(dst))
    except UsageError:
        return "xlsx" if input_format == "xls" else input_format


def separate_file(src: Source, schema: Schema | str | None, *, clean: str | Path | None = None,
                  rejects: str | Path | None = None, clean_format: str | None = None,
                  rejects_format: str | None = None, fmt: str | None = None, options: ReadOptions | None = None,
                  profile: LimitProfile | str | None = None, template: bool = False, strict: bool = False,
                  max_issues: int = 1000, progress: Callable[[int], None] | None = None) -> Separated:
    """Validate a source and write its valid records to ``clean`` and the others to ``rejects`` (their
    original values plus an ``_errors`` column naming codes and fields), batch by batch: memory stays
    bounded, every record lands in exactly one of the two, in input order, and neither file appears unless
    both are complete (``"-"``, standard output, gets its bytes only then too). Formats default to the
    outputs' extensions, else the input's. Both carry the schema's field names for aliases and case variants
    (XML: its tags), and XML element names for labels that are none, each in ``renamed``; ``_errors`` names
    the columns as the rejects file's header does. Raises what :func:`validate_file` and :func:`write_file`
    raise, and :class:`~cgformat.errors.UsageError` when ``clean`` and ``rejects`` are one file. The rejects
    of a CSV source also keep the fields a record holds beyond the header (a ragged row's extra values, as
    written) in an ``_extra`` column before ``_errors``.
    """
    from ._labels import output_header, shown_names
    from .schema import load_schema
    from .validation import ERRORS_COLUMN, EXTRA_COLUMN, partition_batch, validate

    _distinct_outputs(("--clean", clean), ("--rejects", rejects))
    spec = load_schema(schema) if isinstance(schema, str) else schema
    counts = {"clean": 0, "rejected": 0, "read": 0}
    renamed: dict[tuple[int, str], Renamed] = {}
    shown: dict[str, str] = {}
    with open_source(src, fmt=fmt, options=options) as reader, contextlib.ExitStack() as outputs:
        info = reader.info
        writers: dict[str, formats.Writer] = {}
        # a CSV record may hold fields beyond the header (a ragged row): the rejects keep them in a column
        extra = info.format == "csv"
        reasons = (EXTRA_COLUMN, ERRORS_COLUMN) if extra else (ERRORS_COLUMN,)
        sinks = _enter_outputs(outputs, clean, rejects)
        for name, dst, out_fmt, sink in (("clean", clean, clean_format, sinks[0]),
                                         ("rejects", rejects, rejects_format, sinks[1])):
            if dst is None or sink is None:
                continue
            key = formats.check_format(out_fmt or _output_format(dst, info.format), write=True)
            header = output_header(info.labels, key, schema=spec, source_xml=info.format == "xml")
            renamed.update({(r.column, r.written): r for r in header.renamed})
            labels = info.labels if key == "xml" else header.labels
            tags = None
            if name == "rejects":
                labels = (*labels, *reasons)
                tags = (*header.labels, *reasons) if key == "xml" else None
                shown = shown_names(info.columns, header.labels)
            elif key == "xml":
                tags = header.labels
            writers[name] = formats.open_writer(sink, key, labels, options=WriteOptions(xml_tags=tags))

        def separate(batch: RecordBatch, result: BatchResult) -> None:
            good, bad = partition_batch(batch, result, shown, extra=extra)
            if "clean" in writers and good.height:
                writers["clean"].write(good, records=batch.records.filter(result.ok))
            if "rejects" in writers and bad.height:
                writers["rejects"].write(bad, records=batch.records.filter(~result.ok))
            counts["clean"] += good.height
            counts["rejected"] += bad.height
            counts["read"] += batch.frame.height
            if progress is not None:
                progress(counts["read"])

        report = validate(reader, spec, profile=profile, template=template, strict=strict, max_issues=max_issues,
                          on_batch=separate)
        for writer in writers.values():
            writer.close()
    return Separated(report=report, clean=counts["clean"], rejected=counts["rejected"],
                     renamed=tuple(renamed[k] for k in sorted(renamed)))


@dataclass(frozen=True, slots=True, kw_only=True)
class Fixed:
    """What :func:`fix_file` did. ``broken`` lists records it could not read exactly (ragged rows): when
    there are any, nothing was written (no file, and nothing on standard output). ``issues`` are the values
    left alone on purpose (ambiguous dates), with the columns of
    :data:`~cgformat.report.ISSUE_SCHEMA`."""

    info: SourceInfo
    records: int
    bytes: int
    labels: tuple[str, ...]
    counts: dict[str, int]
    changed_cells: int
    changed_records: int
    renamed: dict[str, str]
    issues: pl.DataFrame
    reader_issues: tuple[Issue, ...]
    broken: tuple[Issue, ...] = ()
    reordered: bool = False        # the columns were put in the order the schema's exact header wants
    added: tuple[str, ...] = ()    # empty columns added for optional fields that header needs
    dropped: tuple[int, ...] = ()  # 1-based positions of the columns left out (unlabelled and empty, or unknown
                                   # with ``drop_extra``)
    empty: tuple[int, ...] = ()    # lines of the records left out: empty once fixed (a line of delimiters)
    xml_names: tuple[Renamed, ...] = ()  # XML output: the labels written as other element names (``labels``
                                         # as written, column positions among them)


def _rereadable(src: Source) -> bool:
    """Whether a source can be opened twice (a path or bytes; not standard input or a stream)."""
    return isinstance(src, bytes) or (isinstance(src, (str, Path)) and str(src) != "-")


class _Broken(Exception):
    """Internal: abort the atomic outputs of a fix because the input has records it cannot read exactly."""


def fix_file(src: Source, dst: str | Path, schema: Schema | None, *, options: Any = None, rename: bool = True,
             changes: str | Path | None = None, fmt: str | None = None, read_options: ReadOptions | None = None,
             progress: Callable[[int], None] | None = None, drop_extra: bool = False) -> Fixed:
    """``cgformat fix`` over a whole source, batch by batch (memory stays bounded): the fixed records to
    ``dst`` (its extension's format, else the input's), every change to ``changes`` (record, line, field,
    before, after, normalizers); both written atomically, and neither when the input has broken records
    (standard output, ``dst`` ``"-"``, gets CSV, and its bytes only once the fix has succeeded).
    ``options`` is a :class:`~cgformat.normalize.NormalizeOptions`. ``drop_extra`` leaves out the columns
    ``schema`` does not know (a template takes no other column). Broken records are not raised: they are
    in ``Fixed.broken``. Raises what :func:`open_source` and :func:`write_file` raise, and
    :class:`~cgformat.errors.UsageError` when ``dst`` and ``changes`` are one file, or for ``drop_extra``
    without a schema.
    """
    from ._labels import output_header
    from .normalize import NormalizeOptions, empty_unlabelled, fix_plan, normalize
    from .report import issues_frame

    _distinct_outputs(("DST", dst), ("--changes", changes))
    opts = options or NormalizeOptions()
    found: list[pl.DataFrame] = []
    totals: dict[str, int] = {}
    cells = changed_records = records = 0
    empty: list[int] = []
    xml_renamed: tuple[Renamed, ...] = ()
    with open_source(src, fmt=fmt, options=read_options) as reader:
        info = reader.info
        drop: tuple[int, ...] = ()
        if rename and any(not label.strip() for label in info.labels) and _rereadable(src):
            # a column with no label (a trailing delimiter) is dropped when it holds nothing: a pass of its
            # own first, as the header is written before the records
            with open_source(src, fmt=fmt, options=read_options) as first:
                drop = empty_unlabelled(first.info.labels, (b.frame for b in first.batches()))
        if drop_extra and schema is None:
            raise UsageError("leaving out unknown columns needs a record type, a schema or a template")
        plan = fix_plan(info.labels, schema, rename=rename, drop=drop, drop_extra=drop_extra)
        reader_issues: list[Issue] = list(info.issues)
        broken: list[Issue] = []
        batches = iter(reader.batches())
        try:
            with contextlib.ExitStack() as outputs:
                key = formats.check_format(_fix_format(dst, info.format), write=True)
                labels = plan.output_labels
                tags = None
                if key == "xml":
                    xml_header = output_header(labels, key, schema=schema, source_xml=info.format == "xml")
                    tags, xml_renamed = xml_header.labels, xml_header.renamed
                sink, log_sink = _enter_outputs(outputs, dst, changes)
                assert sink is not None
                writer = formats.open_writer(sink, key,
                                             labels, options=WriteOptions(xml_tags=tags))
                log: formats.Writer | None = None
                if changes is not None and log_sink is not None:
                    log = formats.open_writer(log_sink,
                                              formats.check_format(_output_format(changes, "csv"), write=True),
                                              ("record", "line", "field", "before", "after", "normalizers"),
                                              options=WriteOptions())
                for batch in batches:
                    reader_issues.extend(batch.issues)
                    broken.extend(i for i in batch.issues if i.severity is Severity.ERROR and i.record is not None)
                    if broken:
                        raise _Broken
                    out = normalize(Table(info=info, frame=batch.frame, lines=batch.lines), plan.chains,
                                    options=opts, labels=plan.labels, date_columns=plan.date_columns,
                                    first_record=batch.first_record).in_order(plan.order)
                    # a record with no value (a line of delimiters, or of spaces once trimmed) is left out
                    blank = out.frame.select(pl.all_horizontal(pl.all() == "")).to_series() \
                        if out.frame.width else pl.repeat(False, out.frame.height, eager=True)
                    if blank.any():
                        empty.extend(batch.lines.filter(blank).to_list())
                        writer.write(out.frame.filter(~blank), records=batch.records.filter(~blank))
                    else:
                        writer.write(out.frame, records=batch.records)
                    if log is not None and out.changes.height:
                        log.write(out.changes.select(pl.all().cast(pl.String)))
                    for name, n in out.counts.items():
                        totals[name] = totals.get(name, 0) + n
                    cells += out.changes.height
                    changed_records += out.changes["record"].n_unique() if out.changes.height else 0
                    if out.issues.height:
                        found.append(out.issues)
                    records += batch.frame.height
                    if progress is not None:
                        progress(records)
                writer.close()
                written = sink.tell()   # the spool (standard output) or the file, as whole as it will be
                if log is not None:
                    log.close()
        except _Broken:
            for batch in batches:   # read on, so that every broken record is counted
                reader_issues.extend(batch.issues)
                broken.extend(i for i in batch.issues if i.severity is Severity.ERROR and i.record is not None)
            written = 0
    if plan.renamed:
        totals["rename"] = len(plan.renamed)
    return Fixed(info=info, records=records, bytes=written, labels=plan.output_labels, counts=totals,
                 changed_cells=cells, changed_records=changed_records, renamed=dict(plan.renamed),
                 issues=pl.concat(found) if found else issues_frame(), reader_issues=tuple(reader_issues),
                 broken=tuple(broken), reordered=plan.reordered, added=plan.added, dropped=plan.dropped,
                 empty=tuple(empty), xml_names=xml_renamed)


def schema_from_template(path: Source, *, base: Schema | None = None, sheet: str | int | None = None,
                         fmt: str | None = None) -> Schema:
    """The schema a CG template file stands for: its header row (CSV / XLSX / XLS) or XML element names.

    The template's names and order become the required header, exact order and case. ``base`` (a record
    type) supplies the checks and upload facts of the fields it names. Only the header is read.
    Raises what :func:`open_source` raises, and :class:`~cgformat.errors.SchemaError` for a template
    without labels, or with blank or repeated ones.
    """
    from .schema import schema_from_labels

    with open_source(path, fmt=fmt, options=ReadOptions(sheet=sheet, batch_size=1_000)) as reader:
        labels = tuple(reader.info.labels)
        key = reader.info.format
    return schema_from_labels(labels, source=_name_of(path), base=base, xml=key == "xml")


def split(src: Source, out_dir: str | Path, **options: Any) -> Manifest:
    """Split a source into parts that fit the limits and return the manifest (see :func:`split_file`,
    which takes the same options and raises the same errors)."""
    return split_file(src, out_dir, **options).manifest
