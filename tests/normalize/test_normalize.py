"""Normalizers: each one's safe fixes, the report of changes, and idempotence (twice == once)."""

from __future__ import annotations

import os

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cgformat.errors import UsageError
from cgformat.model import Table
from cgformat.normalize import NORMALIZERS, NormalizeOptions, apply, fix_table, identity_where, translate_date_format
from cgformat.schema import load_schema
from cgformat.validation import validate

from .._helpers.tables import make_table

NL = NormalizeOptions(default_country="31")


def norm(name: str, values: list[str], options: NormalizeOptions = NL) -> list[str]:
    frame = pl.DataFrame({"v": pl.Series(values, dtype=pl.String)})
    return frame.select(NORMALIZERS[name](pl.col("v"), options).alias("v"))["v"].to_list()


def test_strip_and_nfc() -> None:
    assert norm("strip", ["  a b \t", "\u00a0x\u00a0", ""]) == ["a b", "x", ""]
    assert norm("nfc", ["Rene\u0301", "é"]) == ["René", "é"]


@pytest.mark.parametrize(("value", "fixed"), [
    ("MÃ¼ller", "Müller"), ("SeÃ±or", "Señor"), ("cafÃ©", "café"), ("donâ€™t", "don’t"), ("â‚¬5", "€5"),
    ("â€œquotedâ€\x9d", "“quoted”"), ("ZaÅ‚Ä™ski", "Załęski"), ("Ð¿Ñ€Ð¸Ð²ÐµÑ‚", "привет"), ("Ã…land", "Åland"),
    ("ÃƒÂ©tÃƒÂ©", "été"), ("MÃ¼ller from SÃ£o Paulo", "Müller from São Paulo"), ("Â£5", "£5"),
    # no certain mojibake: left as it is
    ("Ã", "Ã"), ("São", "São"), ("SÃO PAULO", "SÃO PAULO"), ("MÃ¼ller São", "Müller São"), ("«CAFÉ»", "«CAFÉ»"),
    ("‘‘Café’’", "‘‘Café’’"), ("JOSÉ”", "JOSÉ”"), ("Ärger", "Ärger"), ("Ångström", "Ångström"), ("Â\x85", "Â\x85"),
    ("Ã©Ã", "Ã©Ã"), ("", ""), ("plain", "plain"), ("IRMÃ”", "IRMÃ”"), ("Å’s", "Å’s"), ("“Å”", "“Å”"),
    ("Ã – x", "Ã – x"), ("Å“x", "Å“x"),
    # a capital before punctuation inside a word is mojibake
    ("Ã–sterreich", "Österreich"), ("MUÃ‘OZ", "MUÑOZ"), ("ZoÃ«", "Zoë"), ("CitroÃ«n", "Citroën"), ("PÃ”", "PÃ”"),
    ("Ã\xa0 Paris", "à Paris"),
])
def test_mojibake(value: str, fixed: str) -> None:
    assert norm("mojibake", [value]) == [fixed]
    assert norm("mojibake", [fixed]) == [fixed]


# text as people write it: a capital Â-Å begins a word, and a letter before punctuation ends one (ß’ß’ would be
# two UTF-8 sequences in a row, Å€ one of U+0080-U+017F)
_CLEAN = st.lists(st.sampled_from(["a", "Z", " ", ".", "é", "ü", "ñ", "Åsa", "Ärger", "ł", "Ł", "heiß’ ", "’", "“", "€",
                                    "™", "жи", "日本", "😀", "São", "ÃO"]), max_size=12).map("".join)
_SLOPPY_CP1252 = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256))


@settings(max_examples=150)
@given(_CLEAN)
def test_mojibake_undoes_utf8_read_as_cp1252_and_leaves_clean_text(text: str) -> None:
    # UTF-8 read as cp1252 (the five bytes it leaves undefined as C1 controls, as Windows does), then repaired
    garbled = "".join(_SLOPPY_CP1252[b] for b in text.encode("utf-8"))
    assert norm("mojibake", [garbled, text]) == [text, text]


