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
    vectorised scanner (``_xmlfast``, about six times faster). Anything else is read by lxml's
    ``iterparse`` with a hardened parser (``resolve_entities=False, no_network=True, load_dtd=False,
    huge_tree=False``; huge-tree mode only when ``ReadOptions.max_field_bytes`` is raised past lxml's
    10,000,000-byte text limit, whose breach is a :class:`LimitExceeded`), clearing each record so
    memory stays flat; if the scanner meets a problem only
    in its second pass (a stray text, a character XML forbids), lxml takes over from the first record not
    yet given, so the result is the same. A DOCTYPE that declares entities is refused
    (:class:`ReadError`): entities are never expanded. Not-well-formed XML raises :class:`ReadError`
    naming the line and column.

    Issues: a record without child elements -> ``blank-row`` (warning, not a record); a field with child
    elements -> ``nested-element`` (error; its text content is joined); the same field twice in a record
    -> ``repeated-element`` (error; the first is kept); an attribute on a record or field ->
    ``xml-attribute`` (error: CG's XML has none, so its value cannot be carried; namespace declarations
    and ``xsi:nil="true"`` on an empty field are no data); text or elements outside any field ->
    ``stray-content`` (warning, ignored); an input not in UTF-8 -> ``non-utf8`` (warning); no records -> ``empty-file``.

Writing
    ``<?xml version='1.0' encoding='utf-8'?>`` and a newline, ``<records>`` and a newline, then one line
    per record, ``<record><Tag>value</Tag>...</record>``, every field written even when empty
    (``<Email></Email>``, never ``<Email/>``), and ``</records>`` and a newline. ``&``, ``<`` and ``>``
    are escaped as entities and a carriage return as ``&#13;`` (a raw one would be read back as a line
    feed); nothing else is changed. Tags are ``WriteOptions.xml_tags`` if given, else the labels, made
    valid XML names by :func:`xml_names`. A value XML 1.0 cannot hold (control characters other than tab,
    line feed and carriage return; U+FFFE, U+FFFF) raises :class:`WriteError` naming the record and field
    before anything of its batch is written. :func:`record_sizes` and :func:`envelope_size` are exact:
    ``envelope_size + sum(record_sizes) == len(file)``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

import polars as pl
from lxml import etree

from ..errors import LimitExceeded, ReadError, WriteError
from ..model import Issue, IssueCode, RecordBatch, Severity, SourceInfo
from . import ReadOptions, WriteOptions
from ._common import seekable
from ._xmlfast import NAME_CHAR, NAME_RE, NAME_START, Bail, Prolog, Shape, chunks, read_prolog

__all__ = ["XmlReader", "XmlWriter", "envelope_size", "is_xml_name", "open_reader", "open_writer",
           "record_sizes", "xml_names"]

DECLARATION = b"<?xml version='1.0' encoding='utf-8'?>\n"
_AUTO_TAGS = {"records": "record", "RECORDS": "RECORD"}
_BAD_VALUE = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"
_WRITE_SLICE = 100_000
_XML_WS = " \t\r\n"

# --------------------------------------------------------------------------------------------- names


@functools.lru_cache(maxsize=4096)
def _lxml_accepts(name: str) -> bool:
    try:
        etree.Element(name)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _is_name_char(char: str, *, start: bool) -> bool:
    cls = NAME_START if start else NAME_CHAR
    return re.fullmatch(f"[{cls}]", char) is not None and _lxml_accepts(char if start else "a" + char)


def is_xml_name(name: str) -> bool:
    """Whether ``name`` can be an element name as written: an XML name, no colon, not starting ``xml``."""
    return (NAME_RE.fullmatch(name) is not None and name[:3].lower() != "xml"
            and _lxml_accepts(name))


def _mangle(label: str) -> str:
    name = "".join(c if _is_name_char(c, start=False) else "_" for c in label)
    if not name or not _is_name_char(name[0], start=True) or name[:3].lower() == "xml":
        name = "_" + name
    return name


