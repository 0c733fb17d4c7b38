"""Rebuild the Excel golden workbooks in ``tests/golden/excel/``: ``python tools/make_golden_excel.py``.

The workbooks come from openpyxl (XLSX) and xlwt (real BIFF8 XLS), not from cgformat's own writer, so the
reader is tested on files other programs make. openpyxl writes formulas without a cached value, as it
cannot calculate; the cached values Excel would store are patched into the sheet XML afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import xlwt

HERE = Path(__file__).resolve().parents[1] / "tests" / "golden" / "excel"
HEADER = ["Text", "Number", "Date", "DateTime", "Time", "Bool", "Formula", "BigNumber", "BigText", "Decimal"]

# cell -> (cached value, is text); error values use t="e"
CACHED = {"G2": ("6", False), "G3": ("truey", True), "G5": ("#DIV/0!", None), "G6": ("-10", False)}


def _patch_cached(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                for ref, (value, text) in CACHED.items():
                    kind = ' t="str"' if text else (' t="e"' if text is None else "")
                    pattern = re.compile(rb'<c r="' + ref.encode() + rb'"([^>]*)>(<f>.*?</f>)<v\s*/?>(?:</v>)?')
                    part, n = pattern.subn(
                        lambda m, v=value, k=kind, r=ref: b'<c r="' + r.encode() + b'"'
                        + m.group(1).replace(b' t="n"', b"") + k.encode() + b">" + m.group(2)
                        + b"<v>" + v.encode() + b"</v>", part)
                    assert n == 1, ref
            target.writestr(info, part)
    return out.getvalue()


def make_xlsx() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(HEADER)
    sheet.append(["0001", 3.0, dt.date(2024, 1, 3), dt.datetime(2018, 12, 23, 13, 49, 56), dt.time(13, 49, 56),
                  True, "=B2*2", 31612345678, "31612345678", 1.5])
    sheet.append(["true", 45000, dt.date(1999, 12, 31), dt.datetime(2024, 2, 29, 23, 59, 59), dt.time(0, 0, 1),
                  False, '=A3&"y"', 12345678901234567890, "12345678901234567890", 0.1 + 0.2])
    sheet.append([None] * len(HEADER))
    sheet.append([" pad ", 1e20, None, None, None, None, "=1/0", None, "0001", 1 / 3])
    sheet.append(["=not a formula", -5, None, None, None, None, "=B6*2", 123456789012345, "", 1e-20])
    sheet["A6"].data_type = "s"
    sheet["C2"].number_format = "yyyy-mm-dd"
    sheet["C3"].number_format = "yyyy-mm-dd"
    sheet["D2"].number_format = "yyyy-mm-dd hh:mm:ss"
    sheet["D3"].number_format = "yyyy-mm-dd hh:mm:ss"
    sheet["E2"].number_format = "hh:mm:ss"
    sheet["E3"].number_format = "hh:mm:ss"
    other = book.create_sheet("Other")
    other.append(["X", "Y"])
    other.append(["1", "2"])
    book.create_sheet("Empty")
    buffer = io.BytesIO()
    book.save(buffer)
    (HERE / "corner.xlsx").write_bytes(_patch_cached(buffer.getvalue()))

    book = openpyxl.Workbook()
    book.active.title = "Blank"
    data = book.create_sheet("Customers")
    data["B3"] = "Email"
    data["C3"] = "CustomerNumber"
    data["B4"] = "a@example.com"
    data["C4"] = "0042"
    data["B6"] = "b@example.com"
    hidden = book.create_sheet("Hidden")
    hidden.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    (HERE / "one_sheet.xlsx").write_bytes(buffer.getvalue())


def make_xls() -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Data")
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    stamp = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")
    clock = xlwt.easyxf(num_format_str="hh:mm:ss")
    for column, label in enumerate(HEADER):
        sheet.write(0, column, label)
    rows = [
        ["0001", 3.0, (dt.date(2024, 1, 3), date), (dt.datetime(2018, 12, 23, 13, 49, 56), stamp),
         (dt.time(13, 49, 56), clock), True, xlwt.Formula("B2*2"), 31612345678, "31612345678", 1.5],
        ["true", 45000, (dt.date(1999, 12, 31), date), (dt.datetime(2024, 2, 29, 23, 59, 59), stamp),
         (dt.time(0, 0, 1), clock), False, None, 12345678901234567890, "12345678901234567890", 0.1 + 0.2],
        None,
        [" pad ", 1e20, None, None, None, None, None, None, "0001", 1 / 3],
        ["=not a formula", -5, None, None, None, None, None, 123456789012345, "", 1e-20],
    ]
    for r, row in enumerate(rows, start=1):
        if row is None:
            continue
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, tuple):
                sheet.write(r, c, value[0], value[1])
            else:
                sheet.write(r, c, value)
    other = book.add_sheet("Other")
    other.write(0, 0, "X")
    other.write(1, 0, "1")
    book.add_sheet("Empty")
    book.save(str(HERE / "corner.xls"))


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None).parse_args()
    make_xlsx()
    make_xls()
