"""Schemas: what the columns of a record type are called, in which order, and what their values must be.

A schema is a Frictionless **Table Schema** descriptor (``fields`` with ``type``, ``format`` and
``constraints``; ``missingValues``; ``fieldsMatch``; ``primaryKey``) with everything cgformat adds under one
``"cgformat"`` key per schema and per field: XML tag, header aliases, normalizers, severity overrides,
upload path, limit profile, de-duplication key and row rules. Built-in schemas live in ``schemas/``;
users bring their own file, or the template CG lets them download (:func:`schema_from_template`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import SchemaError
from .model import Issue, IssueCode, Severity, unique_columns

__all__ = [
    "CG_DATETIME",
    "DEFAULT_MAX_LENGTH",
    "ColumnMatch",
    "Field",
    "Resolution",
    "Rule",
    "Schema",
    "list_schemas",
    "load_schema",
    "schema_from_labels",
    "schemas_dir",
]

CG_DATETIME = "%Y-%m-%d %H:%M:%S"
"""CG's one datetime format (spec §2): ``YYYY-MM-DD HH:MM:SS``, 24 h."""
CG_DATE = "%Y-%m-%d"
DEFAULT_MAX_LENGTH = 128
"""CG's per-field limit (spec §2)."""

_TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "any")
_KINDS = ("text", "email", "phone", "integer", "number", "boolean", "date", "datetime")
_ROLES = ("id", "name", "contact", "segment", "text")
_FIELDS_MATCH = ("exact", "equal", "subset", "superset", "partial")
_RULES = ("require-any", "requires", "not-after")
NORMALIZER_NAMES = ("control", "strip", "nfc", "mojibake", "email", "phone", "datetime", "date", "yes_no", "integer",
                    "amount")
"""The normalizers a schema may name (implemented in :mod:`cgformat.normalize`, a higher layer)."""
_BUILTIN_ORDER = ("transactional", "contact", "historical", "anonymous", "revenue")


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


# --------------------------------------------------------------------------------------------- loading


def schemas_dir() -> Path:
    """The folder of built-in schemas: inside the wheel (``cgformat/_schemas``), else the repository's."""
    here = Path(__file__).resolve().parent
    wheel = here / "_schemas"
    if wheel.is_dir():
        return wheel
    return here.parent / "schemas"


def list_schemas() -> list[str]:
    """The names of the built-in schemas, in CG's usual order."""
    found = {p.stem for p in schemas_dir().glob("*.json")}
    ordered = [n for n in _BUILTIN_ORDER if n in found]
    return ordered + sorted(found - set(ordered))


def load_schema(name_or_path: str | Path) -> Schema:
    """A built-in schema by name (``transactional`` ...) or a Table Schema JSON file by path."""
    text = str(name_or_path)
    builtin = schemas_dir() / f"{text.lower()}.json"
    if not isinstance(name_or_path, Path) and "/" not in text and "\\" not in text and builtin.is_file():
        return _load_path(builtin, name=text.lower())
    path = Path(name_or_path)
    if not path.is_file():
        if path.suffix == "" and "/" not in text:
            raise SchemaError(f"unknown record type {text!r}; choose one of: {', '.join(list_schemas())} "
                              "(or give a schema file with --schema, a template with --template)")
        raise SchemaError(f"schema file {text}: no such file")
    return _load_path(path, name=None)


