"""XML as other producers write it (CDATA, references, comments, namespaces, encodings, pandas' to_xml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cgformat.files import read_file
from cgformat.formats import ReadOptions

from ._util import chain, codes, one_line_refusal, rows, run

CASES: dict[str, tuple[bytes, tuple[str, ...], list[tuple[str, ...]]]] = {
    "cdata_and_references": (
        b'<?xml version="1.0"?>\n<records>\n<record><Name><![CDATA[A & B <c>]]></Name>'
        b"<Note>x &amp; y &#233; &#x1F600;</Note></record>\n</records>\n",
        ("Name", "Note"), [("A & B <c>", "x & y \u00e9 \U0001f600")]),
    "comments_and_instructions": (
        b'<?xml version="1.0"?>\n<records>\n<!-- export -->\n<record><Name>A<!-- inner -->B</Name>'
        b"<Note>  spaced  </Note></record>\n<?pi x?>\n<record><Name>C</Name><Note>\n one\n two\n</Note></record>\n"
        b"</records>\n",
        ("Name", "Note"), [("AB", "  spaced  "), ("C", "\n one\n two\n")]),
    "default_namespace": (
        b'<?xml version="1.0"?>\n<records xmlns="urn:example"><record><Email>a@example.com</Email>'
        b"<Name>Ann</Name></record></records>\n",
        ("Email", "Name"), [("a@example.com", "Ann")]),
    "prefixed_namespace": (
        b'<x:records xmlns:x="urn:x"><x:record><x:Name>A</x:Name></x:record></x:records>',
        ("Name",), [("A",)]),
    "byte_order_mark": (b'\xef\xbb\xbf<?xml version="1.0"?><records><record><Name>A</Name></record></records>',
                        ("Name",), [("A",)]),
    "upper_case_tags": (b"<RECORDS><RECORD><Name>A</Name></RECORD></RECORDS>", ("Name",), [("A",)]),
    "empty_and_self_closing": (b"<records><record><Name>A</Name><Empty></Empty><Missing/></record></records>",
                               ("Name", "Empty", "Missing"), [("A", "", "")]),
    "fields_differ_per_record": (b"<records><record><Name>A</Name></record><record><Other>B</Other></record>"
                                 b"</records>", ("Name", "Other"), [("A", ""), ("", "B")]),
    "fields_in_another_order": (b"<records><record><a>1</a><b>2</b></record><record><b>4</b><a>3</a></record>"
                                b"</records>", ("a", "b"), [("1", "2"), ("3", "4")]),
    "escaped_line_ends": (b"<records><record><Name>A&#13;&#10;B</Name></record></records>", ("Name",),
                          [("A\r\nB",)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_read_gives_the_expected_values(tmp_path: Path, name: str) -> None:
    data, labels, expected = CASES[name]
    src = tmp_path / f"{name}.xml"
    src.write_bytes(data)
    table = read_file(src)
    assert table.info.labels == labels
    assert rows(table) == expected
    assert codes(table) == []
    back = read_file(chain(src, ("csv", "xlsx", "xml", "csv")))
    assert back.info.labels == labels
    assert rows(back) == expected


@pytest.mark.parametrize(("encoding", "declared"), [("iso-8859-1", "ISO-8859-1"), ("utf-16", "UTF-16")])
def test_a_declared_encoding_is_decoded_and_reported(tmp_path: Path, encoding: str, declared: str) -> None:
    src = tmp_path / "enc.xml"
    src.write_bytes(f'<?xml version="1.0" encoding="{declared}"?><records><record><Name>Müller</Name></record>'
                    f"</records>".encode(encoding))
    table = read_file(src)
    assert rows(table) == [("Müller",)]
    assert [c for c, _ in codes(table)] == ["non-utf8"]
    assert chain(src, ("csv",)).read_bytes() == "Name\nMüller\n".encode()


def test_a_literal_crlf_in_text_is_one_line_feed_as_xml_says() -> None:
    table = read_file(b"<records><record><Name>A\r\nB</Name></record></records>", fmt="xml")
    assert rows(table) == [("A\nB",)]


def test_pandas_to_xml_is_read_with_its_record_tag(tmp_path: Path) -> None:
    src = tmp_path / "pandas.xml"
    src.write_bytes(b'<?xml version="1.0" encoding="utf-8"?>\n<data>\n  <row>\n    <index>0</index>\n'
                    b"    <shape>square</shape>\n    <sides>4.0</sides>\n  </row>\n  <row>\n    <index>1</index>\n"
                    b"    <shape>circle</shape>\n    <sides/>\n  </row>\n</data>\n")
    dst = tmp_path / "out.csv"
    one_line_refusal(run("convert", src, dst), 3)
    assert not dst.exists()
    table = read_file(src, options=ReadOptions(record_tag="row"))
    assert table.info.labels == ("index", "shape", "sides")
    assert rows(table) == [("0", "square", "4.0"), ("1", "circle", "")]
    assert table.lines.to_list() == [3, 8]
    assert run("convert", src, dst, "--record-tag", "row").code == 0
    assert dst.read_bytes() == b"index,shape,sides\n0,square,4.0\n1,circle,\n"


def test_a_repeated_field_refuses_the_record(tmp_path: Path) -> None:
    src = tmp_path / "dup.xml"
    src.write_bytes(b"<records><record><Name>A</Name><Name>B</Name></record></records>")
    dst = tmp_path / "out.csv"
    ran = run("convert", src, dst)
    assert ran.code == 1
    assert not dst.exists()


ATTRIBUTED = (b'<records xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
              b'<record id="7"><Email>a@example.com</Email></record>\n'
              b'<record><Email type="work">b@example.com</Email></record>\n'
              b'<record><Email>c@example.com</Email><Phone xsi:nil="true"/></record>\n</records>\n')


def test_attribute_values_are_never_lost_silently(tmp_path: Path) -> None:
    src = tmp_path / "attrs.xml"
    src.write_bytes(ATTRIBUTED)
    checked = run("validate", src, "--type", "contact", "--json")
    assert checked.code == 1
    found = [(i["code"], i["severity"], i["record"], i["line"], i["field"], i["value"])
             for i in checked.json()["issues"] if i["code"] == "xml-attribute"]
    assert found == [("xml-attribute", "error", 1, 2, None, "id='7'"),
                     ("xml-attribute", "error", 2, 3, "Email", "type='work'")]
    for command in ("convert", "fix"):
        dst = tmp_path / f"{command}.csv"
        assert run(command, src, dst).code == 1
        assert not dst.exists()
    out = tmp_path / "parts"
    assert run("split", src, "--out", out).code == 1
    parts = [p for p in out.iterdir() if p.name.startswith("attrs-")]
    assert [rows(read_file(p)) for p in parts] == [[("c@example.com", "")]]
    assert [r[-1] for r in rows(read_file(out / "rejects.xml"))] == ["xml-attribute:", "xml-attribute:Email"]
