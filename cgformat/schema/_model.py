"""The schema as a value: a record type's fields, row rules, and how a file's header resolves to them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import SchemaError
from ..model import Issue, IssueCode, Severity, unique_columns

__all__ = ["CG_DATE", "CG_DATETIME", "DEFAULT_MAX_LENGTH", "FIELD_KINDS", "FIELD_ROLES", "NORMALIZER_NAMES",
           "ColumnMatch", "Field", "Resolution", "Rule", "Schema"]

CG_DATETIME = "%Y-%m-%d %H:%M:%S"
"""CG's one datetime format (spec §2): ``YYYY-MM-DD HH:MM:SS``, 24 h."""
CG_DATE = "%Y-%m-%d"
DEFAULT_MAX_LENGTH = 128
"""CG's per-field limit (spec §2)."""

NORMALIZER_NAMES = ("control", "strip", "nfc", "mojibake", "email", "phone", "datetime", "date", "yes_no", "integer",
                    "amount")
"""The normalizers a schema may name (implemented in :mod:`cgformat.normalize`, a higher layer)."""

FIELD_KINDS = ("text", "email", "phone", "integer", "number", "boolean", "date", "datetime")
"""A field's ``kind``: which cell checks apply."""
FIELD_ROLES = ("id", "name", "contact", "segment", "text")
"""A field's ``role``: how severe an over-long value is."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """One column of a record type: its canonical name (CG's XML tag by default) and its rules.

    ``kind`` says which cell checks apply: ``text``, ``email``, ``phone``, ``integer``, ``number``,
    ``boolean``, ``date`` or ``datetime``. ``role`` sets the severity of over-long values: an error for
    ids, names, contact and segment fields, a warning for free ``text`` (CG's 128-character rule).
    ``required`` means every record needs a value (and so the column must be present).
    """

    name: str
    type: str = "string"
    kind: str = "text"
    format: str | None = None               # strptime pattern for date / datetime fields
    title: str = ""
    description: str = ""
    required: bool = False
    column_required: bool = False           # the column must be present even if values may be empty
    enum: tuple[str, ...] | None = None
    enum_ignore_case: bool = False
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = DEFAULT_MAX_LENGTH
    pattern: str | None = None
    unique: bool = False
    xml_tag: str = ""
    aliases: tuple[str, ...] = ()
    normalizers: tuple[str, ...] = ()
    role: str = "segment"
    severities: tuple[tuple[str, Severity], ...] = ()

    def __post_init__(self) -> None:
        # a kind or role no check knows would pass every value unchecked: refused, as the schema loader does
        if self.kind not in FIELD_KINDS:
            raise SchemaError(f"field {self.name!r}: kind {self.kind!r} is not one of {', '.join(FIELD_KINDS)}")
        if self.role not in FIELD_ROLES:
            raise SchemaError(f"field {self.name!r}: role {self.role!r} is not one of {', '.join(FIELD_ROLES)}")

    @property
    def tag(self) -> str:
        """The XML element name for this field (the name unless the schema says otherwise)."""
        return self.xml_tag or self.name

    def severity(self, code: str, default: Severity) -> Severity:
        """The severity of ``code`` on this field: the schema's override, else ``default``."""
        for key, value in self.severities:
            if key == code:
                return value
        return default

    def to_dict(self) -> dict[str, Any]:
        """The field as a Table Schema field descriptor (cgformat's additions under ``cgformat``)."""
        constraints: dict[str, Any] = {}
        if self.required:
            constraints["required"] = True
        for key, value in (("minLength", self.min_length), ("maxLength", self.max_length),
                           ("minimum", self.minimum), ("maximum", self.maximum), ("pattern", self.pattern)):
            if value is not None:
                constraints[key] = int(value) if isinstance(value, float) and value.is_integer() else value
        if self.enum is not None:
            constraints["enum"] = list(self.enum)
        if self.unique:
            constraints["unique"] = True
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.format:
            out["format"] = self.format
        elif self.kind == "email":
            out["format"] = "email"
        if self.title:
            out["title"] = self.title
        if self.description:
            out["description"] = self.description
        if constraints:
            out["constraints"] = constraints
        extra: dict[str, Any] = {"kind": self.kind, "role": self.role}
        if self.xml_tag and self.xml_tag != self.name:
            extra["xml_tag"] = self.xml_tag
        if self.aliases:
            extra["aliases"] = list(self.aliases)
        if self.normalizers:
            extra["normalizers"] = list(self.normalizers)
        if self.column_required and not self.required:
            extra["column_required"] = True
        if self.enum_ignore_case:
            extra["enum_ignore_case"] = True
        if self.severities:
            extra["severity"] = {k: str(v) for k, v in self.severities}
        out["cgformat"] = extra
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A check across the fields of one record.

    ``require-any``: at least one of ``fields`` has a value. ``requires``: when ``fields[0]`` has a value,
    ``fields[1]`` must have one too. ``not-after``: ``fields[0]`` is not later than ``fields[1]`` (both
    valid datetimes).
    """

    kind: str
    fields: tuple[str, ...]
    code: str
    severity: Severity = Severity.ERROR
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The rule as it appears in a schema file."""
        return {"rule": self.kind, "fields": list(self.fields), "code": self.code,
                "severity": str(self.severity), "message": self.message}


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnMatch:
    """How one column of a file resolved to a schema field.

    ``how`` is ``exact``, ``padded`` (the name with spaces around it), ``case`` (same name, other case),
    ``alias`` (a known alias or spelling),
    ``duplicate`` (a second column for a field already matched) or ``None`` (unknown column).
    """

    position: int                  # 1-based column position
    label: str                     # the header exactly as in the file
    column: str                    # the frame's column name (unique)
    field: Field | None
    how: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    """A file's header resolved against a schema: per-column matches, missing fields, header issues."""

    columns: tuple[ColumnMatch, ...]
    missing: tuple[Field, ...]
    issues: tuple[Issue, ...]

    @property
    def mapping(self) -> dict[str, str]:
        """Label -> canonical field name, for every column that resolved to a field (first occurrence)."""
        out: dict[str, str] = {}
        for m in self.columns:
            if m.field is not None and m.how != "duplicate":
                out.setdefault(m.label, m.field.name)
        return out

    def field_for(self, column: str) -> Field | None:
        """The field a frame column resolved to (``None`` for unknown and duplicate columns)."""
        for m in self.columns:
            if m.column == column:
                return m.field if m.how != "duplicate" else None
        return None


def _key(label: str) -> str:
    """A spelling-insensitive key: case-folded, letters and digits only ("E-mail" ~ "email")."""
    return re.sub(r"[\W_]+", "", label.casefold())


@dataclass(frozen=True, slots=True, kw_only=True)
class Schema:
    """A record type: its fields in CG's order, how strictly the header must match, and upload facts.

    ``fields_match`` is Table Schema's: ``exact`` (same names, same order), ``equal`` (same names),
    ``subset`` (every field present, extra columns allowed), ``superset`` (no extra columns) or
    ``partial`` (the built-ins: required fields present, unknown columns a warning).
    """

    name: str
    fields: tuple[Field, ...]
    title: str = ""
    description: str = ""
    fields_match: str = "partial"
    upload_path: str | None = None
    profile: str = "api"
    dedupe_key: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    missing_values: tuple[str, ...] = ("",)
    template: bool = False
    source: str | None = None
    mapped: tuple[tuple[str, str], ...] = ()   # a feed's own labels -> field names, resolved before all else

    def with_aliases(self, mapping: Mapping[str, str]) -> Schema:
        """This schema with ``mapping`` (a label -> a field name) resolved before the field names and
        aliases: a feed's own column names (``[columns]`` of its settings); each label used is reported as
        an ``alias-label``, and ``fix`` writes the field's name."""
        for label, name in mapping.items():
            if self.field(name) is None:
                raise SchemaError(f"column {label!r} is mapped to {name!r}, which is no field of {self.name}")
        return replace(self, mapped=(*((k, v) for k, v in self.mapped if k not in mapping), *mapping.items()))

    def field(self, name: str) -> Field | None:
        """The field with this canonical name, or ``None``."""
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def names(self) -> tuple[str, ...]:
        """The canonical field names in order."""
        return tuple(f.name for f in self.fields)

    def resolve(self, labels: Sequence[str], *, xml: bool = False) -> Resolution:
        """Match a header to the fields: exact name, alias, other case or spelling; report what differs.

        With a template (``fields_match`` exact), every difference is an error; with a built-in schema an
        alias or a case difference is a warning (``cgformat fix`` renames them) and unknown columns warn.
        ``xml``: the labels are XML element names, so a field's exact name is its XML tag (CSV and Excel
        headers may differ from the tags, spec §2).
        """
        columns = unique_columns(labels)
        strict = self.template or self.fields_match in ("exact", "equal", "superset")
        whose = "the template's" if self.template else f"the {self.name} type's"
        exact = {(f.tag if xml else f.name): f for f in self.fields}
        alias = {a: f for f in self.fields for a in f.aliases}
        by_key: dict[str, Field] = {}
        for f in self.fields:
            by_key.setdefault(_key(f.name), f)
        for f in self.fields:
            for a in f.aliases:
                by_key.setdefault(_key(a), f)
        taken: set[str] = set()
        matches: list[ColumnMatch] = []
        issues: list[Issue] = []
        line = 1
        # pass 1: the feed's own mapping, then exact names, win their field before any alias can, whatever
        # the column order
        first: dict[int, Field] = {}
        mapped = {label: hit for label, name in self.mapped if (hit := self.field(name)) is not None}
        for table in (mapped, exact):
            for i, label in enumerate(labels):
                hit = table.get(label)
                if hit is not None and hit.name not in taken and i not in first:
                    first[i] = hit
                    taken.add(hit.name)
        for i, (label, column) in enumerate(zip(labels, columns, strict=True)):
            pos = i + 1
            if i in first and label in mapped and label != (first[i].tag if xml else first[i].name):
                matches.append(ColumnMatch(position=pos, label=label, column=column, field=first[i],
                                           how="alias"))
                issues.append(Issue(
                    code=IssueCode.ALIAS_LABEL, severity=Severity.ERROR if strict else Severity.WARNING,
                    line=line, field=column, value=label,
                    message=f"column {pos} {label!r} read as field {first[i].name!r} (mapped in the settings' "
                    f"[columns]); `cgformat fix` renames it"))
                continue
            if i in first:
                matches.append(ColumnMatch(position=pos, label=label, column=column, field=first[i],
                                           how="exact"))
                continue
            stripped = label.strip()
            cand = exact.get(label) or alias.get(label) or alias.get(stripped) or exact.get(stripped)
            if cand is None and stripped:
                cand = by_key.get(_key(stripped))
            if cand is None:
                matches.append(ColumnMatch(position=pos, label=label, column=column, field=None, how=None))
                continue
            if cand.name in taken:
                matches.append(ColumnMatch(position=pos, label=label, column=column, field=cand,
                                           how="duplicate"))
                if label != cand.name or any(name == cand.name for _, name in self.mapped):
                    issues.append(Issue(
                        code=IssueCode.DUPLICATE_LABEL, severity=Severity.ERROR, line=line, field=column,
                        value=label, message=f"column {pos} {label!r} is another column for field "
                        f"{cand.name}, already given by an earlier column: keep one of them"))
                continue
            taken.add(cand.name)
            own = cand.tag if xml else cand.name
            if stripped == own:
                how = "padded"          # reported as padded-label by the reader or the validator
            elif stripped.casefold() == own.casefold():
                how = "case"
            else:
                how = "alias"
            matches.append(ColumnMatch(position=pos, label=label, column=column, field=cand, how=how))
            severity = Severity.ERROR if strict else Severity.WARNING
            if how == "padded" and not strict:
                continue
            if how in ("case", "padded"):
                issues.append(Issue(
                    code=IssueCode.LABEL_CASE, severity=severity, line=line, field=column, value=label,
                    message=f"column {pos} {label!r} differs from field {cand.name!r} in case or spaces"
                    + (f"; {whose} header must match exactly" if strict else "")
                    + "; `cgformat fix` renames it"))
            else:
                issues.append(Issue(
                    code=IssueCode.ALIAS_LABEL, severity=severity, line=line, field=column, value=label,
                    message=f"column {pos} {label!r} read as field {cand.name!r}"
                    + (f"; {whose} header says {cand.name!r}" if strict else "")
                    + "; `cgformat fix` renames it"))
        present = {m.field.name for m in matches if m.field is not None and m.how != "duplicate"}
        need_all = self.template or self.fields_match in ("exact", "equal", "subset")
        missing = tuple(f for f in self.fields if f.name not in present)
        for f in missing:
            if need_all or f.required or f.column_required:
                if self.template:
                    how_to = " (the template has it; add it, even empty: `cgformat fix` does)"
                elif self.fields_match == "exact" and not f.required:
                    how_to = (f": {whose} header has it, even empty (its values may be empty); "
                              f"`cgformat fix` adds it")
                elif f.required:
                    how_to = "; add it, with its values"
                else:
                    how_to = "; add it (CG needs every column of the customer's template, even empty)"
                issues.append(Issue(
                    code=IssueCode.MISSING_LABEL, severity=Severity.ERROR, line=line, field=f.name,
                    message=f"{'required ' if f.required or self.template else ''}column {f.name!r} is missing"
                    + how_to))
        extra_sev = Severity.ERROR if (self.template or self.fields_match in ("exact", "equal", "superset")) \
            else Severity.WARNING
        for m in matches:
            if m.field is None:
                issues.append(Issue(
                    code=IssueCode.EXTRA_LABEL, severity=extra_sev, line=line, field=m.column, value=m.label,
                    message=f"column {m.position} {m.label!r} is not a field of {self.name}"
                    + ((f"; remove it or fix its name to {whose} (`cgformat fix --drop-extra` leaves it out)")
                       if extra_sev is Severity.ERROR else "; CG only keeps it if the customer's mapping has it")))
        if self.template or self.fields_match == "exact":
            order = [m for m in matches if m.field is not None and m.how != "duplicate"]
            want = [f.name for f in self.fields if f.name in present]
            got = [m.field.name for m in order if m.field is not None]
            if got != want:
                at = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
                m = order[at]
                issues.append(Issue(
                    code=IssueCode.LABEL_ORDER, severity=Severity.ERROR, line=line, field=m.column,
                    value=m.label, message=f"column {m.position} {m.label!r} is out of order: expected "
                    f"{want[at]!r} there; the order must be {', '.join(self.names)} (`cgformat fix` puts "
                    f"the columns in it)"))
        return Resolution(columns=tuple(matches), missing=missing, issues=tuple(issues))

    def xml_tags_for(self, labels: Sequence[str]) -> tuple[str, ...]:
        """The XML tag of the field each label resolves to (aliases included), else the label itself."""
        res = self.resolve(labels)
        return tuple(m.field.tag if (m.field is not None and m.how != "duplicate") else m.label
                     for m in res.columns)

    def canonical_labels(self, labels: Sequence[str]) -> tuple[str, ...]:
        """The labels with aliases and case variants renamed to canonical field names (what fix writes)."""
        res = self.resolve(labels)
        return tuple(m.field.name if (m.field is not None and m.how in ("alias", "case", "padded")) else m.label
                     for m in res.columns)

    def to_dict(self) -> dict[str, Any]:
        """The schema as a Table Schema descriptor (what a schema file holds)."""
        extra: dict[str, Any] = {"profile": self.profile}
        if self.upload_path:
            extra["upload_path"] = self.upload_path
        if self.dedupe_key:
            extra["dedupe_key"] = list(self.dedupe_key)
        if self.rules:
            extra["rules"] = [r.to_dict() for r in self.rules]
        if self.template:
            extra["template"] = True
        out: dict[str, Any] = {"name": self.name}
        if self.title:
            out["title"] = self.title
        if self.description:
            out["description"] = self.description
        out["fields"] = [f.to_dict() for f in self.fields]
        out["fieldsMatch"] = self.fields_match
        out["missingValues"] = list(self.missing_values)
        out["cgformat"] = extra
        return out
