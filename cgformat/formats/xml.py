"""XML records: ``<records><record><Field>value</Field> ...</record> ...</records>``.

Reading
    The record element is ``record`` under a ``records`` root, ``RECORD`` under ``RECORDS``, or the tag
    given as ``ReadOptions.record_tag`` (then at any depth, in any namespace; tags are compared by local
    name). Each child element of a record is one field, named by its tag; the labels are the tags in the
    order they are first seen across *all* records, so a field that first appears in record 500 is a
    column, empty in the records before it. To know every label before the first batch the reader makes
    two passes over the input (a stream that cannot seek is first copied to a temporary file): the first
    collects the tags, the second yields the records. An absent and an empty element both read as ``""``;
    text is kept exactly (whitespace, CDATA, character references). ``lines`` holds the line of each
    record's start tag (where its ``>`` is, as lxml counts).

    Uniform documents (every record with the first record's tags, in the same order; no attributes,
    comments, CDATA, namespaces or DOCTYPE; UTF-8), which is what exporters write, are read by a
    vectorised scanner (``_xmlfast``; it stays while the ``xml-csv`` benchmark case shows it paying).
    Anything else is read by lxml's ``iterparse`` (``_xmltree``) with a hardened parser (``_xmlguard``:
    no entities resolved, no network, no DTD loaded; huge-tree mode only when
    ``ReadOptions.max_field_bytes`` is raised past lxml's 10,000,000-byte text limit, whose breach is a
    :class:`LimitExceeded`), clearing each record so memory stays flat. If the scanner meets a problem
    only in its second pass (a stray text, a character XML forbids), lxml takes over from the first record
    not yet given, so the result is the same. A DOCTYPE that declares entities is refused
    (:class:`ReadError`) before any parser runs: entities are never expanded. Not-well-formed XML raises
    :class:`ReadError` naming the line and column.

    Issues: a record without child elements -> ``blank-row`` (warning, not a record); a field with child
    elements -> ``nested-element`` (error; its text content is joined); the same field twice in a record
    -> ``repeated-element`` (error; the first is kept); an attribute on a record or field ->
    ``xml-attribute`` (error: CG's XML has none, so its value cannot be carried; namespace declarations
    and ``xsi:nil="true"`` on an empty field are no data); text or elements outside any field ->
    ``stray-content`` (warning, ignored); an input not in UTF-8 -> ``non-utf8`` (warning); no records ->
    ``empty-file``.

Writing
    ``<?xml version='1.0' encoding='utf-8'?>`` and a newline, ``<records>`` and a newline, then one line
    per record, ``<record><Tag>value</Tag>...</record>``, every field written even when empty
    (``<Email></Email>``, never ``<Email/>``), and ``</records>`` and a newline. ``&``, ``<`` and ``>``
    are escaped as entities and a carriage return as ``&#13;`` (a raw one would be read back as a line
    feed); nothing else is changed. Tags are ``WriteOptions.xml_tags`` if given, else the labels, made
    valid XML names by :func:`xml_names` (``_xmlnames``). A value XML 1.0 cannot hold (control characters
    other than tab, line feed and carriage return; U+FFFE, U+FFFF) raises :class:`WriteError` naming the
    record and field before anything of its batch is written. :func:`record_sizes` and :func:`envelope_size` are exact:
    ``envelope_size + sum(record_sizes) == len(file)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import BinaryIO

import polars as pl

from ..errors import ReadError, WriteError
from ..model import Issue, IssueCode, RecordBatch, Severity, SourceInfo
from . import ReadOptions, WriteOptions
from ._common import seekable
from ._xmlfast import Bail, Prolog, Shape, chunks, read_prolog
from ._xmlguard import DOCTYPE_LIMIT, LXML_TEXT_LIMIT
from ._xmlnames import is_xml_name, xml_names
from ._xmltree import LxmlRecords, record_tag

__all__ = ["DOCTYPE_LIMIT", "XmlReader", "XmlWriter", "envelope_size", "is_xml_name", "open_reader", "open_writer",
           "record_sizes", "xml_names"]

DECLARATION = b"<?xml version='1.0' encoding='utf-8'?>\n"
_BAD_VALUE = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"
_WRITE_SLICE = 100_000

# --------------------------------------------------------------------------------------------- writing


def _tags(labels: tuple[str, ...], options: WriteOptions) -> tuple[str, ...]:
    source = labels if options.xml_tags is None else tuple(options.xml_tags)
    if len(source) != len(labels):
        raise WriteError(f"{len(source)} XML tags given for {len(labels)} columns; give one tag per column")
    names, _ = xml_names(source)
    return names


def _envelope_tags(options: WriteOptions) -> tuple[str, str]:
    for what, tag in (("root", options.root_tag), ("record", options.record_tag)):
        if not is_xml_name(tag):
            raise WriteError(f"the XML {what} tag {tag!r} is no valid XML element name")
    return options.root_tag, options.record_tag


def _record_expr(columns: Sequence[str], tags: Sequence[str], record_tag: str) -> pl.Expr:
    parts: list[pl.Expr] = [pl.lit(f"<{record_tag}>")]
    for column, tag in zip(columns, tags, strict=True):
        value = pl.col(column).cast(pl.String).fill_null("")
        parts += [pl.lit(f"<{tag}>"),
                  value.str.replace_many(["&", "<", ">", "\r"], ["&amp;", "&lt;", "&gt;", "&#13;"]),
                  pl.lit(f"</{tag}>")]
    parts.append(pl.lit(f"</{record_tag}>"))
    return pl.concat_str(parts)


def record_sizes(frame: pl.DataFrame, *, labels: tuple[str, ...], options: WriteOptions) -> pl.Series:
    """Exact bytes each record adds to the XML file (its ``<record>`` line with the newline)."""
    _check_width(frame, labels)
    _, record_tag = _envelope_tags(options)
    tags = _tags(labels, options)
    if frame.height == 0:
        return pl.Series("bytes", [], dtype=pl.Int64)
    return frame.select(
        (_record_expr(frame.columns, tags, record_tag).str.len_bytes().cast(pl.Int64) + 1).alias("bytes")
    ).to_series()


def envelope_size(*, labels: tuple[str, ...], options: WriteOptions) -> int:
    """Bytes of the XML file with no records: the declaration and the root's start and end tags."""
    del labels
    root, _ = _envelope_tags(options)
    return len(DECLARATION) + len(f"<{root}>\n".encode()) + len(f"</{root}>\n".encode())