def test_fix_repairs_mojibake_and_reports_each_repair() -> None:
    t = make_table(("Name", "City"), [("MÃ¼ller", "SÃ£o Paulo"), ("Ã", "São"), ("RenÃ©e", "Köln")])
    out = fix_table(t, None)
    assert out.frame.rows() == [("Müller", "São Paulo"), ("Ã", "São"), ("Renée", "Köln")]
    assert out.changes.rows() == [(1, 2, "Name", "MÃ¼ller", "Müller", "mojibake"),
                                  (1, 2, "City", "SÃ£o Paulo", "São Paulo", "mojibake"),
                                  (3, 4, "Name", "RenÃ©e", "Renée", "mojibake")]
    assert out.counts["mojibake"] == 3
    # and validate has nothing left to call garbled
    assert "mojibake" not in validate(Table(info=t.info, frame=out.frame, lines=t.lines), None) \
        .issues["code"].to_list()
def test_control_characters_are_removed_and_reported() -> None:
    assert norm("control", ["a\x00b", "\x1bx\x7f", "tab\tand\nline\r", ""]) == ["ab", "x", "tab\tand\nline\r", ""]
    t = make_table(("Email", "FirstName", "Note"), [("a@x.nl", "An\x07na", " \x00x"), ("b@x.nl", "Bo", "y")])
    out = fix_table(t, load_schema("transactional"))
    assert out.frame.rows() == [("a@x.nl", "Anna", "x"), ("b@x.nl", "Bo", "y")]
    assert out.changes.select("record", "field", "before", "after", "normalizers").rows() == [
        (1, "FirstName", "An\x07na", "Anna", "control"), (1, "Note", " \x00x", "x", "control,strip")]
    assert out.counts["control"] == 2
    flagged = validate(t, "transactional").issues.filter(pl.col("code") == "control-character")
    assert flagged.select("record", "field").rows() == [(1, "FirstName"), (1, "Note")]
    again = Table(info=t.info, frame=out.frame, lines=t.lines)
    assert "control-character" not in validate(again, "transactional").issues["code"].to_list()


def test_email() -> None:
    assert norm("email", [" Anna.B@Example.COM ", "x@Y.org", "no-at", "a@b@C.com", ""]) == [
        "Anna.B@example.com", "x@y.org", "no-at", "a@b@C.com", ""]


@pytest.mark.parametrize(("value", "fixed"), [
    ("+31 6 1234 5678", "31612345678"), ("+31 (0)6-1234.5678", "31612345678"), ("0031612345678", "31612345678"),
    ("0612345678", "31612345678"), ("+1 (555) 123-4567", "15551234567"), ("31612345678", "31612345678"),
    ("3.16E+11", "3.16E+11"), ("31612345678.0", "31612345678.0"), ("ext 12", "ext 12"), ("", ""),
    ("+0612345678", "+0612345678"), ("000612", "000612"),
])
def test_phone(value: str, fixed: str) -> None:
    assert norm("phone", [value]) == [fixed]


def test_phone_without_default_country_keeps_national_numbers() -> None:
    assert norm("phone", ["06 1234 5678", "+31 6 1234 5678"], NormalizeOptions()) == ["0612345678", "31612345678"]


def test_default_country_must_be_a_calling_code() -> None:
    with pytest.raises(UsageError):
        NormalizeOptions(default_country="+31")