def xml_names(labels: Sequence[str]) -> tuple[tuple[str, ...], list[Issue]]:
    """Element names for these labels, and a ``renamed-label`` warning for each label that had to change.

    A valid label is kept as it is. Otherwise every character that cannot be in an XML name (space,
    colon, punctuation ...) becomes ``_``; a name that is empty, starts with a character that cannot
    start a name (a digit, ``-``, ``.``) or starts with ``xml`` (any case; reserved) gets a leading ``_``.
    A name already taken gets ``_2``, ``_3`` ... appended. So ``"Order Date"`` -> ``Order_Date``,
    ``"1st"`` -> ``_1st``, ``""`` -> ``_``, ``"xmlId"`` -> ``_xmlId``, ``"a:b"`` -> ``a_b``.
    """
    taken = {label for label in labels if is_xml_name(label)}
    used: set[str] = set()
    names: list[str] = []
    issues: list[Issue] = []
    for position, label in enumerate(labels, start=1):
        name = label if is_xml_name(label) else _mangle(label)
        if name in used or (name != label and name in taken):
            n = 1
            while True:
                n += 1
                candidate = f"{name}_{n}"
                if candidate not in used and candidate not in taken:
                    break
            name = candidate
        used.add(name)
        names.append(name)
        if name != label:
            issues.append(Issue(code=IssueCode.RENAMED_LABEL, severity=Severity.WARNING, field=label,
                                value=name, message=f"column {position} label {label!r} is no valid XML "
                                                    f"element name; it is written as <{name}>"))
    return tuple(names), issues


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


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _record_tag(root: str, option: str | None, source: str) -> str:
    if option:
        return option
    try:
        return _AUTO_TAGS[root]
    except KeyError:
        raise ReadError(f"{source}: the root element is <{root}>, not <records> or <RECORDS>; say which "
                        f"element is a record (option record_tag, CLI --record-tag TAG)") from None


LXML_TEXT_LIMIT = 10_000_000
"""lxml refuses a text node longer than this unless its huge-tree mode is on (see ``ReadOptions``)."""


def _syntax_error(source: str, error: etree.XMLSyntaxError) -> ReadError:
    line, column = error.position if error.position else (error.lineno, error.offset)
    message = error.msg or str(error)
    if "Text node too long" in message or "huge text node" in message:
        return LimitExceeded(f"{source}: line {line}: a text longer than {LXML_TEXT_LIMIT:,} bytes, over the limit "
                             f"max_field_bytes; raise max_field_bytes (CLI --max-field-bytes) above "
                             f"{LXML_TEXT_LIMIT:,} to read it anyway")
    if "Excessive depth" in message:
        return ReadError(f"{source}: line {line}, column {column}: elements nested more than 256 levels deep; "
                         f"a record is <record><Field>text</Field>...</record>")
    return ReadError(f"{source}: not well-formed XML at line {line}, column {column}: {message}")


_PROLOG_TOKEN = re.compile(rb"<!--.*?-->|<\?.*?\?>|<!DOCTYPE|<[^!?]", re.S)
_DOCTYPE_TOKEN = re.compile(rb'"[^"]*"|\'[^\']*\'|<!--.*?-->|<\?.*?\?>|<!ENTITY|\]\s*>|\[|>', re.S)
DOCTYPE_LIMIT = 1 << 20
"""The most bytes of prolog (declaration, comments, DOCTYPE) read to decide on entities before parsing."""


def _ascii_view(head: bytes) -> bytes:
    """``head`` as ASCII-compatible bytes: UTF-16 (by its BOM or its ``<`` and NUL pattern) decoded first."""
    for marks, codec in (((b"\xff\xfe", b"<\x00"), "utf-16-le"), ((b"\xfe\xff", b"\x00<"), "utf-16-be")):
        if head.startswith(marks):
            return head.decode(codec, errors="replace").encode("utf-8")
    return head


def refuse_entities(stream: BinaryIO, *, start: int, source: str) -> None:
    """Raise :class:`ReadError` when the prolog holds a DOCTYPE that declares entities.

    Decided on the bytes, before any parser sees them, so the answer and its message do not depend on the
    installed libxml2 (whose own amplification limits vary by release). Quoted literals, comments and
    processing instructions are skipped, so an ``<!ENTITY`` cannot hide behind them; a DOCTYPE still open
    after :data:`DOCTYPE_LIMIT` bytes is refused too.
    """
    stream.seek(start)
    head = _ascii_view(stream.read(DOCTYPE_LIMIT + 1))
    stream.seek(start)
    refusal = (f"{source}: the DOCTYPE declares entities; cgformat never expands entities (they can read "
               f"local files or explode in size): remove the DOCTYPE")
    found = None
    for match in _PROLOG_TOKEN.finditer(head):
        if match.group() == b"<!DOCTYPE":
            found = match
            break
        if not match.group().startswith((b"<!--", b"<?")):
            return  # the root element starts: no DOCTYPE
    if found is None:
        return
    in_subset = False
    for match in _DOCTYPE_TOKEN.finditer(head, found.end()):
        token = match.group()
        if token == b"<!ENTITY":
            raise ReadError(refusal)
        if token == b"[":
            in_subset = True
        elif token.startswith(b"]") or (token == b">" and not in_subset):
            return  # the DOCTYPE ends
    if len(head) > DOCTYPE_LIMIT:
        raise ReadError(f"{source}: the DOCTYPE runs past its first {DOCTYPE_LIMIT:,} bytes; an export needs "
                        f"no DOCTYPE: remove it")


