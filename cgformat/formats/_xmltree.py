"""XML records read with lxml's ``iterparse``: every record's fields, with the issues of its structure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from lxml import etree

from ..errors import ReadError
from ..model import Issue, IssueCode, Severity
from ._xmlguard import PARSER_OPTIONS, refuse_entities, syntax_error

__all__ = ["LxmlRecords", "record_tag"]

_AUTO_TAGS = {"records": "record", "RECORDS": "RECORD"}
_XML_WS = " \t\r\n"


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def record_tag(root: str, option: str | None, source: str) -> str:
    """The record element's tag: the option if given, else ``record``/``RECORD`` by the root's name."""
    if option:
        return option
    try:
        return _AUTO_TAGS[root]
    except KeyError:
        raise ReadError(f"{source}: the root element is <{root}>, not <records> or <RECORDS>; say which "
                        f"element is a record (record_tag=TAG)", options=("record_tag",)) from None


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


class LxmlRecords:
    """The lxml path: every record with its fields and issues; used for anything outside the fast subset."""

    def __init__(self, stream: BinaryIO, *, start: int, source: str, option: str | None,
                 huge: bool = False) -> None:
        # huge: lxml's huge-tree mode, only when max_field_bytes is raised past lxml's own text limit
        self.parser_options = {**PARSER_OPTIONS, "huge_tree": huge}
        self.stream = stream
        self.start = start
        self.source = source
        self.root = self._root()
        self.encoding: str | None = None  # known once items() has read the whole document
        self.rtag = record_tag(self.root, option, source)

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
            raise syntax_error(self.source, error) from None
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
            raise syntax_error(self.source, error) from None
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