def _check_width(frame: pl.DataFrame, labels: tuple[str, ...]) -> None:
    if frame.width != len(labels):
        raise WriteError(f"a frame of {frame.width} columns given for {len(labels)} labels")


class XmlWriter:
    """Writes records to a binary sink as XML, one ``<record>`` line per record."""

    def __init__(self, sink: BinaryIO, *, labels: tuple[str, ...], options: WriteOptions) -> None:
        self._sink = sink
        self._labels = labels
        self._root, self._record_tag = _envelope_tags(options)
        self._tags = _tags(labels, options)
        self._count = 0
        self._closed = False
        sink.write(DECLARATION)
        sink.write(f"<{self._root}>\n".encode())

    def write(self, frame: pl.DataFrame, *, records: pl.Series | None = None) -> None:
        """Append records (String columns in label order); ``records`` numbers them for error messages."""
        if self._closed:
            raise WriteError("the XML writer is closed")
        _check_width(frame, self._labels)
        if frame.height == 0:
            return
        self._check_values(frame, records)
        expr = _record_expr(frame.columns, self._tags, self._record_tag).alias("xml")
        for start in range(0, frame.height, _WRITE_SLICE):
            part = frame.slice(start, _WRITE_SLICE).select(expr)
            part.write_csv(self._sink, include_header=False, quote_style="never", line_terminator="\n")
        self._count += frame.height

    def _check_values(self, frame: pl.DataFrame, records: pl.Series | None) -> None:
        flags = frame.select(pl.col(c).cast(pl.String).str.contains(_BAD_VALUE).fill_null(value=False)
                             for c in frame.columns)
        bad = flags.select(pl.any_horizontal(pl.all())).to_series()
        if not bad.any():
            return
        row = int(bad.arg_true()[0])
        col = next(i for i, c in enumerate(flags.columns) if flags[c][row])
        value = str(frame[frame.columns[col]][row])
        char = next(ch for ch in value if ch in "\ufffe\uffff" or (ord(ch) < 0x20 and ch not in "\t\n\r"))
        record = int(records[row]) if records is not None else self._count + row + 1
        label = self._labels[col]
        raise WriteError(f"record {record}, field {label!r}: the character U+{ord(char):04X} cannot be "
                         f"written to XML 1.0; remove it (or write CSV or XLSX)")

    def close(self) -> None:
        """Write the root's end tag; the sink stays open."""
        if not self._closed:
            self._sink.write(f"</{self._root}>\n".encode())
            self._closed = True


