"""The workbook guard (formats/_workbook.py): the grid it bounds for any layout a sheet may use."""

from __future__ import annotations

import io
import zipfile

import pytest

from cgformat.errors import LimitExceeded
from cgformat.formats._workbook import _PIECE, Workbook

HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        b'2006/main"><cols><col min="1" max="40" width="9"/></cols><sheetData>')
TAIL = b"</sheetData><conditionalFormatting><cfRule type='x'/></conditionalFormatting></worksheet>"
WB = (b"<workbook xmlns:r='http://schemas.openxmlformats.org/officeDocument/2006/relationships'><sheets>"
      b"<sheet name='S' sheetId='1' r:id='rId1'/></sheets></workbook>")
RELS = (b"<Relationships><Relationship Id='rId1' Type='worksheet' Target='worksheets/sheet1.xml'/>"
        b"</Relationships>")


def book(sheet: bytes) -> Workbook:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", WB)
        z.writestr("xl/_rels/workbook.xml.rels", RELS)
        z.writestr("xl/worksheets/sheet1.xml", HEAD + sheet + TAIL)
    return Workbook(buffer.getvalue(), source="book", max_cells=100)


def spans(sheet: bytes) -> tuple[int, int] | None:
    """The rows x columns the guard refuses the sheet with at max_cells=100, or None when it passes."""
    try:
        book(sheet).check_sheet("S")
    except LimitExceeded as error:
        text = str(error)
        if "spans at least" not in text:
            raise
        rows, columns = text.split("spans at least ")[1].split(" columns", maxsplit=1)[0].split(" rows x ")
        return int(rows.replace(",", "")), int(columns.replace(",", ""))
    return None


def cells(n: int, row: int, *, start: int = 1, form: str = "plain") -> bytes:
    out = b""
    for c in range(start, start + n):
        letter = chr(64 + c).encode()
        ref = letter + str(row).encode()
        out += {"plain": b'<c r="' + ref + b'"><v>1</v></c>',
                "late": b'<c t="n" s="0" r="' + ref + b'"><v>1</v></c>',
                "single": b"<c r='" + ref + b"'><v>1</v></c>",
                "bare": b"<c><v>1</v></c>",
                "prefixed": b'<x:c r="' + ref + b'"><x:v>1</x:v></x:c>',
                "empty": b'<c r="' + ref + b'"/>'}[form]
    return out


def rows(count: int, width: int, *, form: str = "plain", numbered: bool = True, first: int = 1) -> bytes:
    tag = b"x:row" if form == "prefixed" else b"row"
    return b"".join((b"<" + tag + (b' r="%d"' % r if numbered else b"") + b">" + cells(width, r, form=form)
                     + b"</" + tag + b">") for r in range(first, first + count))


@pytest.mark.parametrize("form", ["plain", "late", "single", "bare", "prefixed"])
def test_a_sheet_within_the_limit_passes_in_every_layout(form: str) -> None:
    assert spans(rows(10, 10, form=form, numbered=form != "bare")) is None


@pytest.mark.parametrize("form", ["plain", "late", "single", "bare", "prefixed"])
def test_a_sheet_over_the_limit_is_refused_in_every_layout(form: str) -> None:
    found = spans(rows(11, 10, form=form, numbered=form != "bare"))
    assert found is not None
    assert found[0] * found[1] > 100
    assert found[0] >= 11
    assert found[1] >= 10


def test_a_far_cell_out_of_order_is_found() -> None:
    sheet = rows(3, 3) + b'<row r="4"><c r="A4"><v>1</v></c><c r="Z90"><v>1</v></c></row>' + rows(2, 3, first=5)
    assert spans(sheet) == (90, 26)


def test_a_far_row_without_cell_references_is_found() -> None:
    sheet = rows(2, 3) + b'<row r="60">' + cells(3, 0, form="bare") + b"</row>"
    assert spans(sheet) is not None


def test_cells_without_a_value_do_not_count() -> None:
    # a far cell that holds nothing (calamine makes no cell of it) does not make the grid
    sheet = rows(5, 5) + b'<row r="900">' + cells(1, 900, start=26, form="empty") + b"</row>"
    assert spans(sheet) is None


def test_a_row_of_bare_cells_after_empty_ones_counts_them() -> None:
    # cells without r are placed after the previous cell, with a value or not
    sheet = b"<row>" + b"<c/>" * 40 + b"<c><v>1</v></c></row>" + b"<row><c><v>1</v></c></row>" * 2
    assert spans(sheet) == (3, 41)


