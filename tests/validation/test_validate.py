"""Validation through the Validator: every check gives its code at the right record, line and field."""

from __future__ import annotations

import json

import jsonschema
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cgformat.limits import get_profile
from cgformat.model import Issue, IssueCode, RecordBatch, Severity
from cgformat.report import report_json_schema
from cgformat.schema import load_schema, schema_from_dict
from cgformat.validation import Validator, check_table, partition, validate

from .._helpers.tables import GOOD_TX, TX, at, make_table, tx

E, W = "error", "warning"


def issue_rows(report: object) -> list[tuple[str, str, int | None, int | None, str | None, str | None]]:
    frame = report.issues  # type: ignore[attr-defined]
    return [tuple(r) for r in frame.select("code", "severity", "record", "line", "field", "value").iter_rows()]


def test_good_file_is_valid() -> None:
    r = validate(tx({}, {}), "transactional")
    assert r.valid
    assert r.errors == 0
    assert r.warnings == 0
    assert r.records == 2
    assert issue_rows(r) == []


def test_contract_bad_file() -> None:
    t = make_table(TX, [
        ("0001", "anna example.com", "31612345678", "Anna", "de Vries", "NL", "2025-03-01 10:00:00"),
        ("0002", "bram@example.com", "+49 151 1234", "Bram", "Müller", "DE", "2025-02-30 11:30:00"),
    ])
    r = validate(t, "transactional")
    assert not r.valid
    assert r.records == 2
    assert issue_rows(r) == [
        ("invalid-email", E, 1, 2, "Email", "anna example.com"),
        ("invalid-phone", E, 2, 3, "SMS_Telephone", "+49 151 1234"),
        ("invalid-datetime", E, 2, 3, "OrderDate", "2025-02-30 11:30:00"),
    ]
    d = r.to_dict()
    assert d["counts"] == {"errors": 3, "warnings": 0, "by_code": {
        "invalid-email": {"count": 1, "first_record": 1}, "invalid-phone": {"count": 1, "first_record": 2},
        "invalid-datetime": {"count": 1, "first_record": 2}}}


def test_required_value_missing() -> None:
    r = validate(tx({}, {"OrderDate": ""}), "transactional")
    assert issue_rows(r) == [("missing-cell", E, 2, 3, "OrderDate", "")]


def test_email_or_phone_required() -> None:
    r = validate(tx({"Email": "", "SMS_Telephone": ""}, {"Email": ""}), "transactional")
    assert issue_rows(r) == [("missing-cell", E, 1, 2, "Email", "")]


def test_phone_checks() -> None:
    r = validate(tx({"SMS_Telephone": "3.16E+11"}, {"SMS_Telephone": "31612345678.0"},
                    {"SMS_Telephone": "06-1234"}, {"SMS_Telephone": "+31612345678"}), "transactional")
    assert issue_rows(r) == [
        ("lossy-number", E, 1, 2, "SMS_Telephone", "3.16E+11"),
        ("lossy-number", E, 2, 3, "SMS_Telephone", "31612345678.0"),
        ("invalid-phone", E, 3, 4, "SMS_Telephone", "06-1234"),
        ("invalid-phone", E, 4, 5, "SMS_Telephone", "+31612345678"),  # + is invalid, not a formula
    ]


def test_lossy_customer_number_is_a_warning() -> None:
    r = validate(tx({"CustomerNumber": "1.23457E+15"}), "transactional")
    assert issue_rows(r) == [("lossy-number", W, 1, 2, "CustomerNumber", "1.23457E+15")]
    assert r.valid


def test_datetime_checks() -> None:
    r = validate(tx({"OrderDate": "2025-02-30 11:30:00"}, {"OrderDate": "2025-3-1 10:00:00"},
                    {"OrderDate": "01/03/2025 10:00"}, {"OrderDate": "2024-02-29 23:59:59"}), "transactional")
    assert at(r) == {("invalid-datetime", 1, "OrderDate"), ("invalid-datetime", 2, "OrderDate"),
                     ("invalid-datetime", 3, "OrderDate")}


HIST = ("Email", "NetPromoterScore", "Comment", "SurveyCompletedDate", "EmailSentDate", "FollowUpRequired",
        "FirstName")


