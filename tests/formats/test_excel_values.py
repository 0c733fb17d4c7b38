"""Excel cells as Excel shows them, on workbooks from producers other than cgformat (openpyxl here)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from cgformat.formats import ReadOptions, _excel_cells, excel
from cgformat.model import IssueCode, Severity, Table


def book_bytes(rows: list[list[object]], *, formats: dict[str, str] | None = None,
               epoch: dt.datetime | None = None) -> bytes:
    book = openpyxl.Workbook()
    if epoch is not None:
        book.epoch = epoch
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for ref, code in (formats or {}).items():
        sheet[ref].number_format = code
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read(data: bytes, **options: object) -> Table:
    reader = excel.open_reader(io.BytesIO(data), fmt="xlsx", source="book",
                               options=ReadOptions(**options))  # type: ignore[arg-type]
    return Table.from_batches(reader.info, reader.batches())


def patch_sheet(data: bytes, change: Callable[[bytes], bytes], part: str = "xl/worksheets/sheet1.xml") -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info, change(content) if info.filename == part else content)
    return out.getvalue()


# --------------------------------------------------------------------------------------------- General


def test_numbers_fastexcel_renders_with_noise_come_out_as_general() -> None:
    table = read(book_bytes([["Amount", "Text"], [41800000.01, "41800000.009999998"], [556885.2300002915, "1.50"],
                             [-1234567.89, "007"], [0.1 + 0.2, "0.30000000000000004"]]))
    assert table.frame.rows() == [("41800000.01", "41800000.009999998"), ("556885.230000291", "1.50"),
                                  ("-1234567.89", "007"), ("0.3", "0.30000000000000004")]


_FLOATS = st.one_of(
    st.floats(min_value=-1e15, max_value=1e15, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False, allow_infinity=False).map(float),
    st.integers(min_value=-10**17, max_value=10**17).map(float),
    st.floats(min_value=1e-12, max_value=1e-3))


@settings(max_examples=25, deadline=None)
@given(st.lists(_FLOATS, min_size=1, max_size=40))
def test_every_number_reads_as_excels_general(values: list[float]) -> None:
    data = book_bytes([["N"], *([v] for v in values)])
    # the numbers as the producer stored them (openpyxl writes 16 significant digits)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    stored = [float(v) for v in re.findall(rb"<v>([^<]*)</v>", sheet)]
    assert len(stored) == len(values)
    assert read(data).frame["N"].to_list() == [_excel_cells.general(v) for v in stored]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=200))
def test_general_in_polars_agrees_with_the_reference(values: list[float]) -> None:
    fast = pl.Series(values, dtype=pl.Float64).to_frame("x").select(_excel_cells.general_text(pl.col("x"))).to_series()
    for value, text in zip(values, fast.to_list(), strict=True):
        if text is not None:
            assert text == _excel_cells.general(value), value


# --------------------------------------------------------------------------------------------- formulas


def test_formulas_without_a_saved_value_are_named() -> None:
    table = read(book_bytes([["Email", "Total"], ["a@example.com", "=1+1"], ["=A2", "=B2*2"],
                             ["b@example.com", 3]]))
    found = [(str(i.code), i.severity, i.record, i.line, i.field, i.value) for i in table.issues]
    assert found == [("formula-no-value", Severity.ERROR, 1, 2, "Total", "=1+1"),
                     ("formula-no-value", Severity.ERROR, 2, 3, "Email", "=A2"),
                     ("formula-no-value", Severity.ERROR, 2, 3, "Total", "=B2*2")]
    # the row of formulas only is a record (its values are unknown), not an empty row
    assert table.lines.to_list() == [2, 3, 4]
    assert table.frame.rows() == [("a@example.com", ""), ("", ""), ("b@example.com", "3")]


def test_a_trailing_row_of_unsaved_formulas_is_still_reported() -> None:
    table = read(book_bytes([["Email", "Total"], ["a@example.com", 1], [None, None, "=B2*2"]]))
    # column C holds nothing but the formula: it is read (its label blank), so the record can carry the issue
    assert [(str(i.code), i.line, i.field) for i in table.issues] == [("blank-label", 1, "~column3"),
                                                                      ("formula-no-value", 3, "~column3")]
    assert table.lines.to_list() == [2, 3]


def test_formulas_with_a_saved_value_are_read_and_an_empty_text_result_is_a_value() -> None:
    data = patch_sheet(book_bytes([["A", "B"], ["=1+1", '=""']]), lambda xml: re.sub(
        rb'<c r="A2"([^>]*)><f>1\+1</f><v\s*/?>(?:</v>)?', rb'<c r="A2"\1><f>1+1</f><v>2</v>', xml).replace(
        b'<c r="B2" t="n"', b'<c r="B2" t="str"').replace(b'<c r="B2"', b'<c r="B2" t="str"', 1)
        if b't="str"' not in xml else xml)
    table = read(data)
    assert [str(i.code) for i in table.issues] == []
    assert table.frame.rows() == [("2", "")]


# --------------------------------------------------------------------------------------------- formats


def test_number_formats_that_pad_are_read_as_shown() -> None:
    table = read(book_bytes([["Id", "Price", "Whole"], [42, 3.5, 7], [-42, 10, 7.25], [123456, 0.125, 0]],
                            formats={"A2": "00000", "A3": "00000", "A4": "00000", "B2": "0.00", "B3": "0.00",
                                     "B4": "0.000", "C2": "0", "C4": "0"}))
    assert table.frame.rows() == [("00042", "3.50", "7"), ("-00042", "10.00", "7.25"), ("123456", "0.125", "0")]
    assert table.issues == ()


def test_number_formats_that_round_or_are_not_applied_are_warned() -> None:
    table = read(book_bytes([["Price", "Big", "Share"], [3.14159, 1234567.5, 0.25], [2.675, 12, 0.5]],
                            formats={"A2": "0.00", "A3": "0.00", "B2": "#,##0.00", "B3": "#,##0.00", "C2": "0%"}))
    assert table.frame.rows() == [("3.14159", "1234567.5", "0.25"), ("2.675", "12", "0.5")]
    found = [(str(i.code), i.severity, i.line, i.field, i.value) for i in table.issues]
    assert found == [("number-format", Severity.WARNING, 2, "Price", "0.00"),
                     ("number-format", Severity.WARNING, 2, "Big", "#,##0.00"),
                     ("number-format", Severity.WARNING, 2, "Share", "0%")]
    assert re.search(r"cells A2, A3: .*rounded \(3\.14\)", table.issues[0].message)


def test_text_cells_with_a_number_format_are_text() -> None:
    table = read(book_bytes([["Id"], ["0042"]], formats={"A2": "00000"}))
    assert table.frame.rows() == [("0042",)]
    assert table.issues == ()


def test_1904_dates() -> None:
    table = read(book_bytes([["Date", "When"], [dt.date(2024, 1, 3), dt.datetime(2018, 12, 23, 13, 49, 56)]],
                            formats={"A2": "yyyy-mm-dd", "B2": "yyyy-mm-dd hh:mm:ss"}, epoch=CALENDAR_MAC_1904))
    assert table.frame.rows() == [("2024-01-03 00:00:00", "2018-12-23 13:49:56")]


def test_error_cells_found_whatever_the_quotes_of_the_workbook_xml() -> None:
    data = book_bytes([["A", "B"], [1, "=1/0"]])
    data = patch_sheet(data, lambda xml: re.sub(rb'<c r="B2"([^>]*)><f>1/0</f><v\s*/?>(?:</v>)?',
                                                rb'<c r="B2" t="e"><f>1/0</f><v>#DIV/0!</v>', xml))
    data = patch_sheet(data, lambda xml: re.sub(rb'(\w+)="([^"]*)"', rb"\1='\2'", xml), part="xl/workbook.xml")
    data = patch_sheet(data, lambda xml: re.sub(rb'(\w+)="([^"]*)"', rb"\1='\2'", xml),
                       part="xl/_rels/workbook.xml.rels")
    table = read(data)
    assert table.frame.rows() == [("1", "#DIV/0!")]
    assert [(str(i.code), i.line, i.field) for i in table.issues] == [(IssueCode.CELL_ERROR, 2, "B")]


# --------------------------------------------------------------------------------------------- producers

GOLDEN = Path(__file__).parent.parent / "golden" / "excel"


def _golden(name: str) -> Table:
    reader = excel.open_reader(io.BytesIO((GOLDEN / name).read_bytes()), fmt=name.rsplit(".", 1)[1],
                               source=name, options=ReadOptions())
    return Table.from_batches(reader.info, reader.batches())


def _shown_by_libreoffice() -> list[dict[str, str]]:
    """The sheet as LibreOffice shows it (its CSV export of producers_libreoffice.xlsx, saved also as .xls)."""
    with (GOLDEN / "producers_libreoffice.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name", ["producers_libreoffice.xlsx", "producers_libreoffice.xls"])
def test_libreoffice_workbook_reads_as_libreoffice_shows_it(name: str) -> None:
    table = _golden(name)
    shown = _shown_by_libreoffice()
    rows = table.frame.to_dicts()
    for got, want in zip(rows, shown, strict=True):
        # General cells, formulas LibreOffice calculated, text, and formats that pad: exactly as shown
        for field in ("Id", "Amount", "Total", "Text"):
            assert got[field] == want[field], field
        assert got["Date"] == want["Date"] + " 00:00:00"    # dates in cgformat's one documented form
    # 0.125 under 0.00 shows 0.13: that would lose a digit, so the number is read and the rounding named
    assert [r["Price"] for r in rows] == ["3.50", "10.00", "2.25", "0.125"]
    assert [s["Price"] for s in shown] == ["3.50", "10.00", "2.25", "0.13"]
    # thousands separators and percent are not applied: the number as General shows it, and a warning
    assert [r["Big"] for r in rows] == ["1234567.5", "12", "0.5", "-3"]
    assert [r["Share"] for r in rows] == ["0.25", "0.5", "1", "0"]
    found = sorted((str(i.code), i.line, i.field, i.value) for i in table.issues)
    assert found == [("number-format", 2, "Big", "#,##0.00"), ("number-format", 2, "Share", "0%"),
                     ("number-format", 5, "Price", "0.00")]


def test_libreoffice_xls_formulas_carry_their_values() -> None:
    table = _golden("producers_libreoffice.xls")
    assert table.frame["Total"].to_list() == [s["Total"] for s in _shown_by_libreoffice()]
    assert table.frame["Amount"].to_list() == ["41800000.01", "0.1", "556885.23", "-1234567.89"]


@pytest.mark.parametrize("name", ["producers_openpyxl.xlsx", "producers_1904.xlsx"])
def test_openpyxl_workbooks_name_each_unsaved_formula(name: str) -> None:
    table = _golden(name)
    assert table.frame["Id"].to_list() == ["00042", "00007", "123456", "-00042"]
    assert table.frame["Date"].to_list() == ["2024-01-03 00:00:00", "1999-12-31 00:00:00", "2026-12-07 00:00:00",
                                             "2000-02-29 00:00:00"]
    unsaved = [(i.record, i.line, i.field, i.value, i.severity) for i in table.issues
               if i.code == IssueCode.FORMULA_NO_VALUE]
    assert unsaved == [(1, 2, "Total", "=B2*C2", Severity.ERROR), (2, 3, "Total", "=C3+0.2", Severity.ERROR),
                       (3, 4, "Total", "=ROUND(C4,1)", Severity.ERROR), (4, 5, "Total", '=A5&"x"', Severity.ERROR)]


def test_xlwt_workbook_numbers_as_general() -> None:
    table = _golden("producers_xlwt.xls")
    assert table.frame["Amount"].to_list() == ["41800000.01", "0.1", "556885.23", "-1234567.89"]
    assert table.frame["Text"].to_list() == ["0042", "41800000.009999998", "text", ""]


def test_iso_8601_date_cells_read_as_dates() -> None:
    book = openpyxl.Workbook(iso_dates=True)
    sheet = book.active
    for row in (["When"], [dt.date(2021, 1, 1)], [dt.datetime(2021, 1, 1, 10, 10, 10)], [dt.time(10, 10, 10)],
                [dt.datetime(2021, 1, 1, 10, 10, 10, 500000)], ["2021-01-01"]):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    assert b't="d"' in zipfile.ZipFile(buffer).read("xl/worksheets/sheet1.xml")
    table = read(buffer.getvalue())
    # date cells in cgformat's one date form; the text cell "2021-01-01" stays text
    assert table.frame["When"].to_list() == ["2021-01-01 00:00:00", "2021-01-01 10:10:10", "10:10:10",
                                             "2021-01-01 10:10:10.500", "2021-01-01"]


def test_shared_formulas_without_a_value_are_named() -> None:
    data = patch_sheet(book_bytes([["A", "B"], [1, "=A2*2"], [2, "=A3*2"]]), lambda xml: re.sub(
        rb'<c r="B3"([^>]*)><f>A3\*2</f>(?:<v\s*/>|<v></v>)?</c>', rb'<c r="B3"\1><f t="shared" si="0"/></c>',
        re.sub(rb'<c r="B2"([^>]*)><f>A2\*2</f>(?:<v\s*/>|<v></v>)?</c>',
               rb'<c r="B2"\1><f t="shared" ref="B2:B3" si="0">A2*2</f><v>2</v></c>', xml)))
    table = read(data)
    assert table.frame.rows() == [("1", "2"), ("2", "")]
    assert [(str(i.code), i.line, i.field, i.value) for i in table.issues] == [("formula-no-value", 3, "B", None)]


def _xls(build: Callable[[Any], None]) -> bytes:
    import xlwt
    book = xlwt.Workbook()
    build(book.add_sheet("data"))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xls_number_formats_are_shown_or_named() -> None:
    import xlwt

    def build(sheet: Any) -> None:
        rows = [["Zip", "Price", "Big"], [(42, "00000"), (3.5, "0.00"), (1234.5, "#,##0.00")],
                [(-7, "00000"), (0.125, "0.00"), 12], [123456, (2, "0.00"), None]]
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, tuple):
                    sheet.write(r, c, value[0], xlwt.easyxf(num_format_str=value[1]))
                elif value is not None:
                    sheet.write(r, c, value)

    table = read(_xls(build))
    assert table.frame.rows() == [("00042", "3.50", "1234.5"), ("-00007", "0.125", "12"), ("123456", "2.00", "")]
    assert [(str(i.code), i.line, i.field, i.value) for i in table.issues] == [
        ("number-format", 2, "Big", "#,##0.00"), ("number-format", 3, "Price", "0.00")]


def test_xls_formulas_saved_without_a_value_are_named() -> None:
    import xlwt

    def build(sheet: Any) -> None:
        sheet.write(0, 0, "A")
        sheet.write(0, 1, "Twice")
        sheet.write(1, 0, 4)
        sheet.write(1, 1, xlwt.Formula("A2*2"))

    table = read(_xls(build))
    assert table.frame.rows() == [("4", "")]
    assert [(str(i.code), i.line, i.field, i.severity) for i in table.issues] == [
        ("formula-no-value", 2, "Twice", Severity.WARNING)]


def test_an_xls_whose_records_cannot_be_followed_says_its_formats_were_not_checked() -> None:
    data = _xls(lambda sheet: (sheet.write(0, 0, "Zip"), sheet.write(1, 0, 42)))
    name = "Workbook".encode("utf-16-le")
    at = data.index(name + b"\0\0")
    # the stream renamed "Book" (as Excel 5 named it): fastexcel reads it, the record scan does not
    renamed = data[:at] + "Book".encode("utf-16-le").ljust(64, b"\0") + b"\x0a\x00" + data[at + 66:]
    table = read(renamed)
    assert table.frame.rows() == [("42",)]
    assert [(str(i.code), i.line) for i in table.issues] == [("number-format", None)]


def test_numbers_in_every_form_of_cell_come_out_as_general() -> None:
    data = book_bytes([["N", "Whole", "Flag", "When", "Text"],
                       [0.1 + 0.2, 12345678901234567890, True, dt.time(12, 30), "0.30000000000000004"],
                       [1 / 3, 7, False, dt.datetime(2024, 5, 6, 7, 8, 9), "12345678901234567890"]])

    def spread(sheet: bytes) -> bytes:   # whitespace between elements, an attribute quoting ">"
        return sheet.replace(b'<c r="A2" t="n">', b'<c r="A2" t="n" x="a>b">').replace(b"<v>", b"\n  <v>")

    expected = [("0.3", "12345678901234600000", "TRUE", "12:30:00", "0.30000000000000004"),
                ("0.333333333333333", "7", "FALSE", "2024-05-06 07:08:09", "12345678901234567890")]
    assert read(data).frame.rows() == expected
    assert read(patch_sheet(data, spread)).frame.rows() == expected
