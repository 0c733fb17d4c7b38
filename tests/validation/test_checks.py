"""Each named check on its own: True where the value passes, empty values pass (except non_empty)."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest

from cgformat import checks


def run(check: Callable[..., pl.Expr], data: list[str], **kw: object) -> list[bool]:
    frame = pl.DataFrame({"v": pl.Series(data, dtype=pl.String)})
    return frame.select(check(pl.col("v"), **kw).alias("ok"))["ok"].to_list()


def test_non_empty() -> None:
    assert run(checks.non_empty, ["", "x", " "]) == [False, True, True]
    assert run(checks.non_empty, ["", "NA", "x"], missing=("", "NA")) == [False, False, True]


@pytest.mark.parametrize(("value", "ok"), [
    ("anna@example.com", True), ("first.name+tag@mail.example.co.uk", True), ("o'brien@example.ie", True),
    ("", True), ("anna example.com", False), (" anna@example.com", False), ("anna@example.com ", False),
    ("first .name@example.com", False), ("first.nameexample.com", False), ("a@@example.com", False),
    ("a@b@example.com", False), ("@example.com", False), ("anna@example", False), ("anna@.example.com", False),
    ("anna@example.com.", False), ("anna@exa..mple.com", False), ("anna@exam\tple.com", False),
    ("anna\u00a0@example.com", False),
])
def test_email(value: str, ok: bool) -> None:
    assert run(checks.email, [value]) == [ok]


@pytest.mark.parametrize(("value", "ok"), [
    ("31612345678", True), ("1234567", True), ("123456789012345", True), ("", True),
    ("123456", False), ("1234567890123456", False), ("+31612345678", False), ("31 6 1234 5678", False),
    ("31-612-345678", False), ("(31)612345678", False), ("3.16E+11", False), ("31612345678.0", False),
])
def test_phone(value: str, ok: bool) -> None:
    assert run(checks.phone, [value]) == [ok]


@pytest.mark.parametrize(("value", "lossy"), [
    ("3.16E+11", True), ("3,16E+11", True), ("1E5", True), ("31612345678.0", True), ("31612345678,00", True),
    ("31612345678", False), ("7.0", False), ("", False), ("abc", False), ("12.5", False),
])
def test_lossy_number(value: str, lossy: bool) -> None:
    assert run(checks.lossy_number, [value]) == [not lossy]


@pytest.mark.parametrize(("value", "ok"), [
    ("2025-03-01 10:00:00", True), ("2024-02-29 23:59:59", True), ("", True),
    ("2025-02-30 11:30:00", False), ("2025-02-29 00:00:00", False), ("2025-2-28 11:30:00", False),
    ("2025-02-28 24:00:00", False), ("2025-02-28 11:60:00", False), ("2025-02-28T11:30:00", False),
    ("2025-02-28 11:30", False), ("2025-02-28", False), ("28-02-2025 11:30:00", False),
    ("2025-02-28 11:30:00 ", False), ("2025-13-01 00:00:00", False),
])
def test_datetime_shape_and_calendar(value: str, ok: bool) -> None:
    fmt = "%Y-%m-%d %H:%M:%S"
    got = run(lambda v: checks.strict_format(v, fmt) & checks.calendar(v, fmt), [value])
    assert got == [ok]


def test_date_only_format() -> None:
    fmt = "%Y-%m-%d"
    got = run(lambda v: checks.strict_format(v, fmt) & checks.calendar(v, fmt),
              ["2025-02-28", "2025-02-30", "2025-02-28 00:00:00", ""])
    assert got == [True, False, False, True]


def test_format_regex() -> None:
    assert checks.format_regex("%d/%m/%Y") == r"^[0-9]{2}\/[0-9]{2}\/[0-9]{4}$"


def test_integer_number_range() -> None:
    assert run(checks.integer, ["7", "-3", "", "+7", "7.0", "1,000", "1e3", " 7"]) == [
        True, True, True, False, False, False, False, False]
    assert run(checks.number, ["7", "-3.25", "", "1,5", "1.", ".5"]) == [True, True, True, False, False, False]
    assert run(checks.in_range, ["0", "10", "11", "-1", "", "x"], minimum=0, maximum=10) == [
        True, True, False, False, True, True]
    assert run(checks.in_range, ["5", "-1"], minimum=0) == [True, False]


def test_enum() -> None:
    assert run(checks.in_enum, ["Y", "N", "y", "", "Yes"], values=("Y", "N")) == [True, True, False, True, False]
    assert run(checks.in_enum, ["one time", "ARR"], values=("ARR", "One Time"), ignore_case=True) == [True, True]


def test_lengths_and_pattern() -> None:
    assert run(checks.max_length, ["x" * 128, "x" * 129, "é" * 128], limit=128) == [True, False, True]
    assert run(checks.min_length, ["ab", "a", ""], limit=2) == [True, False, True]
    assert run(checks.matches, ["ABC", "ABCD", "", "abc"], pattern="[A-Z]{3}") == [True, False, True, False]


def test_control_and_line_breaks() -> None:
    assert run(checks.control_free, ["ok", "a\x00b", "a\x1fb", "a\x7f", "a\tb\nc\r"]) == [
        True, False, False, False, True]
    assert run(checks.line_break_free, ["ok", "a\tb", "a\nb", "a\rb", "a\u2028b"]) == [True, False, False, False, False]


def test_formula() -> None:
    assert run(checks.formula_free, ["=1+1", "+31", "-x", "@SUM(A1)", "a=b", "", "x-"]) == [
        False, False, False, False, True, True, True]


@pytest.mark.parametrize(("value", "garbled"), [
    ("MÃ¼ller", True), ("cafÃ©", True), ("donâ€™t", True), ("â€œquotedâ€\x9d", True), ("Ã…land", True),
    ("ZaÅ‚Ä™ski", True), ("bad \ufffd byte", True), ("Â£5", True),
    ("Müller", False), ("café", False), ("don't", False), ("SÃO PAULO", False), ("Ärger", False), ("", False),
    ("Ångström", False),
])
def test_mojibake(value: str, garbled: bool) -> None:
    assert run(checks.mojibake_free, [value]) == [not garbled]


def test_registry_names() -> None:
    assert set(checks.CHECKS) >= {"email", "phone", "calendar", "in_enum", "max_length", "mojibake_free"}