def hist(*rows: tuple[str, ...]) -> object:
    return make_table(HIST, rows)


def test_historical_cells_and_rows() -> None:
    t = hist(
        ("a@x.com", "9", "fine", "2025-01-02 10:00:00", "2025-01-01 10:00:00", "Y", "A"),   # ok
        ("b@x.com", "11", "", "2025-01-02 10:00:00", "", "N", "B"),                          # out of range
        ("c@x.com", "7.5", "", "2025-01-02 10:00:00", "", "", "C"),                          # type error
        ("d@x.com", "", "", "", "", "y", "D"),                                               # enum
        ("e@x.com", "8", "", "", "", "", "E"),                                               # 400007
        ("f@x.com", "", "", "2025-01-02 10:00:00", "", "", "F"),                             # 400008
        ("g@x.com", "6", "", "2025-01-02 10:00:00", "2025-01-03 10:00:00", "", "G"),         # sent after
    )
    r = validate(t, "historical")
    assert issue_rows(r) == [
        ("out-of-range", E, 2, 3, "NetPromoterScore", "11"),
        ("type-error", E, 3, 4, "NetPromoterScore", "7.5"),
        ("invalid-enum", E, 4, 5, "FollowUpRequired", "y"),
        ("score-without-completion", E, 5, 6, "SurveyCompletedDate", ""),
        ("completion-without-score", E, 6, 7, "NetPromoterScore", ""),
        ("sent-after-completed", W, 7, 8, "EmailSentDate", "2025-01-03 10:00:00"),
    ]


def test_score_without_completion_column() -> None:
    t = make_table(("Email", "NetPromoterScore"), [("a@x.com", "9"), ("b@x.com", "")])
    r = validate(t, "historical")
    assert ("score-without-completion", 1, "SurveyCompletedDate") in at(r)
    assert all(rec != 2 for _, rec, _ in at(r))


def test_too_long_error_for_names_warning_for_free_text() -> None:
    long = "x" * 129
    t = hist(("a@x.com", "", long, "", "", "", long), ("b@x.com", "", "x" * 128, "", "", "", "x" * 128))
    r = validate(t, "historical")
    assert issue_rows(r) == [("too-long", W, 1, 2, "Comment", long), ("too-long", E, 1, 2, "FirstName", long)]
    assert r.issues.sort("field")["value"].to_list() == [long, long]


def test_long_values_are_clipped_in_the_report() -> None:
    t = hist(("a@x.com", "", "y" * 5000, "", "", "", "A"))
    r = validate(t, "historical")
    (value,) = r.issues["value"].to_list()
    assert value == "y" * 200 + "…"


def test_control_characters() -> None:
    t = hist(("a@x.com", "", "line1\nline2", "", "", "", "Ann\x00a"),
             ("b@x.com", "", "tab\there", "", "", "", "Bo\nb"))
    r = validate(t, "historical")
    assert issue_rows(r) == [("control-character", E, 1, 2, "FirstName", "Ann\x00a"),
                             ("control-character", W, 2, 3, "FirstName", "Bo\nb")]


def test_formula_injection_warning() -> None:
    r = validate(tx({"FirstName": "=HYPERLINK(\"x\")"}, {"LastName": "-Smith"}, {"Country": "@NL"},
                    {"FirstName": "a=b"}), "transactional")
    assert issue_rows(r) == [("formula-injection", W, 1, 2, "FirstName", "=HYPERLINK(\"x\")"),
                             ("formula-injection", W, 2, 3, "LastName", "-Smith"),
                             ("formula-injection", W, 3, 4, "Country", "@NL")]
    assert r.valid


def test_mojibake_warning() -> None:
    r = validate(tx({"LastName": "MÃ¼ller"}, {"FirstName": "RenÃ©"}), "transactional")
    assert issue_rows(r) == [("mojibake", W, 1, 2, "LastName", "MÃ¼ller"), ("mojibake", W, 2, 3, "FirstName", "RenÃ©")]


def test_duplicates_name_the_first_record() -> None:
    r = validate(tx({"Email": "same@x.com"}, {}, {"Email": " SAME@x.com"}, {"Email": "same@x.com"}), "transactional")
    dups = r.issues.filter(pl.col("code") == "duplicate-row")
    assert dups.select("record", "line", "field").rows() == [(3, 4, "Email"), (4, 5, "Email")]
    assert all("record 1" in m for m in dups["message"])