def open_writer(sink: BinaryIO, *, labels: tuple[str, ...], options: WriteOptions) -> XmlWriter:
    """Start an XML file on ``sink`` with these labels (tags from ``options.xml_tags`` if given)."""
    return XmlWriter(sink, labels=labels, options=options)


# --------------------------------------------------------------------------------------------- reading


class XmlReader:
    """An XML source: labels after a first pass, records in batches from a second."""

    info: SourceInfo

    def __init__(self, stream: BinaryIO, *, source: str, options: ReadOptions, fast: bool = True,
                 chunk_bytes: int = 8 << 20) -> None:
        self._chunk_bytes = chunk_bytes
        self._stream = stream
        self._start = stream.tell()
        self._options = options
        self._source = source
        self._prolog: Prolog | None = None
        self._shape: Shape | None = None
        self._slow: LxmlRecords | None = None
        issues: list[Issue] = []
        found: tuple[tuple[str, ...], str, bool] | None = None
        if fast:
            try:
                found = self._fast_labels()
            except Bail:
                found = None
        if found is None:
            self._prolog = None
            slow = self._lxml()
            self._slow = slow
            labels, any_records = self._slow_labels(slow)
            if slow.encoding and slow.encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
                issues.append(Issue(code=IssueCode.NON_UTF8, severity=Severity.WARNING, value=slow.encoding,
                                    message=f"the XML is encoded as {slow.encoding}; CG wants UTF-8 "
                                            f"(converting writes UTF-8)"))
            rtag = slow.rtag
        else:
            labels, rtag, any_records = found
        if not any_records:
            issues.append(Issue(code=IssueCode.EMPTY_FILE, severity=Severity.WARNING,
                                message=f"the XML has no <{rtag}> record holding a field (an empty <{rtag}> is "
                                        f"not a record)"))
        stream.seek(0, 2)
        size = stream.tell() - self._start
        self.info = SourceInfo(source=source, format="xml", labels=labels, bytes=size, record_tag=rtag,
                               issues=tuple(issues))

    def _lxml(self) -> LxmlRecords:
        # huge-tree mode only when max_field_bytes is raised past lxml's own text limit
        return LxmlRecords(self._stream, start=self._start, source=self._source, option=self._options.record_tag,
                           huge=self._options.max_field_bytes > LXML_TEXT_LIMIT)

    # -- pass one ---------------------------------------------------------------------------------

    def _fast_labels(self) -> tuple[tuple[str, ...], str, bool]:
        self._stream.seek(self._start)
        prolog = read_prolog(self._stream.read(1 << 16))
        rtag = record_tag(prolog.root, self._options.record_tag, self._source)
        if rtag == prolog.root:
            raise Bail
        self._stream.seek(self._start)
        shape: Shape | None = None
        for _, found in chunks(self._stream, prolog=prolog, rtag=rtag, values=False,
                               chunk_bytes=self._chunk_bytes):
            shape = found
        self._prolog = prolog
        self._shape = shape
        return (shape.names if shape else ()), rtag, shape is not None

    def _slow_labels(self, slow: LxmlRecords) -> tuple[tuple[str, ...], bool]:
        names: dict[str, None] = {}
        any_records = False
        first: Issue | None = None
        for _, fields, found in slow.items():
            if fields is not None:
                any_records = True
                first = first or next(iter(found), None)
                for name in fields:
                    names.setdefault(name, None)
        if any_records and not names:
            # records that hold only attributes: no field to carry them in, so no table to report them on
            where = f"line {first.line}: " if first is not None else ""
            raise ReadError(f"{self._source}: {where}the <{slow.rtag}> elements hold attributes but no field "
                            f"element; CG's XML holds values only in elements: make each attribute a field")
        return tuple(names), any_records

    # -- pass two ---------------------------------------------------------------------------------

    def batches(self) -> Iterator[RecordBatch]:
        """Yield the records in order, in batches of at most ``ReadOptions.batch_size``."""
        if self._prolog is None or self._shape is None:
            slow = self._slow or self._lxml()
            yield from self._slow_batches(slow, skip=0)
            return
        done = 0
        try:
            for batch in self._fast_batches(self._prolog, self._shape):
                yield batch
                done += batch.frame.height
        except Bail:
            # Only a value lxml rejects (a control character, an unknown entity ...) gets here: lxml
            # reads again from the start, skipping the records already given, and explains.
            slow = self._lxml()
            yield from self._slow_batches(slow, skip=done)

    def _fast_batches(self, prolog: Prolog, shape: Shape) -> Iterator[RecordBatch]:
        columns = self.info.columns
        size = max(1, self._options.batch_size)
        self._stream.seek(self._start)
        pending: list[tuple[pl.DataFrame, pl.Series]] = []
        held = 0
        first = 1
        for chunk, _ in chunks(self._stream, prolog=prolog, rtag=self.info.record_tag or "", values=True,
                               shape=shape, chunk_bytes=self._chunk_bytes):
            if chunk.frame is None or chunk.lines is None or chunk.count == 0:
                continue
            pending.append((chunk.frame.rename(dict(zip(chunk.frame.columns, columns, strict=True))),
                            chunk.lines))
            held += chunk.count
            while held >= size:
                frame, lines, pending, held = _take(pending, size)
                yield RecordBatch(frame=frame, lines=lines, first_record=first)
                first += frame.height
        if held:
            frame, lines, pending, held = _take(pending, held)
            yield RecordBatch(frame=frame, lines=lines, first_record=first)

    def _slow_batches(self, slow: LxmlRecords, *, skip: int) -> Iterator[RecordBatch]:
        columns = self.info.columns
        labels = self.info.labels
        size = max(1, self._options.batch_size)
        values: list[list[str]] = [[] for _ in labels]
        lines: list[int] = []
        issues: list[Issue] = []
        first = skip + 1
        seen = 0
        for line, fields, found in slow.items():
            if fields is None:
                if seen >= skip:
                    issues.extend(found)
                continue
            seen += 1
            if seen <= skip:
                continue
            issues.extend(_numbered(found, first + len(lines)))
            lines.append(line)
            for label, column in zip(labels, values, strict=True):
                column.append(fields.get(label, ""))
            if len(lines) >= size:
                yield _batch(columns, values, lines, issues, first)
                first += len(lines)
                values = [[] for _ in labels]
                lines = []
                issues = []
        if lines or issues:
            yield _batch(columns, values, lines, issues, first)


