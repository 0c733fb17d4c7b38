"""Schemas: built-ins load, headers resolve (exact, alias, case, duplicate, missing, extra, order)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cgformat.errors import SchemaError
from cgformat.normalize import NORMALIZERS
from cgformat.schema import (
    NORMALIZER_NAMES,
    list_schemas,
    load_schema,
    schema_from_dict,
    schema_from_labels,
    schemas_dir,
)


def test_builtins_listed_in_cg_order() -> None:
    assert list_schemas() == ["transactional", "contact", "historical", "anonymous", "revenue"]
    assert schemas_dir().name in ("schemas", "_schemas")


@pytest.mark.parametrize("name", ["transactional", "contact", "historical", "anonymous", "revenue"])
def test_builtin_loads_with_upload_facts(name: str) -> None:
    s = load_schema(name)
    assert s.name == name
    assert s.upload_path is not None
    assert s.upload_path.startswith("/v4.1/")
    assert s.profile == ("revenue" if name == "revenue" else "api")
    # round trip through the descriptor
    again = schema_from_dict(s.to_dict(), name=name)
    assert again.fields == s.fields
    assert again.rules == s.rules
    assert again.dedupe_key == s.dedupe_key


def test_builtin_facts() -> None:
    t = load_schema("transactional")
    assert t.names == ("CustomerNumber", "Email", "SMS_Telephone", "FirstName", "LastName", "Country", "OrderDate")
    assert t.upload_path == "/v4.1/file/transactional.json"
    assert t.dedupe_key == ("Email",)
    assert load_schema("contact").dedupe_key == ("Email",)
    r = load_schema("revenue")
    assert r.upload_path == "/v4.1/company/revenue_file_automate.json"
    assert r.names == ("Account name", "Revenue amount", "Revenue start date", "Revenue end date",
                       "Revenue type", "Description")
    assert load_schema("TRANSACTIONAL").name == "transactional"


def test_normalizer_names_match_the_implementation() -> None:
    assert set(NORMALIZER_NAMES) == set(NORMALIZERS)


def test_unknown_type_and_missing_file() -> None:
    with pytest.raises(SchemaError, match="unknown record type"):
        load_schema("nosuch")
    with pytest.raises(SchemaError, match="no such file"):
        load_schema("/nonexistent/x.json")


@pytest.mark.parametrize(("doc", "match"), [
    ({}, "fields"),
    ({"fields": [{"type": "string"}]}, "name"),
    ({"fields": [{"name": "a", "type": "geopoint"}]}, "not supported"),
    ({"fields": [{"name": "a"}, {"name": "a"}]}, "repeat"),
    ({"fields": [{"name": "a", "constraints": {"pattern": "("}}]}, "regular expression"),
    ({"fields": [{"name": "a", "cgformat": {"normalizers": ["nope"]}}]}, "unknown normalizer"),
    ({"fields": [{"name": "a"}], "fieldsMatch": "some"}, "fieldsMatch"),
    ({"fields": [{"name": "a"}], "cgformat": {"dedupe_key": ["b"]}}, "not a field"),
    ({"fields": [{"name": "a"}], "cgformat": {"rules": [{"rule": "requires", "fields": ["a"]}]}}, "number of fields"),
])
def test_bad_schema_documents(doc: dict[str, object], match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        schema_from_dict(doc)


def test_schema_file_by_path(tmp_path: Path) -> None:
    p = tmp_path / "mine.json"
    p.write_text(json.dumps({"fields": [
        {"name": "Id", "type": "integer", "constraints": {"required": True, "minimum": 1}},
        {"name": "Flag", "type": "boolean"},
        {"name": "When", "type": "date"},
        {"name": "Code", "constraints": {"pattern": "[A-Z]{3}", "maxLength": 3}},
    ], "primaryKey": ["Id"]}), encoding="utf-8")
    s = load_schema(p)
    assert s.name == "mine"
    assert s.dedupe_key == ("Id",)
    f = {x.name: x for x in s.fields}
    assert f["Id"].kind == "integer"
    assert f["Id"].minimum == 1
    assert f["Id"].required
    assert f["Flag"].kind == "boolean"
    assert f["Flag"].enum is not None
    assert "true" in f["Flag"].enum
    assert f["When"].format == "%Y-%m-%d"
    assert f["Code"].max_length == 3
    assert f["Code"].pattern == "[A-Z]{3}"
    bad = tmp_path / "bad.json"
    bad.write_text("{nope", encoding="utf-8")
    with pytest.raises(SchemaError, match="not JSON"):
        load_schema(bad)


def codes(res: object) -> set[tuple[str, str | None, str]]:
    return {(i.code, i.field, i.severity) for i in res.issues}  # type: ignore[attr-defined]


def test_resolve_exact_alias_case() -> None:
    s = load_schema("transactional")
    res = s.resolve(["E-mail", "phone", "first name", "OrderDate", "Extra"])
    assert res.mapping == {"E-mail": "Email", "phone": "SMS_Telephone", "first name": "FirstName",
                           "OrderDate": "OrderDate"}
    assert codes(res) == {("alias-label", "E-mail", "warning"), ("alias-label", "phone", "warning"),
                          ("alias-label", "first name", "warning"), ("extra-label", "Extra", "warning")}
    assert ("label-case", "EMAIL", "warning") in codes(s.resolve(["EMAIL"]))
    assert codes(s.resolve([" Email ", "OrderDate"])) == set()  # padded-label is the validator's
    assert s.xml_tags_for(["E-mail", "phone", "Extra"]) == ("Email", "SMS_Telephone", "Extra")
    assert s.canonical_labels(["E-mail", "Extra", "email address"]) == ("Email", "Extra", "email address")


def test_resolve_exact_beats_earlier_alias() -> None:
    s = load_schema("transactional")
    res = s.resolve(["E-mail", "Email", "OrderDate"])
    assert res.mapping == {"Email": "Email", "OrderDate": "OrderDate"}
    assert ("duplicate-label", "E-mail", "error") in codes(res)


def test_resolve_missing_required_column() -> None:
    s = load_schema("transactional")
    res = s.resolve(["Email"])
    assert ("missing-label", "OrderDate", "error") in codes(res)
    assert [f.name for f in res.missing] == ["CustomerNumber", "SMS_Telephone", "FirstName", "LastName",
                                             "Country", "OrderDate"]
    # optional columns may be absent from a built-in type's file
    assert {c for c, f, _ in codes(res) if f != "OrderDate"} == set()


def test_revenue_is_exact_order() -> None:
    s = load_schema("revenue")
    res = s.resolve(["Revenue amount", "Account name", "Revenue start date", "Revenue end date",
                     "Revenue type", "Description"])
    assert ("label-order", "Revenue amount", "error") in codes(res)
    res = s.resolve(["Account name", "Revenue amount"])
    assert {f for c, f, _ in codes(res) if c == "missing-label"} == {
        "Revenue start date", "Revenue end date", "Revenue type", "Description"}


def test_template_schema_is_exact() -> None:
    s = schema_from_labels(["CustomerNumber", "E-mail", "OrderDate", "Segment"], source="tpl.csv")
    assert s.template
    assert s.fields_match == "exact"
    assert s.names == ("CustomerNumber", "E-mail", "OrderDate", "Segment")
    f = {x.name: x for x in s.fields}
    assert f["E-mail"].kind == "email"
    assert f["E-mail"].tag == "Email"
    assert f["OrderDate"].kind == "datetime"
    assert f["Segment"].kind == "text"
    assert s.dedupe_key == ("E-mail",)
    res = s.resolve(["customernumber", "OrderDate", "E-mail", "Other"])
    got = codes(res)
    assert ("label-case", "customernumber", "error") in got
    assert ("missing-label", "Segment", "error") in got
    assert ("extra-label", "Other", "error") in got
    assert ("label-order", "OrderDate", "error") in got


def test_template_with_base_type_and_xml() -> None:
    base = load_schema("historical")
    s = schema_from_labels(["Email", "NPS", "SurveyCompletedDate"], source="t.xml", base=base, xml=True)
    f = {x.name: x for x in s.fields}
    assert f["NPS"].kind == "integer"
    assert f["NPS"].maximum == 10
    assert f["NPS"].tag == "NPS"
    assert [r.fields for r in s.rules] == [("NPS", "SurveyCompletedDate"), ("SurveyCompletedDate", "NPS")]
    assert s.upload_path == "/v4.1/file/historical.json"


@pytest.mark.parametrize(("labels", "match"), [([], "no header"), (["a", ""], "blank"), (["a", "a"], "repeats")])
def test_bad_templates(labels: list[str], match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        schema_from_labels(labels)


def test_template_padded_label_is_an_error() -> None:
    s = schema_from_labels(["Email", "OrderDate"])
    assert ("label-case", " Email", "error") in codes(s.resolve([" Email", "OrderDate"]))