def test_duplicates_across_batches_keep_first_record() -> None:
    t = tx({"Email": "a@x.com"}, {"Email": "b@x.com"}, {"Email": "A@x.com"}, {"Email": "b@x.com"},
           {"Email": "c@x.com"}, {"Email": "c@x.com"})
    v = Validator("transactional", t.info)
    found = []
    for start in (0, 2, 4):
        batch = RecordBatch(frame=t.frame.slice(start, 2), lines=t.lines.slice(start, 2), first_record=start + 1)
        res = v.check(batch)
        assert res.ok.len() == 2
        found += res.issues.filter(pl.col("code") == "duplicate-row").select("record", "message").rows()
    assert [(rec, msg.split(":")[0]) for rec, msg in found] == [
        (3, "same Email as record 1"), (4, "same Email as record 2"), (6, "same Email as record 5")]


def test_historical_dedupe_key_is_email_and_order_date() -> None:
    t = make_table(("Email", "OrderDate"), [("a@x.com", "2025-01-01 00:00:00"), ("a@x.com", "2025-02-01 00:00:00"),
                                            ("a@x.com", "2025-01-01 00:00:00"), ("", "2025-01-01 00:00:00")])
    r = validate(t, "historical")
    assert [(c, rec) for c, rec, _ in at(r) if c == "duplicate-row"] == [("duplicate-row", 3)]


# ------------------------------------------------------------------------------------------------ header


def test_header_issues() -> None:
    t = make_table(("E-mail", "OrderDate", "OrderDate", "", "Segment", " FirstName"),
                   [("a@x.com", "2025-01-01 00:00:00", "", "", "x", "A")])
    r = validate(t, "transactional")
    got = {(c, s, rec, line, f) for c, s, rec, line, f, _ in issue_rows(r)}
    assert got == {
        ("alias-label", W, None, 1, "E-mail"),
        ("duplicate-label", E, None, 1, "OrderDate~2"),
        ("blank-label", W, None, 1, "~column4"),
        ("extra-label", W, None, 1, "~column4"),
        ("extra-label", W, None, 1, "Segment"),
        ("padded-label", W, None, 1, " FirstName"),
    }


def test_reader_header_issues_are_not_repeated() -> None:
    reader = Issue(code=IssueCode.DUPLICATE_LABEL, severity=Severity.ERROR, line=1, field="Email~2", value="Email",
                   message="reader says")
    t = make_table(("Email", "Email", "OrderDate"), [("a@x.com", "b@x.com", "2025-01-01 00:00:00")],
                   info_issues=[reader])
    r = validate(t, "transactional")
    dl = r.issues.filter(pl.col("code") == "duplicate-label")
    assert dl["message"].to_list() == ["reader says"]


def test_missing_required_column_and_no_contact_column() -> None:
    t = make_table(("FirstName",), [("A",)])
    r = validate(t, "transactional")
    assert {(c, f) for c, _, f in at(r)} == {("missing-label", "OrderDate"), ("missing-label", "Email")}
    assert not r.valid


def test_template_flag_makes_header_exact() -> None:
    t = make_table((*TX, "Segment"), [(*GOOD_TX, "x")])
    assert validate(t, "transactional").valid
    r = validate(t, "transactional", template=True)
    assert ("extra-label", None, "Segment") in at(r)
    assert not r.valid


def test_xml_header_issues_have_no_line() -> None:
    t = make_table(("Email", "OrderDate", "Other"), [("a@x.com", "2025-01-01 00:00:00", "")], fmt="xml",
                   lines=[3], encoding=None)
    r = validate(t, "transactional")
    assert issue_rows(r) == [("extra-label", W, None, None, "Other", "Other")]


# ------------------------------------------------------------------------------------------------ file


def test_too_many_records_and_bytes() -> None:
    t = tx(*({} for _ in range(5)))
    t = make_table(TX, t.frame.rows(), size=2_000_001)
    r = validate(t, "transactional", profile=get_profile("api").with_overrides(max_records=4))
    got = {(c, rec) for c, rec, _ in at(r)}
    assert got == {("too-many-records", None), ("file-too-large", None)}
    assert all("cgformat split" in m for m in r.issues["message"])