@pytest.mark.parametrize(("value", "fixed"), [
    ("2025-03-01 10:00:00", "2025-03-01 10:00:00"), ("2025-03-01", "2025-03-01 00:00:00"),
    ("2025/3/1 9:05", "2025-03-01 09:05:00"), ("2018-12-23T13:49:56", "2018-12-23 13:49:56"),
    ("2018-12-23T13:49:56.250", "2018-12-23 13:49:56"), ("13/02/2025", "2025-02-13 00:00:00"),
    ("02/13/2025 1:05 PM", "2025-02-13 13:05:00"), ("12/23/2018 12:00:00 AM", "2018-12-23 00:00:00"),
    ("05.05.2025", "2025-05-05 00:00:00"), ("23 Dec 2018", "2018-12-23 00:00:00"),
    ("Dec 23, 2018", "2018-12-23 00:00:00"), ("20250301", "2025-03-01 00:00:00"),
    ("45292", "2024-01-01 00:00:00"), ("45292.75", "2024-01-01 18:00:00"),
    # left alone: ambiguous, impossible, time zones, junk
    ("03/04/2025", "03/04/2025"), ("2025-02-30", "2025-02-30"), ("2018-12-23T13:49:56Z", "2018-12-23T13:49:56Z"),
    ("x", "x"), ("", ""), ("1234", "1234"),
])
def test_datetime(value: str, fixed: str) -> None:
    assert norm("datetime", [value]) == [fixed]


def test_datetime_with_a_given_format() -> None:
    opts = NormalizeOptions(date_format="DD/MM/YYYY HH:mm")
    assert translate_date_format("DD/MM/YYYY HH:mm") == "%d/%m/%Y %H:%M"
    assert norm("datetime", ["03/04/2025 10:00", "2025-01-01 00:00:00", "45292", "bad"], opts) == [
        "2025-04-03 10:00:00", "2025-01-01 00:00:00", "2024-01-01 00:00:00", "bad"]
    assert norm("datetime", ["04/03/2025"], NormalizeOptions(date_format="%m/%d/%Y")) == ["2025-04-03 00:00:00"]


def test_date() -> None:
    assert norm("date", ["2025-03-01 00:00:00", "2025-03-01 10:00:00", "1/31/2025", "45292", "2025-03-01"]) == [
        "2025-03-01", "2025-03-01 10:00:00", "2025-01-31", "2024-01-01", "2025-03-01"]


def test_yes_no_and_integer() -> None:
    assert norm("yes_no", ["yes", "No", "TRUE", "false", "1", "0", " y ", "maybe", ""]) == [
        "Y", "N", "Y", "N", "Y", "N", "Y", "maybe", ""]
    assert norm("integer", ["+07.00", "000", "-5", "1,000", "7.5", "10", ""]) == [
        "7", "0", "-5", "1,000", "7.5", "10", ""]


@pytest.mark.parametrize(("value", "as_integer", "as_amount"), [
    # thousands separators in shapes that read one way only
    ("1,234,567", "1234567", "1234567"), ("1.234.567", "1234567", "1234567"), ("1 234 567", "1234567", "1234567"),
    ("1'234.00", "1234", "1234"), ("1.234,00", "1234", "1234"), ("1,234,567.00", "1234567", "1234567"),
    # a real fraction: no whole number, but CG's rule for amounts drops it ("1,234.12 is sent as 1234")
    ("1,234.12", "1,234.12", "1234"), ("1.234,56", "1.234,56", "1234"), ("1234.5", "1234.5", "1234"),
    ("1234,50", "1234,50", "1234"), ("-1,234.99", "-1,234.99", "-1234"), ("-0.5", "-0.5", "0"),
    ("1 234,50", "1 234,50", "1234"), ("12,345.678", "12,345.678", "12345"),
    # a lone separator before three digits: thousands or decimals? left alone
    ("1,234", "1,234", "1,234"), ("1.234", "1.234", "1.234"), ("-12,345", "-12,345", "-12,345"),
    # no number
    ("1,2345.6", "1,2345.6", "1,2345.6"), ("12 34", "12 34", "12 34"), ("abc", "abc", "abc"), ("", "", ""),
])
def test_integer_and_amount_take_thousands_separators_read_one_way_only(value: str, as_integer: str,
                                                                       as_amount: str) -> None:
    assert norm("integer", [value]) == [as_integer]
    assert norm("amount", [value]) == [as_amount]