_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False,
    "remove_comments": True, "remove_pis": True,
}


_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"


def _attributes(element: Any, field: str | None, line: int) -> list[Issue]:
    """An ``xml-attribute`` error per attribute of a record (``field`` None) or field element.

    CG's XML has no attributes, so a value held in one cannot be carried: the record is refused rather
    than converted without it. Namespace declarations are no attributes here; ``xsi:nil="true"`` on an
    empty field says what the empty value says, so it is no data either.
    """
    issues: list[Issue] = []
    tag = _local(element.tag)
    for key, value in element.attrib.items():
        if (field is not None and key == _XSI + "nil" and value.strip(_XML_WS) in ("true", "1")
                and not element.text and not len(element)):
            continue
        name = _local(key) if not key.startswith(_XSI) else "xsi:" + _local(key)
        issues.append(Issue(code=IssueCode.XML_ATTRIBUTE, severity=Severity.ERROR, line=line, field=field,
                            value=f"{name}={value!r}"[:80],
                            message=f"<{tag}> has the attribute {name}={value!r}; CG's XML holds values only in "
                                    f"elements, so it would be lost: make it a field (<{name}>...</{name}>)"))
    return issues


class _Slow:
    """The lxml path: every record with its fields and issues; used for anything outside the fast subset."""

    def __init__(self, stream: BinaryIO, *, start: int, source: str, option: str | None,
                 huge: bool = False) -> None:
        # huge: lxml's huge-tree mode, only when max_field_bytes is raised past lxml's own text limit
        self.parser_options = {**_PARSER_OPTIONS, "huge_tree": huge}
        self.stream = stream
        self.start = start
        self.source = source
        self.root = self._root()
        self.encoding: str | None = None  # known once items() has read the whole document
        self.rtag = _record_tag(self.root, option, source)

    def _root(self) -> str:
        refuse_entities(self.stream, start=self.start, source=self.source)
        try:
            for _, element in etree.iterparse(self.stream, events=("start",), **self.parser_options):
                docinfo = element.getroottree().docinfo
                dtd = docinfo.internalDTD
                if dtd is not None and list(dtd.entities()):
                    raise ReadError(f"{self.source}: the DOCTYPE declares entities; cgformat never expands "
                                    f"entities (they can read local files or explode in size): remove the "
                                    f"DOCTYPE")
                return _local(element.tag)
        except etree.XMLSyntaxError as error:
            raise _syntax_error(self.source, error) from None
        except etree.LxmlError as error:
            raise ReadError(f"{self.source}: cannot read the XML: {error}") from None
        raise ReadError(f"{self.source}: no XML element found")

    def items(self) -> Iterator[tuple[int, dict[str, str] | None, list[Issue]]]:
        """Yield ``(line, fields, issues)`` per record; ``fields`` None for issues outside records.

        Issues carry ``line`` and ``field`` but no ``record``: the caller numbers records.
        """
        self.stream.seek(self.start)
        rtag = self.rtag
        context = etree.iterparse(self.stream, events=("end",), tag=("{*}" + rtag, rtag),
                                  **self.parser_options)
        seen_parents: set[int] = set()
        try:
            for _, element in context:
                if any(_local(a.tag) == rtag for a in element.iterancestors()):
                    continue  # a record inside another record: the outer one reports it as nested
                parent = element.getparent()
                if parent is not None:
                    stray = self._before(element, parent, seen_parents)
                    if stray:
                        yield 0, None, stray
                yield self._record(element)
                element.clear(keep_tail=True)
            root = context.root
            if root is not None:
                self.encoding = root.getroottree().docinfo.encoding
        except etree.XMLSyntaxError as error:
            raise _syntax_error(self.source, error) from None
        except etree.LxmlError as error:
            raise ReadError(f"{self.source}: cannot read the XML: {error}") from None
        if root is not None:
            tail = self._after(root)
            if tail:
                yield 0, None, tail

    def _stray(self, line: int | None, what: str) -> Issue:
        return Issue(code=IssueCode.STRAY_CONTENT, severity=Severity.WARNING, line=line, value=what[:60],
                     message=f"{what[:60]!r} is outside any <{self.rtag}> field and is ignored")

    def _before(self, element: Any, parent: Any, seen: set[int]) -> list[Issue]:
        issues: list[Issue] = []
        if id(parent) not in seen:
            seen.add(id(parent))
            if parent.text and parent.text.strip(_XML_WS):
                issues.append(self._stray(parent.sourceline, parent.text.strip(_XML_WS)))
        previous = element.getprevious()
        siblings = []
        while previous is not None:
            siblings.append(previous)
            previous = previous.getprevious()
        for sibling in reversed(siblings):
            if _local(sibling.tag) != self.rtag:
                issues.append(self._stray(sibling.sourceline, f"<{_local(sibling.tag)}>"))
            if sibling.tail and sibling.tail.strip(_XML_WS):
                issues.append(self._stray(sibling.sourceline, sibling.tail.strip(_XML_WS)))
            parent.remove(sibling)
        return issues

    def _after(self, root: Any) -> list[Issue]:
        issues: list[Issue] = []
        if _local(root.tag) == self.rtag:
            return issues
        for element in root.iter():
            if element is root or not isinstance(element.tag, str):
                continue
            if _local(element.tag) == self.rtag:
                if element.tail and element.tail.strip(_XML_WS):
                    issues.append(self._stray(element.sourceline, element.tail.strip(_XML_WS)))
                continue
            has_records = any(_local(e.tag) == self.rtag for e in element.iter())
            if not has_records and not any(_local(a.tag) == self.rtag for a in element.iterancestors()):
                issues.append(self._stray(element.sourceline, f"<{_local(element.tag)}>"))
        if len(root) == 0 and root.text and root.text.strip(_XML_WS):
            issues.append(self._stray(root.sourceline, root.text.strip(_XML_WS)))
        return issues

    def _record(self, element: Any) -> tuple[int, dict[str, str] | None, list[Issue]]:
        line = int(element.sourceline or 0)
        issues: list[Issue] = _attributes(element, None, line)
        if element.text and element.text.strip(_XML_WS):
            issues.append(self._stray(line, element.text.strip(_XML_WS)))
        fields: dict[str, str] = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = _local(child.tag)
            if child.attrib:
                issues.extend(_attributes(child, name, line))
            if len(child):
                value = "".join(child.itertext())
                issues.append(Issue(code=IssueCode.NESTED_ELEMENT, severity=Severity.ERROR, line=line,
                                    field=name, value=value[:80],
                                    message=f"<{name}> holds elements, not just text; their text is "
                                            f"joined: make it a plain text element"))
            else:
                value = child.text or ""
            if name in fields:
                issues.append(Issue(code=IssueCode.REPEATED_ELEMENT, severity=Severity.ERROR, line=line,
                                    field=name, value=value[:80],
                                    message=f"<{name}> appears more than once in this record; the first "
                                            f"is kept: merge or remove the others"))
            else:
                fields[name] = value
            if child.tail and child.tail.strip(_XML_WS):
                issues.append(self._stray(line, child.tail.strip(_XML_WS)))
        if not fields and not element.attrib and not any(isinstance(c.tag, str) for c in element):
            issues.append(Issue(code=IssueCode.BLANK_ROW, severity=Severity.WARNING, line=line,
                                message=f"an empty <{self.rtag}> element; it is not a record"))
            return line, None, issues
        return line, fields, issues


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
        self._slow: _Slow | None = None
        issues: list[Issue] = []
        found: tuple[tuple[str, ...], str, bool] | None = None
        if fast:
            try:
                found = self._fast_labels()
            except Bail:
                found = None
        if found is None:
            self._prolog = None
            slow = _Slow(stream, start=self._start, source=source, option=options.record_tag,
                         huge=options.max_field_bytes > LXML_TEXT_LIMIT)
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

    # -- pass one ---------------------------------------------------------------------------------

    def _fast_labels(self) -> tuple[tuple[str, ...], str, bool]:
        self._stream.seek(self._start)
        prolog = read_prolog(self._stream.read(1 << 16))
        rtag = _record_tag(prolog.root, self._options.record_tag, self._source)
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

    def _slow_labels(self, slow: _Slow) -> tuple[tuple[str, ...], bool]:
        names: dict[str, None] = {}
        any_records = False
        for _, fields, _ in slow.items():
            if fields is not None:
                any_records = True
                for name in fields:
                    names.setdefault(name, None)
        return tuple(names), any_records

    # -- pass two ---------------------------------------------------------------------------------

    def batches(self) -> Iterator[RecordBatch]:
        """Yield the records in order, in batches of at most ``ReadOptions.batch_size``."""
        if self._prolog is None or self._shape is None:
            slow = self._slow or _Slow(self._stream, start=self._start, source=self._source,
                                       huge=self._options.max_field_bytes > LXML_TEXT_LIMIT,
                                       option=self._options.record_tag)
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
            slow = _Slow(self._stream, start=self._start, source=self._source,
                         huge=self._options.max_field_bytes > LXML_TEXT_LIMIT,
                         option=self._options.record_tag)
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

    def _slow_batches(self, slow: _Slow, *, skip: int) -> Iterator[RecordBatch]:
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