def test_revenue_profile_is_the_default_for_revenue() -> None:
    labels = load_schema("revenue").names
    rows = [(f"Acme {i}", "1000", "2025-01-01", "2025-12-31", "ARR", "") for i in range(1001)]
    r = validate(make_table(labels, rows), "revenue")
    assert at(r) == {("too-many-records", None, None)}


@pytest.mark.parametrize(("profile", "severity"), [("api", E), ("revenue", E), ("inapp", W), ("sftp", W)])
def test_delimiter_other_than_comma(profile: str, severity: str) -> None:
    t = make_table(TX, [GOOD_TX], delimiter=";")
    r = validate(t, "transactional", profile=profile)
    assert issue_rows(r) == [("delimiter", severity, None, None, None, ";")]


def test_reader_delimiter_issue_is_regraded_not_repeated() -> None:
    note = Issue(code=IssueCode.DELIMITER, severity=Severity.WARNING, message="detected ;", value=";")
    t = make_table(TX, [GOOD_TX], delimiter=";", info_issues=[note])
    r = validate(t, "transactional")
    assert issue_rows(r) == [("delimiter", E, None, None, None, ";")]


def test_non_utf8_and_format() -> None:
    t = make_table(TX, [GOOD_TX], encoding="cp1252", source="export.txt")
    r = validate(t, "transactional")
    assert {(c, s) for c, s, *_ in issue_rows(r)} == {("non-utf8", E), ("unsupported-format", W)}
    assert validate(make_table(TX, [GOOD_TX], encoding="utf-8-sig"), "transactional").valid


def test_empty_file_warns() -> None:
    r = validate(make_table(TX, []), "transactional")
    assert issue_rows(r) == [("empty-file", W, None, None, None, None)]
    assert r.valid
    assert r.records == 0


# ------------------------------------------------------------------------------------------------ reader issues


def test_reader_record_issues_flow_and_ragged_rows_reject() -> None:
    ragged = Issue(code=IssueCode.RAGGED_ROW, severity=Severity.WARNING, record=2, line=3, message="3 fields, 7 expected")
    t = make_table(TX, [GOOD_TX, (*GOOD_TX[:1], "b@x.com", *GOOD_TX[2:])], issues=[ragged])
    v = check_table(t, "transactional")
    assert ("ragged-row", 2, None) in at(v.report)
    assert v.ok.to_list() == [True, False]
    assert v.errors.to_list() == ["", "ragged-row:"]


def test_streaming_validate_over_a_reader() -> None:
    t = tx({}, {"Email": "bad"}, {}, {"OrderDate": "x"})

    class FakeReader:
        info = t.info

        def batches(self):  # type: ignore[no-untyped-def]
            for s in (0, 2):
                yield RecordBatch(frame=t.frame.slice(s, 2), lines=t.lines.slice(s, 2), first_record=s + 1)

    r = validate(FakeReader(), "transactional")
    assert r.records == 4
    assert at(r) == {("invalid-email", 2, "Email"), ("invalid-datetime", 4, "OrderDate")}


# ------------------------------------------------------------------------------------------------ options


def test_strict_counts_warnings() -> None:
    t = tx({"FirstName": "=x"}, {})
    assert validate(t, "transactional").valid
    v = check_table(t, "transactional", strict=True)
    assert not v.report.valid
    assert v.ok.to_list() == [False, True]
    assert v.report.to_dict()["valid"] is False


def test_max_issues_caps_listing_not_counts() -> None:
    t = tx(*({"Email": f"bad{i}"} for i in range(30)))
    r = validate(t, "transactional", max_issues=10)
    assert r.truncated
    assert r.issues.height == 10
    assert r.errors == 30
    assert r.to_dict()["counts"]["by_code"]["invalid-email"] == {"count": 30, "first_record": 1}
    assert r.issues["record"].to_list() == list(range(1, 11))
    full = validate(t, "transactional")
    assert not full.truncated
    assert full.issues.height == 30


def test_no_schema_runs_structural_checks_only() -> None:
    t = make_table(("a", "b"), [("=1", "x\x01"), ("MÃ©", "y" * 200)])
    r = validate(t, None)
    assert r.type == "none"
    assert at(r) == {("formula-injection", 1, "a"), ("control-character", 1, "b"), ("mojibake", 2, "a"),
                     ("too-long", 2, "b")}


