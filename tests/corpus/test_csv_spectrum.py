"""csv-spectrum's patterns (CSVs shipped with the JSON a parser must give), recreated with our own values.

Each input is read to exactly the expected values, and survives CSV -> XLSX -> XML -> CSV unchanged.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from cgformat.files import read_file

from ._util import codes, round_trip, rows

CASES: dict[str, tuple[bytes, tuple[str, ...], list[tuple[str, ...]]]] = {
    "comma_in_quotes": (b'name,street,city\nAnna,"12 Main St., Suite 4",Delft\n',
                        ("name", "street", "city"), [("Anna", "12 Main St., Suite 4", "Delft")]),
    "empty_quoted": (b'id,note,tag\n7,"",""\n8,x,y\n', ("id", "note", "tag"), [("7", "", ""), ("8", "x", "y")]),
    "empty_quoted_crlf": (b'id,note,tag\r\n7,"",""\r\n8,x,y\r\n', ("id", "note", "tag"),
                          [("7", "", ""), ("8", "x", "y")]),
    "escaped_quotes": (b'id,quote\n1,"she said ""no"" twice"\n2,plain\n', ("id", "quote"),
                       [("1", 'she said "no" twice'), ("2", "plain")]),
    "json_in_a_field": (b'id,payload\n1,"{""k"": [1, ""v""]}"\n', ("id", "payload"), [("1", '{"k": [1, "v"]}')]),
    "newlines": (b'id,text,n\n1,"first\nsecond",2\n3,"x\n\ny",4\n', ("id", "text", "n"),
                 [("1", "first\nsecond", "2"), ("3", "x\n\ny", "4")]),
    "newlines_crlf": (b'id,text,n\r\n1,"first \r\nsecond",2\r\n3,4,5\r\n', ("id", "text", "n"),
                      [("1", "first \r\nsecond", "2"), ("3", "4", "5")]),
    "quotes_and_newlines": (b'id,text\n1,"line ""one""\nline two"\n2,"""\n"""\n', ("id", "text"),
                            [("1", 'line "one"\nline two'), ("2", '"\n"')]),
    "simple": (b"p,q,r\n1,2,3\n", ("p", "q", "r"), [("1", "2", "3")]),
    "simple_crlf": (b"p,q,r\r\n1,2,3\r\n", ("p", "q", "r"), [("1", "2", "3")]),
    "utf8": ("name,city,word\nZoë,東京,ʤ\nÅsa,Zürich,€\n".encode(), ("name", "city", "word"),
             [("Zoë", "東京", "ʤ"), ("Åsa", "Zürich", "€")]),
    "no_final_newline": (b'id,text\n1,"x\ny"', ("id", "text"), [("1", "x\ny")]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_read_gives_the_expected_values(name: str) -> None:
    data, labels, expected = CASES[name]
    table = read_file(io.BytesIO(data), fmt="csv")
    assert table.info.labels == labels
    assert rows(table) == expected
    assert codes(table) == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_format_keeps_every_value(tmp_path: Path, name: str) -> None:
    data, labels, expected = CASES[name]
    src = tmp_path / f"{name}.csv"
    src.write_bytes(data)
    back = round_trip(src)
    assert back.info.labels == labels
    assert rows(back) == expected
