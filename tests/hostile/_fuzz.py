"""What fuzzing checks: every reader either gives well-formed frames or raises a CgformatError subclass.

Shared by ``test_fuzz.py`` (a modest hypothesis budget in CI) and ``tools/fuzz_long.py`` (a long run).
"""

from __future__ import annotations

import io
import zipfile

import polars as pl

from cgformat.errors import CgformatError
from cgformat.formats import ReadOptions, open_reader
from cgformat.formats._guards import ReaderFailure

from ._corpus import csv_bytes, records_xml, small_sheet, xlsx_bytes

# small limits keep a fuzzed workbook or field from costing much; they are limits like any other
FUZZ_OPTIONS = ReadOptions(batch_size=7, max_cells=200_000, max_field_bytes=1 << 20, max_columns=500)

SEEDS: dict[str, bytes] = {
    "csv": csv_bytes(4) + b'0005,"quoted, value",1,"multi\nline",x,NL,2025-01-01 00:00:00\n',
    "xml": records_xml(3),
    "xlsx": xlsx_bytes(small_sheet(4)),
}

TOKENS = (b'"', b",", b";", b"\t", b"\n", b"\r", b"\r\n", b"\x00", b"\xef\xbb\xbf", b"\xff\xfe", b"\xed\xa0\x80",
          b"\xc3", b"<", b">", b"&", b"&#xD800;", b"&#0;", b"&amp;", b"<!DOCTYPE r [<!ENTITY e 'x'>]>",
          b"<![CDATA[", b"]]>", b"<record>", b"</record>", b"<records>", b'<c r="XFD1048576">', b'r="A1"',
          b"<row>", b"<v>", b"</v>", b"<is><t>", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
          b"=1+1", b"\x1a", b"\x85", "\u2028".encode())


def check_reader(data: bytes, fmt: str, *, options: ReadOptions = FUZZ_OPTIONS) -> int:
    """Read ``data`` as ``fmt`` to the end; return the records read, or -1 for a CgformatError.

    Anything else raised is a bug and propagates. The frames are checked too: every column text, no
    nulls, one line number per record, records numbered without gaps.
    """
    try:
        reader = open_reader(io.BytesIO(data), fmt, source="fuzz", options=options)
        info = reader.info
        expected = 1
        total = 0
        for batch in reader.batches():
            frame = batch.frame
            assert frame.columns == list(info.columns), (frame.columns, info.columns)
            assert all(dtype == pl.String for dtype in frame.dtypes), frame.dtypes
            assert frame.null_count().sum_horizontal().item() == 0 if frame.width else True
            assert batch.lines.len() == frame.height
            assert batch.first_record == expected, (batch.first_record, expected)
            expected += frame.height
            total += frame.height
            for issue in batch.issues:
                assert issue.record is None or 1 <= issue.record <= expected, issue
        return total
    except ReaderFailure:
        raise  # an unexpected exception inside a reader: the user sees a message, but it is a bug
    except CgformatError:
        return -1


def rezip_sheet(sheet_xml: bytes) -> bytes:
    """A workbook around a (mutated) sheet XML: fuzzes the sheet's content past the zip's checksums."""
    return xlsx_bytes(sheet_xml)


def sheet_of(data: bytes) -> bytes:
    """The sheet XML of a seed workbook."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return book.read("xl/worksheets/sheet1.xml")