def test_custom_schema_constraints() -> None:
    s = schema_from_dict({"name": "custom", "fields": [
        {"name": "Code", "constraints": {"pattern": "[A-Z]{3}", "minLength": 3, "unique": True}},
        {"name": "Flag", "type": "boolean"},
        {"name": "Amount", "type": "number", "constraints": {"maximum": 100}},
        {"name": "Day", "type": "date"},
        {"name": "Name", "constraints": {"required": True}},
    ], "missingValues": ["", "NA"]})
    t = make_table(("Code", "Flag", "Amount", "Day", "Name"), [
        ("ABC", "true", "99.5", "2025-01-31", "x"),
        ("AB", "yes", "1,5", "2025-02-30", "NA"),
        ("ABC", "0", "101", "", "y"),
        ("NA", "", "", "", "z"),
    ])
    r = validate(t, s)
    assert at(r) == {
        ("constraint-error", 2, "Code"), ("invalid-enum", 2, "Flag"), ("type-error", 2, "Amount"),
        ("invalid-datetime", 2, "Day"), ("missing-cell", 2, "Name"),
        ("out-of-range", 3, "Amount"), ("duplicate-row", 3, "Code"),
    }


def test_revenue_rules() -> None:
    labels = load_schema("revenue").names
    t = make_table(labels, [
        ("Acme", "1234", "2025-01-01", "2025-12-31", "arr", "ok"),
        ("Beta", "1,234.12", "2025-01-01 00:00:00", "2025-12-31", "Yearly", ""),
        ("Gamma", "5", "2025-06-01", "2025-01-01", "Other", ""),
    ])
    r = validate(t, "revenue")
    assert at(r) == {("type-error", 2, "Revenue amount"), ("invalid-datetime", 2, "Revenue start date"),
                     ("invalid-enum", 2, "Revenue type"), ("constraint-error", 3, "Revenue start date")}


def test_anonymous_count_not_negative() -> None:
    t = make_table(("Date", "Count"), [("2025-01-01 00:00:00", "10"), ("2025-01-02 00:00:00", "-1"),
                                       ("2025-01-03 00:00:00", "")])
    assert at(validate(t, "anonymous")) == {("out-of-range", 2, "Count"), ("missing-cell", 3, "Count")}


# ------------------------------------------------------------------------------------------------ report shape


def test_report_matches_published_schema() -> None:
    schema = report_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    t = make_table((*TX, "X"), [GOOD_TX + ("=x",), ("0002", "bad", "+1", "", "", "", "2025-02-30 00:00:00", "")],
                   delimiter=";", encoding="cp1252")
    for report in (validate(t, "transactional"), validate(t, "transactional", max_issues=1),
                   validate(tx({}), "transactional"), validate(make_table(TX, []), "transactional")):
        doc = json.loads(report.to_json())
        jsonschema.validate(doc, schema)
        assert list(doc) == ["cgformat_report", "valid", "source", "type", "format", "encoding", "delimiter",
                             "records", "bytes", "counts", "truncated", "issues"]


# ------------------------------------------------------------------------------------------------ clean / rejects


_VALUES = {
    "Email": st.sampled_from(["a@x.com", "b@x.com", "bad", "", "c@y.org"]),
    "SMS_Telephone": st.sampled_from(["31612345678", "", "+31 6", "3.16E+11"]),
    "OrderDate": st.sampled_from(["2025-03-01 10:00:00", "", "2025-02-30 00:00:00"]),
    "FirstName": st.sampled_from(["Ann", "=x", "Ã©"]),
}