def _load_path(path: Path, *, name: str | None) -> Schema:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise SchemaError(f"schema file {path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise SchemaError(f"schema file {path}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") \
            from None
    except OSError as exc:
        raise SchemaError(f"schema file {path}: cannot read: {exc.strerror or exc}") from None
    return schema_from_dict(doc, name=name or path.stem, source=str(path))


def _str_list(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SchemaError(f"{where} must be a list of strings")
    return tuple(value)


def _severity(value: object, where: str) -> Severity:
    try:
        return Severity(str(value).lower())
    except ValueError:
        raise SchemaError(f"{where}: severity must be 'error' or 'warning', got {value!r}") from None


def _number(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaError(f"{where} must be a number, got {value!r}")
    return float(value)


def _int(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SchemaError(f"{where} must be a non-negative integer, got {value!r}")
    return value


def _field_from_dict(doc: object, *, index: int, where: str, default_max: int | None) -> Field:
    if not isinstance(doc, dict):
        raise SchemaError(f"{where}: fields[{index}] must be an object")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise SchemaError(f"{where}: fields[{index}] needs a non-empty string 'name'")
    at = f"{where}: field {name!r}"
    ftype = str(doc.get("type", "string"))
    if ftype not in _TYPES:
        raise SchemaError(f"{at}: type {ftype!r} is not supported; use one of {', '.join(_TYPES)}")
    ext = doc.get("cgformat", {}) or {}
    if not isinstance(ext, dict):
        raise SchemaError(f"{at}: 'cgformat' must be an object")
    cons = doc.get("constraints", {}) or {}
    if not isinstance(cons, dict):
        raise SchemaError(f"{at}: 'constraints' must be an object")
    fmt = doc.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise SchemaError(f"{at}: 'format' must be a string")
    kind = ext.get("kind") or ext.get("check")
    if kind is None:
        if ftype == "string":
            kind = "email" if fmt == "email" else "text"
        elif ftype == "any":
            kind = "text"
        else:
            kind = ftype
    if kind not in _KINDS:
        raise SchemaError(f"{at}: cgformat.kind {kind!r} is not one of {', '.join(_KINDS)}")
    pattern_fmt: str | None = None
    if kind in ("date", "datetime"):
        default = CG_DATETIME if kind == "datetime" else CG_DATE
        pattern_fmt = default if fmt in (None, "default", "any") else str(fmt).removeprefix("fmt:")
    enum = cons.get("enum")
    enum_t: tuple[str, ...] | None = None
    if enum is not None:
        if not isinstance(enum, list):
            raise SchemaError(f"{at}: constraints.enum must be a list")
        enum_t = tuple(str(v) for v in enum)
    if kind == "boolean" and enum_t is None:
        true = _str_list(doc.get("trueValues"), f"{at}: trueValues") or ("true", "True", "TRUE", "1")
        false = _str_list(doc.get("falseValues"), f"{at}: falseValues") or ("false", "False", "FALSE", "0")
        enum_t = true + false
    pattern = cons.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str):
            raise SchemaError(f"{at}: constraints.pattern must be a string")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SchemaError(f"{at}: constraints.pattern is not a valid regular expression: {exc}") from None
    role = str(ext.get("role", "text" if ext.get("free_text") else "segment"))
    if role not in _ROLES:
        raise SchemaError(f"{at}: cgformat.role {role!r} is not one of {', '.join(_ROLES)}")
    sev_doc = ext.get("severity", {}) or {}
    if not isinstance(sev_doc, dict):
        raise SchemaError(f"{at}: cgformat.severity must map issue codes to 'error' or 'warning'")
    max_length = _int(cons.get("maxLength"), f"{at}: constraints.maxLength")
    if max_length is None and "maxLength" not in cons:
        max_length = default_max
    normalizers = _str_list(ext.get("normalizers"), f"{at}: cgformat.normalizers")
    for n in normalizers:
        if n not in NORMALIZER_NAMES:
            raise SchemaError(f"{at}: unknown normalizer {n!r}; choose from {', '.join(NORMALIZER_NAMES)}")
    xml_tag = ext.get("xml_tag", "")
    if not isinstance(xml_tag, str):
        raise SchemaError(f"{at}: cgformat.xml_tag must be a string")
    return Field(
        name=name, type=ftype, kind=str(kind), format=pattern_fmt, title=str(doc.get("title", "")),
        description=str(doc.get("description", "")), required=bool(cons.get("required", False)),
        column_required=bool(ext.get("column_required", False)), enum=enum_t,
        enum_ignore_case=bool(ext.get("enum_ignore_case", False)),
        minimum=_number(cons.get("minimum"), f"{at}: constraints.minimum"),
        maximum=_number(cons.get("maximum"), f"{at}: constraints.maximum"),
        min_length=_int(cons.get("minLength"), f"{at}: constraints.minLength"), max_length=max_length,
        pattern=pattern, unique=bool(cons.get("unique", False)), xml_tag=xml_tag,
        aliases=_str_list(ext.get("aliases"), f"{at}: cgformat.aliases"), normalizers=normalizers, role=role,
        severities=tuple((str(k), _severity(v, f"{at}: cgformat.severity.{k}")) for k, v in sev_doc.items()),
    )


def schema_from_dict(doc: object, *, name: str = "custom", source: str | None = None) -> Schema:
    """Build a :class:`Schema` from a Table Schema descriptor (a parsed JSON object)."""
    where = f"schema {source or name}"
    if not isinstance(doc, dict):
        raise SchemaError(f"{where}: must be a JSON object with a 'fields' list")
    fields_doc = doc.get("fields")
    if not isinstance(fields_doc, list) or not fields_doc:
        raise SchemaError(f"{where}: needs a non-empty 'fields' list")
    ext = doc.get("cgformat", {}) or {}
    if not isinstance(ext, dict):
        raise SchemaError(f"{where}: 'cgformat' must be an object")
    default_max = ext.get("max_length", DEFAULT_MAX_LENGTH)
    default_max = _int(default_max, f"{where}: cgformat.max_length")
    fields = tuple(_field_from_dict(f, index=i, where=where, default_max=default_max)
                   for i, f in enumerate(fields_doc))
    names = [f.name for f in fields]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SchemaError(f"{where}: field names repeat: {', '.join(dupes)}")
    fm = str(doc.get("fieldsMatch", "partial"))
    if fm not in _FIELDS_MATCH:
        raise SchemaError(f"{where}: fieldsMatch {fm!r} is not one of {', '.join(_FIELDS_MATCH)}")
    key = _str_list(ext.get("dedupe_key"), f"{where}: cgformat.dedupe_key") or \
        _str_list(doc.get("primaryKey"), f"{where}: primaryKey")
    for k in key:
        if k not in names:
            raise SchemaError(f"{where}: de-duplication key field {k!r} is not a field")
    rules: list[Rule] = []
    for i, r in enumerate(ext.get("rules", []) or []):
        if not isinstance(r, dict):
            raise SchemaError(f"{where}: cgformat.rules[{i}] must be an object")
        kind = str(r.get("rule", ""))
        if kind not in _RULES:
            raise SchemaError(f"{where}: cgformat.rules[{i}].rule must be one of {', '.join(_RULES)}")
        rfields = _str_list(r.get("fields"), f"{where}: cgformat.rules[{i}].fields")
        if len(rfields) < (1 if kind == "require-any" else 2) or (kind != "require-any" and len(rfields) != 2):
            raise SchemaError(f"{where}: cgformat.rules[{i}] ({kind}) has the wrong number of fields")
        for f in rfields:
            if f not in names:
                raise SchemaError(f"{where}: cgformat.rules[{i}] names unknown field {f!r}")
        default_code = {"require-any": IssueCode.MISSING_CELL, "requires": IssueCode.MISSING_CELL,
                        "not-after": IssueCode.CONSTRAINT_ERROR}[kind]
        rules.append(Rule(kind=kind, fields=rfields, code=str(r.get("code", default_code)),
                          severity=_severity(r.get("severity", "error"), f"{where}: cgformat.rules[{i}]"),
                          message=str(r.get("message", ""))))
    missing = _str_list(doc.get("missingValues"), f"{where}: missingValues") if "missingValues" in doc \
        else ("",)
    profile = str(ext.get("profile", "api"))
    upload_path = ext.get("upload_path")
    if upload_path is not None and not isinstance(upload_path, str):
        raise SchemaError(f"{where}: cgformat.upload_path must be a string")
    return Schema(
        name=str(doc.get("name", name)), title=str(doc.get("title", "")),
        description=str(doc.get("description", "")), fields=fields, fields_match=fm,
        upload_path=upload_path, profile=profile, dedupe_key=key, rules=tuple(rules),
        missing_values=missing, template=bool(ext.get("template", False)), source=source)


# --------------------------------------------------------------------------------------------- templates


def _catalogue(base: Schema | None) -> list[Field]:
    if base is not None:
        return list(base.fields)
    out: list[Field] = []
    seen: set[str] = set()
    for n in list_schemas():
        for f in load_schema(n).fields:
            if f.name not in seen:
                seen.add(f.name)
                out.append(f)
    return out


def schema_from_labels(labels: Sequence[str], *, source: str = "template", base: Schema | None = None,
                       xml: bool = False) -> Schema:
    """A schema whose header is exactly ``labels`` (order and case), rules taken from known fields.

    Each label that names a known field (of ``base``, else of any built-in schema; aliases and spelling
    variants included) keeps that field's checks under the template's own name; other labels are free
    text. Upload path, profile and de-duplication key come from ``base`` when given.
    """
    cleaned = list(labels)
    if not cleaned or all(lab.strip() == "" for lab in cleaned):
        raise SchemaError(f"template {source}: no header labels found")
    blanks = [i + 1 for i, lab in enumerate(cleaned) if lab.strip() == ""]
    if blanks:
        raise SchemaError(f"template {source}: blank header at column(s) {', '.join(map(str, blanks))}")
    dupes = sorted({lab for lab in cleaned if cleaned.count(lab) > 1})
    if dupes:
        raise SchemaError(f"template {source}: header repeats {', '.join(map(repr, dupes))}")
    known = Schema(name="catalogue", fields=tuple(_catalogue(base)))
    res = known.resolve(cleaned)
    fields: list[Field] = []
    renamed: dict[str, str] = {}
    for m in res.columns:
        if m.field is not None and m.how != "duplicate":
            f = m.field
            renamed[f.name] = m.label
            fields.append(replace(f, name=m.label, aliases=(),
                                  xml_tag=m.label if xml else f.tag, column_required=True))
        else:
            fields.append(Field(name=m.label, xml_tag=m.label if xml else "", column_required=True))
    rules = tuple(replace(r, fields=tuple(renamed.get(x, x) for x in r.fields)) for r in (base.rules if base
                                                                                        else ())
                  if all(x in renamed for x in r.fields))
    dedupe = tuple(renamed[k] for k in (base.dedupe_key if base else ()) if k in renamed)
    if base is None:
        dedupe = tuple(renamed[k] for k in ("Email",) if k in renamed)
    return Schema(
        name=base.name if base else "template", title=f"template {source}",
        description=f"header of {source}: names and order exactly", fields=tuple(fields),
        fields_match="exact", upload_path=base.upload_path if base else None,
        profile=base.profile if base else "api", dedupe_key=dedupe, rules=rules, template=True, source=source)


def describe_rules(f: Field) -> list[str]:
    """Human-readable rules of a field, for ``cgformat schemas NAME``."""
    out: list[str] = []
    if f.kind == "email":
        out.append("email: no spaces, one @, local part, dotted domain")
    elif f.kind == "phone":
        out.append("phone: digits only, 7-15, country code first")
    elif f.kind in ("date", "datetime"):
        out.append(f"{f.kind} {f.format}")
    elif f.kind in ("integer", "number"):
        out.append(f.kind)
    if f.minimum is not None or f.maximum is not None:
        lo = "" if f.minimum is None else f"{f.minimum:g}"
        hi = "" if f.maximum is None else f"{f.maximum:g}"
        out.append(f"range {lo}..{hi}")
    if f.enum is not None:
        out.append("one of " + "/".join(f.enum) + (" (any case)" if f.enum_ignore_case else ""))
    if f.pattern:
        out.append(f"pattern {f.pattern}")
    if f.max_length is not None:
        sev = f.severity(IssueCode.TOO_LONG, Severity.WARNING if f.role == "text" else Severity.ERROR)
        out.append(f"max {f.max_length} chars ({sev})")
    if f.normalizers:
        out.append("fix: " + ", ".join(f.normalizers))
    return out