HIST = ("E-mail", "NPS", "SurveyCompletedDate", "FollowUpRequired", "Phone", "Comment")


def test_fix_table_reports_counts_changes_and_renames() -> None:
    t = make_table(HIST, [
        (" A@X.COM", "9", "2025-01-02", "yes", "+31 6 1234 5678", " fine "),
        ("b@x.com", "10", "2025-01-02 10:00:00", "N", "31612345678", "ok"),
        ("c@x.com", "", "03/04/2025", "", "", ""),
    ])
    out = fix_table(t, load_schema("historical"), options=NL)
    assert out.labels == ("Email", "NetPromoterScore", "SurveyCompletedDate", "FollowUpRequired", "SMS_Telephone",
                          "Comment")
    assert out.renamed == {"E-mail": "Email", "NPS": "NetPromoterScore", "Phone": "SMS_Telephone"}
    assert out.counts["strip"] == 2
    assert out.counts["email"] == 1
    assert out.counts["datetime"] == 1
    assert out.counts["yes_no"] == 1
    assert out.counts["phone"] == 1
    assert out.counts["rename"] == 3
    assert out.changes.select("record", "line", "field", "before", "after").rows() == [
        (1, 2, "E-mail", " A@X.COM", "A@x.com"),
        (1, 2, "SurveyCompletedDate", "2025-01-02", "2025-01-02 00:00:00"),
        (1, 2, "FollowUpRequired", "yes", "Y"),
        (1, 2, "Phone", "+31 6 1234 5678", "31612345678"),
        (1, 2, "Comment", " fine ", "fine"),
    ]
    assert out.changes["normalizers"].to_list()[0] == "strip,email"
    assert out.issues.select("code", "record", "line", "field", "value").rows() == [
        ("ambiguous-date", 3, 4, "SurveyCompletedDate", "03/04/2025")]


def test_a_date_with_a_time_zone_is_left_alone_and_reported() -> None:
    # which zone CG's times are in is the account's: dropping or shifting the offset would be a guess
    t = make_table(("Email", "OrderDate"), [
        ("a@x.nl", "2026-01-01T10:00:00Z"), ("b@x.nl", "2026-01-01T10:00:00"),
        ("c@x.nl", "2026-01-01 10:00:00+02:00"), ("d@x.nl", "2026-01-01T10:00:00.000-0500"),
        ("e@x.nl", "03/04/2025"),
    ])
    out = fix_table(t, load_schema("transactional"))
    assert out.frame["OrderDate"].to_list() == ["2026-01-01T10:00:00Z", "2026-01-01 10:00:00",
                                                "2026-01-01 10:00:00+02:00", "2026-01-01T10:00:00.000-0500",
                                                "03/04/2025"]
    assert out.issues.select("code", "record", "field").rows() == [
        ("zoned-date", 1, "OrderDate"), ("zoned-date", 3, "OrderDate"), ("zoned-date", 4, "OrderDate"),
        ("ambiguous-date", 5, "OrderDate")]
    # a format that reads the zone as text converts them: nothing left to report
    given = fix_table(t, load_schema("transactional"), options=NormalizeOptions(date_format="%Y-%m-%dT%H:%M:%SZ"))
    assert given.frame["OrderDate"][0] == "2026-01-01 10:00:00"
    assert given.issues.filter(pl.col("record") == 1).height == 0