def test_rows_past_excel_are_refused_at_once() -> None:
    with pytest.raises(LimitExceeded, match=r"goes past row 1,048,576"):
        Workbook(_zip(rows(2, 2) + b'<row r="1048577"><c r="A1048577"><v>1</v></c></row>'), source="b",
                 max_cells=10**9).check_sheet("S")
    with pytest.raises(LimitExceeded, match=r"goes past column 16,384"):
        Workbook(_zip(b'<row r="1"><c r="XFE1"><v>1</v></c></row>'), source="b", max_cells=10**9).check_sheet("S")


def test_a_part_declaring_more_than_the_budget_is_refused_before_it_is_inflated() -> None:
    data = _zip(b"<row><c><v>1</v></c></row>" * (_PIECE // 20))
    with pytest.raises(LimitExceeded, match="inflates to more than 6,400 bytes"):
        Workbook(data, source="b", max_cells=100).check_sheet("S")


def _zip(sheet: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", WB)
        z.writestr("xl/_rels/workbook.xml.rels", RELS)
        z.writestr("xl/worksheets/sheet1.xml", HEAD + sheet + TAIL)
    return buffer.getvalue()


def _workbook_xml(body: bytes) -> Workbook:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("xl/workbook.xml", body)
    return Workbook(buffer.getvalue(), source="book", max_cells=100)


@pytest.mark.parametrize(("body", "expected"), [
    (b'<workbook><workbookPr date1904="1"/><sheets/></workbook>', True),
    (b"<x:workbook xmlns:x='main'><x:workbookPr date1904='true' defaultThemeVersion='1'/></x:workbook>", True),
    (b'<workbook><workbookPr date1904="1"/><extLst><ext uri="{79F54976}"><x14:workbookPr defaultImageDpi="32767"/>'
     b"</ext></extLst></workbook>", True),
    (b'<workbook><workbookPr date1904="0"/></workbook>', False),
    (b"<workbook><workbookPr/><extLst><ext><x15:workbookPr date1904='1'/></ext></extLst></workbook>", False),
    (b"<workbook><sheets/></workbook>", False),
], ids=["plain", "prefixed-single-quotes", "x14-extension-after", "zero", "only-in-an-extension", "none"])
def test_the_date_system_is_the_workbooks_own_workbookpr(body: bytes, expected: bool) -> None:
    assert _workbook_xml(body).date1904 is expected


# --------------------------------------------------------------------------------------------- numbers


def test_the_scan_names_the_columns_whose_numbers_general_may_show_otherwise() -> None:
    sheet = (b'<row r="1"><c r="A1"><v>1.5</v></c><c r="B1" t="s"><v>3</v></c><c r="C1" s="1"/>'
             b'<c r="D1"><v>12</v></c><c r="E1" t=\'b\'><v>1</v></c><c r="F1"><f>1/3</f><v>0.333</v></c>'
             b'<c r="G1"><v>-0</v></c><c r="H1"><v>12345678901234567</v></c></row>'
             b'<row r="2"><c r="I2" x=\'a>b\'>\n  <f t="shared" si="0"/>\n  <v>1E5</v>\n</c>'
             b'<c r="J2" s="2"><v>7</v></c><c r="K2" t="inlineStr"><is><t>1.5</t></is></c>'
             b'<c r="L2" t = "b"><v>0</v></c><c r="M2"><v>1&#46;5</v></c><c r="N2"><v><![CDATA[2.5]]></v></c>'
             b'<c r="O2"><f><![CDATA[1<2]]></f><v>0.1</v></c><c r="P2"><v>-1234</v></c></row>')
    assert book(sheet).check_sheet("S").numbers == frozenset({1, 5, 6, 7, 8, 9, 12, 13, 14, 15})


@pytest.mark.parametrize("form", ["late", "single", "bare"])
def test_cells_the_scan_cannot_name_leave_every_column_to_check(form: str) -> None:
    assert book(rows(2, 3, form=form)).check_sheet("S").numbers is None


def test_a_sheet_of_whole_numbers_and_text_has_no_column_to_check() -> None:
    sheet = b'<row r="1"><c r="A1" t="inlineStr"><is><t>0.5</t></is></c><c r="B1"><v>123456789012345</v></c></row>'
    assert book(sheet).check_sheet("S").numbers == frozenset()
