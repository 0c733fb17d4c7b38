"""What validate advises is what ``fix`` does: a message that names ``cgformat fix`` (or one of its options)
belongs to a value that fix makes valid, and a value fix cannot repair gets no such promise.

Also the mailer's and the SMS gateway's view of emails and phones (issue 15, item 7)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cgformat import checks
from cgformat.files import read_file
from cgformat.model import Table
from cgformat.normalize import Normalized, NormalizeOptions, fix_table
from cgformat.schema import Schema, load_schema
from cgformat.validation import check_table, partition, validate

from .._helpers.tables import at, make_table, tx

# (value, valid as it is, valid once fixed)
EMAILS = [
    ("anna@example.com", True, True),
    ("<john@example.com>", False, True),
    ("mailto:john@example.com", False, True),
    ("MAILTO:<john@example.com>", False, True),
    (" <john@example.com> ", False, True),
    ("john..doe@example.com", False, False),
    ("john@-example.com", False, False),
    ("john@example-.com", False, False),
    (".john@example.com", False, False),
    ('"john@example.com', False, False),
    ("john@example.com,Doe", False, False),
    (" john@example.com ", False, True),
    ("<john@example>", False, False),
    ("o'brien+tag@mail.example.co.uk", True, True),
]


@pytest.mark.parametrize(("value", "ok"), [(v, ok) for v, ok, _ in EMAILS])
def test_an_address_the_mailer_refuses_fails_the_email_check(value: str, ok: bool) -> None:
    got = pl.DataFrame({"v": [value]}).select(checks.email(pl.col("v")))["v"].to_list()
    assert got == [ok]


@pytest.mark.parametrize(("value", "ok"), [
    ("31612345678", True), ("15551234567", True),
    ("0612345678", False),        # a national number: no country code
    ("0031612345678", False),     # the international prefix 00 before the country code
    ("5551234567", True),         # digits only: taken as country code first (what fix must not make of a
                                  # bracketed national number)
])
def test_a_phone_starting_with_0_fails_the_phone_check(value: str, ok: bool) -> None:
    got = pl.DataFrame({"v": [value]}).select(checks.phone(pl.col("v")))["v"].to_list()
    assert got == [ok]


def test_each_email_and_phone_case_has_its_code() -> None:
    r = validate(tx({"Email": "<john@example.com>"}, {"Email": "mailto:john@example.com"},
                    {"Email": "john..doe@example.com"}, {"Email": "john@-example.com"},
                    {"SMS_Telephone": "0612345678"}, {"SMS_Telephone": "(555) 123-4567"},
                    {"SMS_Telephone": "31612345678"}), "transactional")
    assert at(r) == {("invalid-email", 1, "Email"), ("invalid-email", 2, "Email"), ("invalid-email", 3, "Email"),
                     ("invalid-email", 4, "Email"), ("invalid-phone", 5, "SMS_Telephone"),
                     ("invalid-phone", 6, "SMS_Telephone")}
    assert r.issues["line"].to_list() == [2, 3, 4, 5, 6, 7]


def test_a_bracketed_national_number_does_not_become_one_with_a_country_code() -> None:
    t = tx({"SMS_Telephone": "(555) 123-4567"}, {"SMS_Telephone": "06 1234 5678"})
    plain = fix_table(t, _schema())
    assert plain.frame["SMS_Telephone"].to_list() == ["(555) 123-4567", "0612345678"]
    assert at(validate(_again(t, plain), "transactional")) == {("invalid-phone", 1, "SMS_Telephone"),
                                                                ("invalid-phone", 2, "SMS_Telephone")}
    us = fix_table(t, _schema(), options=NormalizeOptions(default_country="1"))
    assert us.frame["SMS_Telephone"].to_list() == ["15551234567", "1612345678"]
    assert us.changes.filter(pl.col("field") == "SMS_Telephone")["normalizers"].to_list() == ["phone", "phone"]


def test_fix_strips_angle_brackets_and_mailto_and_reports_it() -> None:
    t = tx({"Email": "<John@Example.COM>"}, {"Email": "mailto:ann@example.com"}, {"Email": "<a@b>"})
    out = fix_table(t, _schema())
    assert out.frame["Email"].to_list() == ["John@example.com", "ann@example.com", "<a@b>"]
    assert out.changes.select("record", "before", "after", "normalizers").rows() == [
        (1, "<John@Example.COM>", "John@example.com", "email"),
        (2, "mailto:ann@example.com", "ann@example.com", "email")]


def test_a_stray_quote_from_a_broken_record_never_reaches_clean(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    # the quote before the address is never closed as the RFC wants: the reader keeps it as text
    src.write_text('Email,FirstName,OrderDate\n"ann@example.com,Ann,2026-11-27 14:05:00\n'
                   'bob@example.com,Bob,2026-11-27 14:05:00\n', encoding="utf-8")
    table = read_file(src)
    done = check_table(table, "transactional")
    clean, rejects = partition(table, done)
    assert clean["Email"].to_list() == ["bob@example.com"]
    assert rejects["Email"].to_list() == ['"ann@example.com']
    assert ("invalid-email", 1, "Email") in at(done.report)


def _schema() -> Schema:
    return load_schema("transactional")


def _again(t: Table, out: Normalized) -> Table:
    """The table with the fixed values (the same records and lines)."""
    return Table(info=t.info, frame=out.frame, lines=t.lines)


FIX_WORDS = "`cgformat fix"


@pytest.mark.parametrize("country", [None, "1"])
def test_a_message_promises_a_fix_exactly_where_fix_makes_the_value_valid(country: str | None) -> None:
    emails = [v for v, ok, _ in EMAILS if not ok]
    phones = ["0612345678", "(555) 123-4567", "+31 6 1234 5678", "0031612345678", "31612345678 ext 5", "123",
              "06-1234", "+0612345678", "(0)6 1234 5678"]
    n = max(len(emails), len(phones))
    t = tx(*({"Email": emails[i % len(emails)], "SMS_Telephone": phones[i % len(phones)]} for i in range(n)))
    before = validate(t, "transactional", max_issues=10_000).issues
    opts = NormalizeOptions(default_country=country)
    fixed = fix_table(t, _schema(), options=opts)
    after = validate(_again(t, fixed), "transactional", max_issues=10_000).issues
    still = {(r, f) for c, r, f in after.select("code", "record", "field").iter_rows()
             if c in ("invalid-email", "invalid-phone")}
    for code, record, field, message in before.select("code", "record", "field", "message").iter_rows():
        if code not in ("invalid-email", "invalid-phone"):
            continue
        promised = FIX_WORDS in message
        needs_country = "--default-country" in message
        repaired = (record, field) not in still
        if promised and (country is not None or not needs_country):
            assert repaired, (record, field, message)
        if not promised:
            assert (record, field) in still, (record, field, message)
        if needs_country and country is None:
            assert (record, field) in still


DATES = ["2026-11-27T14:05:00", "2026-11-27", "27/11/2026 14:05", "03/04/2026", "03/04/2026 10:00", "Nov 27 2026",
         "2026-02-30", "2026-11-27 24:00:00", "2026-11-27T14:05:00Z", "46353.5", "x", "2026-11-27 14:05:00",
         "2026-11-27 00:00:00", "2026-11-27 10:00:00"]


@pytest.mark.parametrize(("labels", "field", "schema"), [
    (("Email", "OrderDate"), "OrderDate", "transactional"),
    (("Account name", "Revenue start date"), "Revenue start date", "revenue"),
])
def test_a_date_message_promises_a_fix_exactly_where_fix_converts_the_value(labels: tuple[str, str], field: str,
                                                                           schema: str) -> None:
    t = make_table(labels, [(f"{i}@x.nl", v) for i, v in enumerate(DATES)])
    spec = load_schema(schema)
    before = validate(t, spec, max_issues=10_000).issues.filter(pl.col("code") == "invalid-datetime")
    plain = validate(_again(t, fix_table(t, spec)), spec, max_issues=10_000).issues
    given = validate(_again(t, fix_table(t, spec, options=NormalizeOptions(date_format="DD/MM/YYYY"))), spec,
                     max_issues=10_000).issues

    def left(issues: pl.DataFrame) -> set[int]:
        return set(issues.filter(pl.col("code") == "invalid-datetime")["record"].to_list())

    assert set(before["field"].to_list()) == {field}
    for record, message in before.select("record", "message").iter_rows():
        if "`cgformat fix --date-format" in message:
            assert record in left(plain), (record, message)
            assert record not in left(given), (record, message)
        elif "`cgformat fix`" in message:
            assert record not in left(plain), (record, message)
        else:
            assert record in left(plain), (record, message)
            assert record in left(given), (record, message)


def test_each_date_fault_has_its_code_record_and_line() -> None:
    t = make_table(("Email", "OrderDate"), [(f"{i}@x.nl", v) for i, v in enumerate(DATES)])
    r = validate(t, "transactional")
    # every value but CG's own shape (the last three) is an invalid-datetime, at its record and line
    assert r.issues.select("code", "record", "line").rows() == [
        ("invalid-datetime", i, i + 1) for i in range(1, len(DATES) - 2)]
    # the date without a time: fix adds midnight, as the message says
    out = fix_table(t, load_schema("transactional"))
    assert out.frame["OrderDate"][1] == "2026-11-27 00:00:00"
