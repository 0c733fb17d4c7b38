"""The header an output carries: the labels read, a record type's field names, XML element names.

Every output of a command writes the same header for the same input and options, whatever its format: with a
record type (or schema), a label that is an alias or a case variant of a field is written as the field's
name (CSV, XLSX) or its XML tag (XML); without one, labels are written as read. XML then needs element
names: a label that is none is written under the name :func:`cgformat.formats.xml.xml_names` makes of it
(``First Name`` -> ``First_Name``, a blank label -> ``_``). Every label written under another name is
reported (a ``renamed-label`` warning naming both), as reading the output back gives the new name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model import Issue, IssueCode, Severity, unique_columns

if TYPE_CHECKING:
    from .schema import Schema

__all__ = ["Header", "Renamed", "output_header", "shown_names"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Renamed:
    """A column written under another label: ``column`` (1-based), the ``label`` read, the name ``written``,
    and ``why``: ``field-name`` (the record type's name for an alias or case variant) or ``xml-name`` (the
    label is no XML element name)."""

    column: int
    label: str
    written: str
    why: str

    def to_dict(self) -> dict[str, object]:
        """The rename as JSON outputs show it."""
        return {"column": self.column, "label": self.label, "written": self.written, "why": self.why}

    def describe(self) -> str:
        """One line for a person: which column, the label read, the name written and why."""
        read = repr(self.label) if self.label.strip() else "(no label)"
        why = "the record type's name for it" if self.why == "field-name" else "no XML element name"
        return f"column {self.column} {read} written as {self.written!r} ({why})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    """The labels an output writes (XML: its element names) and each label written under another name."""

    labels: tuple[str, ...]
    renamed: tuple[Renamed, ...] = ()
    read: tuple[str, ...] = ()          # the labels read, in order

    def issues(self, *, line: int | None = None) -> list[Issue]:
        """One ``renamed-label`` warning per renamed column, at the header's ``line``."""
        out: list[Issue] = []
        columns = unique_columns(self.read)
        for r in self.renamed:
            read = f"{r.label!r}" if r.label.strip() else "(no label)"
            if r.why == "field-name":
                message = f"column {r.column} {read} is written as the record type's field name {r.written!r}"
            else:
                message = (f"column {r.column} {read} is no XML element name: it is written as <{r.written}>, "
                           f"so reading the XML back gives {r.written!r}, not the label")
            out.append(Issue(code=IssueCode.RENAMED_LABEL, severity=Severity.WARNING, line=line,
                             field=columns[r.column - 1], value=r.written, message=message))
        return out


def output_header(labels: Sequence[str], fmt: str, *, schema: Schema | None = None, source_xml: bool = False,
                  xml_tags: Sequence[str] | None = None) -> Header:
    """The header an output of format ``fmt`` writes for ``labels``.

    With ``schema``, labels resolved to a field (alias, case or spacing variant; not a second column for a
    field already given) become the field's name, or its XML tag for XML; ``source_xml`` says the labels are
    XML element names (a field's exact name is then its tag). ``xml_tags`` (XML only) gives the element names
    outright, one per label. XML names are then made valid and unique.
    """
    labels = tuple(labels)
    names = list(labels)
    why = ["" for _ in labels]
    if xml_tags is not None and fmt == "xml":
        names = list(xml_tags)
    elif schema is not None:
        for i, m in enumerate(schema.resolve(labels, xml=source_xml).columns):
            if m.field is not None and m.how != "duplicate":
                names[i] = m.field.tag if fmt == "xml" else m.field.name
    for i, (label, name) in enumerate(zip(labels, names, strict=True)):
        if name != label:
            why[i] = "field-name"
    if fmt == "xml":
        from .formats.xml import xml_names

        valid, _ = xml_names(names)
        for i, (name, made) in enumerate(zip(names, valid, strict=True)):
            if made != name:
                why[i] = "xml-name"
        names = list(valid)
    renamed = tuple(Renamed(column=i + 1, label=label, written=name, why=why[i])
                    for i, (label, name) in enumerate(zip(labels, names, strict=True)) if name != label)
    return Header(labels=tuple(names), renamed=renamed, read=labels)


def shown_names(columns: Sequence[str], shown: Sequence[str]) -> dict[str, str]:
    """For each frame column (the labels made unique), how an output whose header is ``shown`` names it: its
    label there, or ``column N`` (1-based) where that label is blank, ``LABEL (column N)`` where it repeats.
    """
    counts = Counter(shown)
    out: dict[str, str] = {}
    for position, (column, label) in enumerate(zip(columns, shown, strict=True), start=1):
        if not label.strip():
            out[column] = f"column {position}"
        elif counts[label] > 1:
            out[column] = f"{label} (column {position})"
        else:
            out[column] = label
    return out
