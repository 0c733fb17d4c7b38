"""Schemas from a header: the template CG lets a customer download becomes a schema; a field's rules in words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..errors import SchemaError
from ..model import IssueCode, Severity
from ._load import list_schemas, load_schema
from ._model import Field, Schema

__all__ = ["describe_rules", "schema_from_labels"]


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