def test_a_date_the_given_format_does_not_read_is_reported() -> None:
    # --date-format DD-MM-YYYY: a value with a time of day is still read by its unambiguous shape (day 27),
    # and what nothing reads is listed, with or without a format
    t = make_table(("Email", "OrderDate"), [
        ("a@x.nl", "27-11-2026 14:05"), ("b@x.nl", "03-12-2026"), ("c@x.nl", ""),
        ("d@x.nl", "2026-01-01 10:00:00"), ("e@x.nl", "31-02-2026"), ("f@x.nl", "2026-01-01T10:00:00Z"),
        ("g@x.nl", "Nov 27 2026"), ("h@x.nl", "2026-02-30"),
    ])
    out = fix_table(t, load_schema("transactional"), options=NormalizeOptions(date_format="DD-MM-YYYY"))
    assert out.frame["OrderDate"].to_list() == ["2026-11-27 14:05:00", "2026-12-03 00:00:00", "",
                                                "2026-01-01 10:00:00", "31-02-2026", "2026-01-01T10:00:00Z",
                                                "Nov 27 2026", "2026-02-30"]
    assert out.issues.select("code", "record", "line", "field", "value").rows() == [
        ("unread-date", 5, 6, "OrderDate", "31-02-2026"),
        ("zoned-date", 6, 7, "OrderDate", "2026-01-01T10:00:00Z"),
        ("unread-date", 7, 8, "OrderDate", "Nov 27 2026"),
        ("unread-date", 8, 9, "OrderDate", "2026-02-30"),
    ]
    # without a format: the same values listed, and 03-12-2026 (either way round) as ambiguous
    plain = fix_table(t, load_schema("transactional"))
    assert plain.issues.select("code", "record", "value").rows() == [
        ("ambiguous-date", 2, "03-12-2026"), ("unread-date", 5, "31-02-2026"),
        ("zoned-date", 6, "2026-01-01T10:00:00Z"), ("unread-date", 7, "Nov 27 2026"),
        ("unread-date", 8, "2026-02-30")]
    # a date-only field: a time of day also keeps a value as it is
    rev = make_table(("Account name", "Revenue start date"), [("A", "03-12-2026"), ("B", "03-12-2026 10:00")])
    out = fix_table(rev, load_schema("revenue"), options=NormalizeOptions(date_format="DD-MM-YYYY"))
    assert out.frame["Revenue start date"].to_list() == ["2026-12-03", "03-12-2026 10:00"]
    assert out.issues.select("code", "record").rows() == [("unread-date", 2)]


@pytest.mark.parametrize("fmt", ["DD-MM-YYYY", "DD/MM/YYYY", "%d.%m.%Y %H:%M", "MM/DD/YYYY", "YYYY-MM-DD"])
def test_a_date_format_converts_every_date_no_format_converts(fmt: str) -> None:
    values = ["2026-11-27T14:05:00", "2026-11-27 14:05:00", "27/11/2026 14:05", "11/27/2026", "27 Nov 2026",
              "Nov 27, 2026", "20261127", "46353.5", "27-11-2026", "2026/11/27", "27.11.2026 14:05",
              "Nov 27 2026", "03/04/2026", "x", ""]
    t = make_table(("Email", "OrderDate"), [(f"{i}@x.nl", v) for i, v in enumerate(values)])
    schema = load_schema("transactional")
    plain = fix_table(t, schema).frame["OrderDate"]
    given = fix_table(t, schema, options=NormalizeOptions(date_format=fmt)).frame["OrderDate"]
    converted = [(v, a) for v, a in zip(values, plain.to_list(), strict=True) if a != v]
    assert len(converted) == 10                 # all but CG's own shape, Nov 27 2026, 03/04, x and ""
    for (v, a), b in zip(zip(values, plain.to_list(), strict=True), given.to_list(), strict=True):
        if a != v:
            assert b == a, (fmt, v)   # what converts without a format converts alike with one
    # the ambiguous 03/04/2026 is decided by the format's order of day and month
    day_first = fmt.upper().index("D") < fmt.upper().index("M") if "%" not in fmt else fmt.index("%d") < fmt.index("%m")
    assert given[12] == ("2026-04-03 00:00:00" if day_first else "2026-03-04 00:00:00")