@settings(max_examples=60)
@given(st.lists(st.fixed_dictionaries(_VALUES), max_size=25), st.booleans())
def test_clean_and_rejects_conserve_every_record(rows: list[dict[str, str]], strict: bool) -> None:
    full = []
    for i, row in enumerate(rows):
        base = dict(zip(TX, GOOD_TX, strict=True))
        base.update(row)
        base["CustomerNumber"] = f"{i:05d}"
        full.append(tuple(base[c] for c in TX))
    t = make_table(TX, full)
    v = check_table(t, "transactional", strict=strict)
    clean, rejects = partition(t, v)
    assert clean.height + rejects.height == t.frame.height
    ids = sorted(clean["CustomerNumber"].to_list() + rejects["CustomerNumber"].to_list())
    assert ids == t.frame["CustomerNumber"].to_list()
    assert rejects.columns == [*TX, "_errors"]
    assert all(e != "" for e in rejects["_errors"])
    # every clean record is free of error issues, every reject has one
    bad = set(v.report.issues.filter(pl.col("record").is_not_null() & (
        (pl.col("severity") == "error") | pl.lit(strict)))["record"].to_list())
    assert v.report.truncated or bad == {i + 1 for i, ok in enumerate(v.ok) if not ok}
    assert (v.report.errors == 0 and (not strict or v.report.warnings == 0)) == v.report.valid


def test_hygiene_checks_point_at_the_right_records() -> None:
    r = validate(tx({}, {"FirstName": "Renée"}, {"LastName": "Bad\x07"}, {"FirstName": "Zoë"},
                    {"Country": "N\u2028L"}, {"LastName": "Ã©t\u00e9"}), "transactional")
    assert issue_rows(r) == [("control-character", E, 3, 4, "LastName", "Bad\x07"),
                             ("control-character", W, 5, 6, "Country", "N\u2028L"),
                             ("mojibake", W, 6, 7, "LastName", "Ã©té")]


@settings(max_examples=int(__import__("os").environ.get("CG_DEDUPE_EXAMPLES", "60")))
@given(st.lists(st.sampled_from(["a@x.com", "A@x.com ", "b@x.com", "c@x.com", "", "d@x.com", "e@y.org"]),
                max_size=60),
       st.integers(min_value=1, max_value=9))
def test_streaming_duplicates_match_a_plain_scan(emails: list[str], size: int) -> None:
    t = tx(*({"Email": e} for e in emails))
    v = Validator("transactional", t.info)
    got: list[tuple[int, int]] = []
    for start in range(0, len(emails), size):
        batch = RecordBatch(frame=t.frame.slice(start, size), lines=t.lines.slice(start, size),
                            first_record=start + 1)
        res = v.check(batch)
        dup = res.issues.filter(pl.col("code") == "duplicate-row")
        got += [(rec, int(msg.split("record ")[1].split(":")[0])) for rec, msg in dup.select("record", "message").rows()]
    first: dict[str, int] = {}
    want: list[tuple[int, int]] = []
    for i, e in enumerate(emails, start=1):
        key = e.strip().lower()
        if not key:
            continue
        if key in first:
            want.append((i, first[key]))
        else:
            first[key] = i
    assert got == want


def test_a_record_that_is_the_header_again_is_one_error() -> None:
    # two exports joined: the second header was an invalid email, phone and date, and a duplicate after it
    again = tuple(TX)
    t = make_table(TX, [GOOD_TX, again, ("0002", "b@example.com", *GOOD_TX[2:]), again,
                        ("CustomerNumber", "c@example.com", *GOOD_TX[2:])])
    r = validate(t, "transactional")
    assert issue_rows(r) == [
        ("repeated-header", "error", 2, 3, "CustomerNumber", "CustomerNumber"),
        ("repeated-header", "error", 4, 5, "CustomerNumber", "CustomerNumber"),
    ]
    assert r.errors == 2
    # another file type or shape: no such check (XML has no header row; one column is too little to tell)
    assert "repeated-header" not in {i[0] for i in issue_rows(validate(
        make_table(TX, [GOOD_TX, again], fmt="xml"), "transactional"))}
    assert issue_rows(validate(make_table(("Email",), [("a@example.com",), ("Email",)]), None)) == []


def test_an_empty_record_is_one_error() -> None:
    # a line of delimiters (what Excel leaves after the data) was a missing OrderDate and a missing Email
    empty = ("",) * len(TX)
    t = make_table(TX, [GOOD_TX, empty, ("", "b@example.com", *GOOD_TX[2:])])
    r = validate(t, "transactional")
    assert issue_rows(r) == [("empty-record", "error", 2, 3, "CustomerNumber", "")]
    assert issue_rows(validate(t, None)) == [("empty-record", "error", 2, 3, "CustomerNumber", "")]
