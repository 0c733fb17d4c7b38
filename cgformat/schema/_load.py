"""Loading schemas: the built-in ones (``schemas/``) by name, and Table Schema JSON descriptors from files."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import SchemaError
from ..model import IssueCode, Severity
from ._model import (
    CG_DATE,
    CG_DATETIME,
    DEFAULT_MAX_LENGTH,
    FIELD_KINDS,
    FIELD_ROLES,
    NORMALIZER_NAMES,
    Field,
    Rule,
    Schema,
)

__all__ = ["list_schemas", "load_schema", "schema_from_dict", "schemas_dir"]

_BUILTIN_ORDER = ("transactional", "contact", "historical", "anonymous", "revenue")
_TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "any")
_KINDS = FIELD_KINDS
_ROLES = FIELD_ROLES
_FIELDS_MATCH = ("exact", "equal", "subset", "superset", "partial")
_RULES = ("require-any", "requires", "not-after")


def schemas_dir() -> Path:
    """The folder of built-in schemas: inside the wheel (``cgformat/_schemas``), else the repository's."""
    here = Path(__file__).resolve().parent.parent
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
                              "(or the path of a schema file)")
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