def test_fix_then_validate_is_valid() -> None:
    t = make_table(("Customer ID", "E-mail", "Mobile", "First Name", "OrderDate"), [
        ("1", " anna@Example.com ", "06-12345678", " Anna", "2025/03/01 10:00"),
        ("2", "bram@example.com", "+49 151 12345678", "Bram\u0301", "45292"),
    ])
    out = fix_table(t, load_schema("transactional"), options=NL)
    fixed = Table(info=t.info.__class__(source="f.csv", format="csv", labels=out.labels, encoding="utf-8",
                                        delimiter=","), frame=out.frame.rename(dict(zip(out.frame.columns,
                                                                                       out.labels, strict=True))),
                  lines=t.lines)
    assert validate(t, "transactional").errors > 0
    r = validate(fixed, "transactional")
    assert r.valid, r.issues
    assert r.warnings == 0, r.issues


_TEXT = st.lists(st.sampled_from([*"aZ09 +-()./@:,Tt\u00a0\u0301eé0", "  ", "00", "(0)", "E+", "yes"]),
                max_size=12).map("".join)
_DATES = st.sampled_from(["2025-03-01", "2025/3/1 9:05", "13/02/2025", "03/04/2025", "45292.5", "20250301",
                          " 2025-03-01 10:00:00 ", "Dec 23, 2018", "1/2/2025 1:05 PM", "0000-00-00"]) | _TEXT
_ROW = st.tuples(_TEXT, _TEXT, _DATES, st.sampled_from(["yes", " No ", "1", "x", ""]) | _TEXT, _TEXT, _DATES)


@settings(max_examples=int(os.environ.get("CG_NORMALIZE_EXAMPLES", "80")))
@given(st.lists(_ROW, max_size=12), st.sampled_from([None, "31", "1"]),
       st.sampled_from([None, "DD/MM/YYYY", "%m/%d/%Y %H:%M"]))
def test_normalizing_twice_equals_once(rows: list[tuple[str, ...]], country: str | None, fmt: str | None) -> None:
    labels = ("Email", "SMS_Telephone", "SurveyCompletedDate", "FollowUpRequired", "NetPromoterScore", "OrderDate")
    t = make_table(labels, rows)
    opts = NormalizeOptions(default_country=country, date_format=fmt)
    schema = load_schema("historical")
    once = fix_table(t, schema, options=opts)
    t2 = Table(info=t.info, frame=once.frame, lines=t.lines)
    twice = fix_table(t2, schema, options=opts)
    assert twice.frame.equals(once.frame)
    assert twice.changes.height == 0


# ------------------------------------------------------------------------------- screens: where nothing changes

_PIECES = st.sampled_from(["0", "1", "9", "00", "31", "2024", "-", ":", " ", "/", ".", "+", "(", ")", "@", "a", "Z",
                           "é", "e\u0301", "Ä", "\t", "x.COM", "2025-02-30", "2024-06-02 20:15:29", "12", "T",
                           "Ã", "¼", "©", "â€", "™", "Ì\x81", "Ð¿"])


@given(values=st.lists(st.lists(_PIECES, max_size=6).map("".join), min_size=1, max_size=30),
       country=st.sampled_from([None, "31"]), date_format=st.sampled_from([None, "DD/MM/YYYY", "%Y-%d-%m %H:%M:%S"]))
@settings(max_examples=200)
def test_a_screened_normalizer_changes_nothing_where_its_screen_passes(values: list[str], country: str | None,
                                                                      date_format: str | None) -> None:
    opts = NormalizeOptions(default_country=country, date_format=date_format)
    frame = pl.DataFrame({"v": values})
    for name, fn in NORMALIZERS.items():
        full = frame.select(fn(pl.col("v"), opts)).to_series()
        screen = identity_where(name, pl.col("v"), opts)
        if screen is not None:
            passed = frame.select(screen).to_series()
            assert (full.filter(passed) == frame["v"].filter(passed)).all(), name
        assert apply(frame, "v", name, opts).to_list() == full.to_list(), name
