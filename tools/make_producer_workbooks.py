"""Rebuild the golden workbooks of other producers in ``tests/golden/excel/``:
``python tools/make_producer_workbooks.py``.

* ``producers_openpyxl.xlsx``: openpyxl (formulas without a saved value, as openpyxl cannot calculate);
* ``producers_1904.xlsx``: the same cells in a workbook on the 1904 date system;
* ``producers_xlwt.xls``: xlwt (BIFF8);
* ``producers_libreoffice.xlsx`` / ``.xls``: the openpyxl workbook opened, calculated and saved by
  LibreOffice headless (``soffice``, Debian's ``libreoffice-calc-nogui``), and ``producers_libreoffice.csv``:
  the sheet as LibreOffice shows it (its CSV export writes each cell as formatted), the expectation the
  tests compare cgformat's reading with.

LibreOffice is too heavy for CI (58 packages), so its files are made here once and committed; this script
is how they were made. The cells: numbers that carry binary noise (41800000.01), number formats that pad
(``00000``, ``0.00``), formats cgformat does not apply (``#,##0.00``, ``0%``), dates, formulas.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import openpyxl
import xlwt
from openpyxl.utils.datetime import CALENDAR_MAC_1904

HERE = Path(__file__).resolve().parents[1] / "tests" / "golden" / "excel"
HEADER = ["Id", "Price", "Amount", "Total", "Date", "Big", "Share", "Text"]
ROWS: list[list[object]] = [
    [42, 3.5, 41800000.01, "=B2*C2", dt.date(2024, 1, 3), 1234567.5, 0.25, "0042"],
    [7, 10, 0.1, "=C3+0.2", dt.date(1999, 12, 31), 12, 0.5, "41800000.009999998"],
    [123456, 2.25, 556885.23, "=ROUND(C4,1)", dt.date(2026, 12, 7), 0.5, 1, "text"],
    [-42, 0.125, -1234567.89, "=A5&\"x\"", dt.date(2000, 2, 29), -3, 0, ""],
]
FORMATS = {"A": "00000", "B": "0.00", "E": "yyyy-mm-dd", "F": "#,##0.00", "G": "0%"}


def _openpyxl(epoch: dt.datetime | None = None) -> bytes:
    book = openpyxl.Workbook()
    if epoch is not None:
        book.epoch = epoch
    sheet = book.active
    sheet.title = "Values"
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    for column, code in FORMATS.items():
        for r in range(2, len(ROWS) + 2):
            sheet[f"{column}{r}"].number_format = code
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def make_openpyxl() -> None:
    (HERE / "producers_openpyxl.xlsx").write_bytes(_openpyxl())
    (HERE / "producers_1904.xlsx").write_bytes(_openpyxl(CALENDAR_MAC_1904))


def make_xlwt() -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Values")
    styles = {column: xlwt.easyxf(num_format_str=code) for column, code in FORMATS.items()}
    for c, label in enumerate(HEADER):
        sheet.write(0, c, label)
    for r, row in enumerate(ROWS, start=1):
        for c, value in enumerate(row):
            letter = "ABCDEFGH"[c]
            cell = xlwt.Formula(value[1:]) if isinstance(value, str) and value.startswith("=") else value
            if letter in styles:
                sheet.write(r, c, cell, styles[letter])
            else:
                sheet.write(r, c, cell)
    book.save(str(HERE / "producers_xlwt.xls"))


def make_libreoffice() -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        raise SystemExit("soffice not found: apt-get install --no-install-recommends libreoffice-calc-nogui")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "producers_libreoffice.xlsx"
        source.write_bytes(_openpyxl())
        profile = f"-env:UserInstallation=file://{folder / 'profile'}"
        for target, filt in (("xlsx", "xlsx:Calc MS Excel 2007 XML"), ("xls", "xls:MS Excel 97"),
                             ("csv", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true")):
            out = folder / "out"
            subprocess.run([soffice, profile, "--headless", "--calc", "--convert-to", filt, "--outdir", str(out),
                            str(source)], check=True, capture_output=True, timeout=120)
            shutil.copyfile(out / f"producers_libreoffice.{target}", HERE / f"producers_libreoffice.{target}")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None).parse_args()
    make_openpyxl()
    make_xlwt()
    make_libreoffice()
