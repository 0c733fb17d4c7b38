"""The XLS record scan (formats/_biff.py): what it finds, and that no broken file makes it fail."""

from __future__ import annotations

import io
import random

import xlwt

from cgformat.formats._biff import scan_xls


def _book() -> bytes:
    book = xlwt.Workbook()
    sheet = book.add_sheet("data")
    sheet.write(0, 0, "Zip")
    zeros = xlwt.easyxf(num_format_str="00000")
    for row in range(1, 300):   # past the 4,096-byte cutoff: the stream lives in the big sectors
        sheet.write(row, 0, row, zeros)
    sheet.write(300, 0, xlwt.Formula("A2+1"))
    book.add_sheet("other").write(0, 0, 1.5, xlwt.easyxf(num_format_str="0.00"))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_each_sheet_gets_its_own_cells() -> None:
    data = _book()
    scan = scan_xls(data, "data")
    assert scan is not None
    assert [(r, c, v) for r, c, v, _ in scan.formatted] == [(row + 1, 1, f"{row}.0") for row in range(1, 300)]
    assert {scan.styles[s].code for *_, s in scan.formatted} == {"00000"}
    assert scan.empty_formulas == [(301, 1, "")]
    other = scan_xls(data, "other")
    assert other is not None
    assert [(r, c, v) for r, c, v, _ in other.formatted] == [(1, 1, "1.5")]
    assert scan_xls(data, "missing") is None


def test_a_small_stream_in_the_mini_stream_is_read() -> None:
    book = xlwt.Workbook()
    book.add_sheet("s").write(0, 0, 7, xlwt.easyxf(num_format_str="000"))
    buffer = io.BytesIO()
    book.save(buffer)
    scan = scan_xls(buffer.getvalue(), "s")
    assert scan is not None
    assert [(r, c, v) for r, c, v, _ in scan.formatted] == [(1, 1, "7.0")]


def test_broken_files_give_no_scan_and_no_exception() -> None:
    data = _book()
    chance = random.Random(15)
    assert scan_xls(b"", "data") is None
    assert scan_xls(data[:700], "data") is None
    for _ in range(300):
        broken = bytearray(data[:chance.randrange(len(data))] if chance.random() < 0.3 else data)
        for _ in range(chance.randrange(1, 8)):
            at = chance.randrange(len(broken))
            broken[at] = chance.randrange(256)
        result = scan_xls(bytes(broken), "data")
        assert result is None or isinstance(result.formatted, list)
