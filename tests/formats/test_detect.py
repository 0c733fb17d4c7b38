"""Format detection: by the name given, by a file name's extension, by a stream's first bytes."""

from __future__ import annotations

import io

import pytest

from cgformat.errors import UnsupportedFormat
from cgformat.formats.detect import check_format, format_by_name, format_from_content, format_from_name


@pytest.mark.parametrize(("head", "want"), [
    (b"PK\x03\x04rest", "xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "xls"),
    (b"<?xml version='1.0'?><records/>", "xml"),
    (b"\xef\xbb\xbf  \n<records><record/></records>", "xml"),
    (b"<_x/>", "xml"),
    (b"<!-- a comment --><r/>", "xml"),
    (b"<1,2\n", "csv"),        # '<' then a digit: no element, a CSV value
    (b"a,b\n1,2\n", "csv"),
    (b"", "csv"),
])
def test_content_tells_the_format_and_leaves_the_stream_where_it_was(head: bytes, want: str) -> None:
    stream = io.BytesIO(b"xx" + head)
    stream.seek(2)
    assert format_from_content(stream) == want
    assert stream.tell() == 2


def test_the_format_given_comes_before_the_name() -> None:
    assert format_by_name("XML", "data.csv") == "xml"
    assert format_by_name(None, "Data.XLSX") == "xlsx"
    assert format_by_name(None, None) is None
    assert format_from_name("list.tsv") == "csv"


@pytest.mark.parametrize(("fmt", "name", "write"), [
    (None, "data.json", False),      # an extension that is no format
    ("json", None, False),
    ("xls", None, True),             # xls is read, never written
    (None, "book.xls", True),
])
def test_a_format_that_cannot_be_read_or_written_is_refused(fmt: str | None, name: str | None, write: bool) -> None:
    with pytest.raises(UnsupportedFormat):
        format_by_name(fmt, name, write=write)


def test_check_format_normalises_the_name() -> None:
    assert check_format(".CSV") == "csv"
    assert check_format("xls") == "xls"