def _numbered(issues: list[Issue], record: int) -> list[Issue]:
    return [Issue(code=i.code, severity=i.severity, message=i.message, record=record, line=i.line,
                  field=i.field, value=i.value) for i in issues]


def _batch(columns: tuple[str, ...], values: list[list[str]], lines: list[int], issues: list[Issue],
           first: int) -> RecordBatch:
    frame = pl.DataFrame({c: pl.Series(c, v, dtype=pl.String) for c, v in zip(columns, values, strict=True)})
    return RecordBatch(frame=frame, lines=pl.Series("line", lines, dtype=pl.Int64), first_record=first,
                       issues=tuple(issues))


def _take(pending: list[tuple[pl.DataFrame, pl.Series]],
          size: int) -> tuple[pl.DataFrame, pl.Series, list[tuple[pl.DataFrame, pl.Series]], int]:
    frames: list[pl.DataFrame] = []
    lines: list[pl.Series] = []
    need = size
    rest: list[tuple[pl.DataFrame, pl.Series]] = []
    for i, (frame, line) in enumerate(pending):
        if frame.height <= need:
            frames.append(frame)
            lines.append(line)
            need -= frame.height
            if need == 0:
                rest = pending[i + 1:]
                break
        else:
            frames.append(frame.head(need))
            lines.append(line.head(need))
            rest = [(frame.slice(need), line.slice(need)), *pending[i + 1:]]
            break
    frame = pl.concat(frames, rechunk=True) if len(frames) > 1 else frames[0]
    line_series = (pl.concat(lines, rechunk=True) if len(lines) > 1 else lines[0]).alias("line")
    held = sum(f.height for f, _ in rest)
    return frame, line_series, rest, held


def open_reader(stream: BinaryIO, *, fmt: str = "xml", source: str, options: ReadOptions,
                fast: bool = True, chunk_bytes: int = 8 << 20) -> XmlReader:
    """Open an XML stream (seekable, or it is copied to a temporary file) and find its labels.

    ``fast`` False forces the lxml path and ``chunk_bytes`` sets the fast path's read size: both exist
    for tests.
    """
    del fmt
    stream = seekable(stream)
    return XmlReader(stream, source=source, options=options, fast=fast, chunk_bytes=chunk_bytes)
