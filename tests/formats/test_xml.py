"""XML reading (fast path and lxml path) and writing: golden files, issues, errors, round trips."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from cgformat.errors import ReadError, WriteError
from cgformat.formats import ReadOptions, WriteOptions
from cgformat.formats import xml as xmlfmt
from cgformat.model import IssueCode, Severity, Table

GOLDEN = Path(__file__).parent.parent / "golden" / "xml"
BOTH = pytest.mark.parametrize("fast", [True, False], ids=["fast", "lxml"])


def read(data: bytes | Path, *, fast: bool = True, chunk_bytes: int = 8 << 20, **options: object) -> Table:
    raw = data.read_bytes() if isinstance(data, Path) else data
    reader = xmlfmt.open_reader(io.BytesIO(raw), source="t.xml", options=ReadOptions(**options),  # type: ignore[arg-type]
                           fast=fast, chunk_bytes=chunk_bytes)
    return Table.from_batches(reader.info, reader.batches())


def used_fast(data: bytes, **options: object) -> bool:
    reader = xmlfmt.open_reader(io.BytesIO(data), source="t.xml", options=ReadOptions(**options))  # type: ignore[arg-type]
    return reader._slow is None


def write(frame: pl.DataFrame, labels: tuple[str, ...] | None = None, **options: object) -> bytes:
    sink = io.BytesIO()
    writer = xmlfmt.open_writer(sink, labels=labels or tuple(frame.columns),
                           options=WriteOptions(**options))  # type: ignore[arg-type]
    writer.write(frame)
    writer.close()
    return sink.getvalue()


def codes(table: Table) -> list[tuple[str, int | None, int | None, str | None]]:
    return [(str(i.code), i.record, i.line, i.field) for i in table.issues]


# --------------------------------------------------------------------------------------------- golden


@BOTH
def test_upper_case_records_with_indentation_and_empty_element(fast: bool) -> None:
    table = read(GOLDEN / "upper.xml", fast=fast)
    assert table.info.record_tag == "RECORD"
    assert table.info.labels == ("Email", "CustomerNumber", "OrderDate")
    assert table.frame.rows() == [("anna@example.com", "0001", "2018-12-23 13:49:56"),
                                  ("bob@example.com", "0002", "")]
    assert table.lines.to_list() == [3, 8]
    assert table.issues == ()


@BOTH
def test_custom_record_tag(fast: bool) -> None:
    with pytest.raises(ReadError, match="record_tag"):
        read(GOLDEN / "custom_tag.xml", fast=fast)
    table = read(GOLDEN / "custom_tag.xml", fast=fast, record_tag="Customer")
    assert table.info.labels == ("Email", "Country")
    assert table.frame.rows() == [("a@example.com", "NL"), ("b@example.com", "CO")]
    assert table.lines.to_list() == [3, 4]


def test_uniform_files_take_the_fast_path() -> None:
    assert used_fast((GOLDEN / "custom_tag.xml").read_bytes(), record_tag="Customer")
    assert not used_fast((GOLDEN / "upper.xml").read_bytes())  # <OrderDate/> differs from record 1
    assert not used_fast((GOLDEN / "text.xml").read_bytes())  # CDATA


@BOTH
def test_missing_fields_and_a_field_first_seen_late(fast: bool) -> None:
    table = read(GOLDEN / "missing_fields.xml", fast=fast)
    assert table.info.labels == ("Email", "FirstName", "Comment")
    assert table.frame.rows() == [("a@example.com", "Anna", ""), ("", "Bob", ""),
                                  ("c@example.com", "", "late field")]


@BOTH
def test_entities_cdata_whitespace_and_character_references(fast: bool) -> None:
    table = read(GOLDEN / "text.xml", fast=fast)
    assert table.frame.row(0) == ("Tom & Jerry <3 > \"x\" 'y'", "<b>bold</b> & raw", "  two\nlines  ",
                                  "A\U0001F600\r")


@BOTH
@pytest.mark.parametrize("name", ["xxe.xml", "laughs.xml"])
def test_entity_declarations_are_refused_and_never_expanded(fast: bool, name: str) -> None:
    passwd = Path("/etc/passwd").read_text() if Path("/etc/passwd").exists() else "root:x:0:0"
    with pytest.raises(ReadError, match="DOCTYPE declares entities") as caught:
        read(GOLDEN / name, fast=fast)
    assert passwd.splitlines()[0] not in str(caught.value)
    assert "aaaaaaaaaa" not in str(caught.value)


_RECORD = b"<records><record><Email>a@b.c</Email></record></records>"


@pytest.mark.parametrize("doctype", [
    b'<!DOCTYPE records [<!ENTITY e "x">]>',
    b'<!-- <a> --><!DOCTYPE records [<!-- <b> ]> --><!ENTITY e "x">]>',
    b'<!DOCTYPE records [<!NOTATION n SYSTEM "]><a>"><!ENTITY e "x">]>',
    b"<!DOCTYPE records [<!ENTITY % p SYSTEM 'http://127.0.0.1:9/p.dtd'> %p;]>",
], ids=["plain", "behind-comments", "behind-literal", "parameter"])
def test_entities_refused_before_any_parser_runs(doctype: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    # the decision must not depend on the installed libxml2: lxml is never asked
    def no_parser(*args: object, **kwargs: object) -> object:
        raise AssertionError("lxml parsed a document that declares entities")

    monkeypatch.setattr(etree, "iterparse", no_parser)
    with pytest.raises(ReadError, match="DOCTYPE declares entities"):
        read(b"<?xml version='1.0'?>\n" + doctype + _RECORD, fast=False)


def test_entities_refused_in_utf16() -> None:
    doc = "<?xml version='1.0' encoding='utf-16'?><!DOCTYPE records [<!ENTITY e 'x'>]>" + _RECORD.decode()
    with pytest.raises(ReadError, match="DOCTYPE declares entities"):
        read(doc.encode("utf-16"), fast=False)


def test_doctype_without_entities_is_read() -> None:
    table = read(b'<!DOCTYPE records [<!ELEMENT records ANY>]>' + _RECORD, fast=False)
    assert table.frame.row(0) == ("a@b.c",)


def test_endless_doctype_refused() -> None:
    head = b"<!DOCTYPE records [" + b"<!-- x -->" * (xmlfmt.DOCTYPE_LIMIT // 10 + 1)
    with pytest.raises(ReadError, match="DOCTYPE runs past"):
        read(head + b"]>" + _RECORD, fast=False)


@BOTH
def test_not_well_formed_names_line_and_column(fast: bool) -> None:
    with pytest.raises(ReadError, match=r"line 4, column 37: Opening and ending tag mismatch"):
        read(GOLDEN / "broken.xml", fast=fast)


@BOTH
def test_structure_issues(fast: bool) -> None:
    table = read(GOLDEN / "issues.xml", fast=fast)
    assert table.info.labels == ("Email", "Name")
    assert table.frame.rows() == [("a@example.com", "Ann Lee"), ("b@example.com", ""), ("c@example.com", "")]
    assert table.lines.to_list() == [3, 4, 7]
    assert codes(table) == [
        ("xml-attribute", 1, 3, None), ("xml-attribute", 1, 3, "Email"), ("nested-element", 1, 3, "Name"),
        ("repeated-element", 2, 4, "Email"), ("blank-row", None, 5, None), ("stray-content", None, 6, None),
        ("stray-content", 3, 7, None)]
    severities = {str(i.code): i.severity for i in table.issues}
    assert severities["nested-element"] is Severity.ERROR
    assert severities["repeated-element"] is Severity.ERROR
    assert severities["xml-attribute"] is Severity.ERROR
    assert [i.value for i in table.issues if i.code == IssueCode.XML_ATTRIBUTE] == ["id='1'", "type='work'"]
    assert [i.value for i in table.issues if i.code == IssueCode.REPEATED_ELEMENT] == ["b2@example.com"]


# --------------------------------------------------------------------------------------------- reader


@BOTH
def test_an_attribute_is_an_error_of_its_record_and_namespaces_or_nil_are_none(fast: bool) -> None:
    doc = (b'<records xmlns="urn:x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
           b'<record xmlns:y="urn:y"><Email>a@example.com</Email><Phone xsi:nil="true"/></record>\n'
           b'<record id="7"/>\n'
           b'<record><Email>b@example.com</Email><Phone xsi:nil="true">555</Phone></record>\n'
           b'<record><Email y:kind="work" xmlns:y="urn:y">c@example.com</Email><Phone/></record>\n</records>\n')
    table = read(doc, fast=fast)
    assert table.info.labels == ("Email", "Phone")
    assert table.frame.rows() == [("a@example.com", ""), ("", ""), ("b@example.com", "555"),
                                  ("c@example.com", "")]
    assert table.lines.to_list() == [2, 3, 4, 5]
    assert codes(table) == [("xml-attribute", 2, 3, None), ("xml-attribute", 3, 4, "Phone"),
                            ("xml-attribute", 4, 5, "Email")]
    assert [i.value for i in table.issues] == ["id='7'", "xsi:nil='true'", "kind='work'"]
    assert {i.severity for i in table.issues} == {Severity.ERROR}



@BOTH
def test_records_of_attributes_only_are_refused(fast: bool) -> None:
    with pytest.raises(ReadError, match="line 2: the <record> elements hold attributes but no field"):
        read(b'<records>\n<record id="7"/>\n<record id="8"></record>\n</records>\n', fast=fast)

@BOTH
def test_empty_document(fast: bool) -> None:
    table = read(b"<?xml version='1.0' encoding='utf-8'?>\n<records>\n</records>\n", fast=fast)
    assert table.info.labels == ()
    assert table.frame.height == 0
    assert codes(table) == [("empty-file", None, None, None)]


def test_namespaces_and_other_encodings_use_lxml() -> None:
    doc = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<records xmlns="urn:x"><record><Name>Zoë</Name>' \
          '</record></records>'.encode("latin-1")
    table = read(doc)
    assert table.info.labels == ("Name",)
    assert table.frame.row(0) == ("Zoë",)
    assert [(str(i.code), i.value) for i in table.issues] == [("non-utf8", "ISO-8859-1")]


def test_bom_crlf_and_pretty_printing_on_the_fast_path() -> None:
    doc = ("\ufeff<?xml version=\"1.0\"?>\r\n<records>\r\n  <record>\r\n    <A>x\r\ny</A>\r\n    <B >1</B >\r\n"
           "  </record>\r\n  <record>\r\n    <A>z</A>\r\n    <B >2</B >\r\n  </record>\r\n</records>\r\n").encode()
    assert used_fast(doc)
    fast, slow = read(doc), read(doc, fast=False)
    assert fast.frame.rows() == slow.frame.rows() == [("x\ny", "1"), ("z", "2")]
    assert fast.lines.to_list() == slow.lines.to_list() == [3, 8]


def test_batches_stream_across_chunks() -> None:
    frame = pl.DataFrame({"A": [f"{i:05d}" for i in range(500)], "B": ["x & y"] * 500})
    doc = write(frame)
    reader = xmlfmt.open_reader(io.BytesIO(doc), source="t", options=ReadOptions(batch_size=64), chunk_bytes=1000)
    assert reader._slow is None
    batches = list(reader.batches())
    assert [b.first_record for b in batches] == list(range(1, 501, 64))
    assert {b.frame.height for b in batches[:-1]} == {64}
    table = Table.from_batches(reader.info, batches)
    assert table.frame.equals(frame)
    assert table.lines.to_list() == list(range(3, 503))


def test_a_bad_value_late_in_a_fast_document_is_a_read_error_with_its_line() -> None:
    frame = pl.DataFrame({"A": [str(i) for i in range(300)]})
    doc = write(frame).replace(b"<A>250</A>", b"<A>2&#0;</A>")
    reader = xmlfmt.open_reader(io.BytesIO(doc), source="t.xml", options=ReadOptions(batch_size=100), chunk_bytes=500)
    got: list[int] = []

    def drain() -> None:
        for batch in reader.batches():
            got.append(batch.frame.height)

    with pytest.raises(ReadError, match="line 253"):
        drain()
    assert sum(got) <= 250


def test_non_seekable_stream_is_spooled() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            chunk = self._data.read(len(buffer))
            buffer[:len(chunk)] = chunk
            return len(chunk)

    doc = (GOLDEN / "missing_fields.xml").read_bytes()
    reader = xmlfmt.open_reader(io.BufferedReader(Pipe(doc)), source="-", options=ReadOptions())  # type: ignore[arg-type]
    table = Table.from_batches(reader.info, reader.batches())
    assert table.frame.height == 3
    assert reader.info.bytes == len(doc)


# --------------------------------------------------------------------------------------------- writer


def test_writer_exact_bytes() -> None:
    frame = pl.DataFrame({"Email": ["a&b<c>@x.com", ""], "Note": ["l1\r\nl2", " ]]> "]})
    assert write(frame) == (
        b"<?xml version='1.0' encoding='utf-8'?>\n<records>\n"
        b"<record><Email>a&amp;b&lt;c&gt;@x.com</Email><Note>l1&#13;\nl2</Note></record>\n"
        b"<record><Email></Email><Note> ]]&gt; </Note></record>\n"
        b"</records>\n")


def test_writer_tags_from_options_and_envelope_tags() -> None:
    frame = pl.DataFrame({"E-mail": ["a"]})
    out = write(frame, xml_tags=("Email",), root_tag="RECORDS", record_tag="RECORD")
    assert out.endswith(b"<RECORDS>\n<RECORD><Email>a</Email></RECORD>\n</RECORDS>\n")
    with pytest.raises(WriteError, match="record tag"):
        write(frame, record_tag="1x")


def test_xml_names() -> None:
    names, issues = xmlfmt.xml_names(["Email", "Order Date", "1st", "", "xmlId", "a:b", "Email", "Order_Date",
                                 "Zoë", "名前"])
    assert names == ("Email", "Order_Date_2", "_1st", "_", "_xmlId", "a_b", "Email_2", "Order_Date",
                     "Zoë", "名前")
    assert [(str(i.code), i.field, i.value) for i in issues] == [
        ("renamed-label", "Order Date", "Order_Date_2"), ("renamed-label", "1st", "_1st"),
        ("renamed-label", "", "_"), ("renamed-label", "xmlId", "_xmlId"), ("renamed-label", "a:b", "a_b"),
        ("renamed-label", "Email", "Email_2")]
    assert all(i.severity is Severity.WARNING for i in issues)


def test_writer_applies_xml_names() -> None:
    frame = pl.DataFrame({"Order Date": ["x"]})
    assert b"<record><Order_Date>x</Order_Date></record>" in write(frame)


@pytest.mark.parametrize("char", ["\x00", "\x08", "\x0b", "\x1f", "\ufffe", "\uffff"])
def test_writer_refuses_characters_xml_cannot_hold(char: str) -> None:
    frame = pl.DataFrame({"A": ["ok", "ok"], "B": ["ok", f"bad{char}"]})
    sink = io.BytesIO()
    writer = xmlfmt.open_writer(sink, labels=("A", "B"), options=WriteOptions())
    writer.write(frame.head(1))
    with pytest.raises(WriteError, match=r"record 7, field 'B'"):
        writer.write(frame, records=pl.Series([6, 7]))
    with pytest.raises(WriteError, match=r"record 3, field 'B'"):
        writer.write(frame)
    assert sink.getvalue().count(b"<record>") == 1


def test_envelope_size_is_the_empty_file() -> None:
    sink = io.BytesIO()
    writer = xmlfmt.open_writer(sink, labels=("A",), options=WriteOptions(root_tag="RECORDS"))
    writer.close()
    assert len(sink.getvalue()) == xmlfmt.envelope_size(labels=("A",), options=WriteOptions(root_tag="RECORDS"))


# --------------------------------------------------------------------------------------------- properties

XML_CHARS = st.characters(blacklist_categories=("Cs",),
                          blacklist_characters="".join(map(chr, [*range(0x09), 0x0B, 0x0C,
                                                                  *range(0x0E, 0x20), 0xFFFE, 0xFFFF])))
VALUES = st.one_of(st.text(XML_CHARS, max_size=12),
                   st.sampled_from(["", " ", "0001", "=1+1", "+31", "-5", "@x", " a ", "a,b", "\"q\"",
                                    "l1\nl2", "l1\r\nl2", "\r", "&amp;", "<x/>", "]]>", "\U0001F600",
                                    "31612345678", "1e20"]))


@st.composite
def tables(draw: st.DrawFn) -> pl.DataFrame:
    width = draw(st.integers(1, 4))
    height = draw(st.integers(0, 6))
    labels = draw(st.lists(st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,6}", fullmatch=True)
                           .filter(lambda s: not s.lower().startswith("xml")),
                           min_size=width, max_size=width, unique=True))
    return pl.DataFrame({label: pl.Series(label, draw(st.lists(VALUES, min_size=height, max_size=height)),
                                          dtype=pl.String) for label in labels})


@settings(max_examples=60)
@given(tables())
def test_round_trip_both_paths(frame: pl.DataFrame) -> None:
    doc = write(frame)
    for fast in (True, False):
        table = read(doc, fast=fast, chunk_bytes=64)
        if frame.height:
            assert table.info.labels == tuple(frame.columns)
            assert table.frame.equals(frame)
        assert table.lines.to_list() == [3 + offset for offset in _line_offsets(frame)]
    assert len(doc) == xmlfmt.envelope_size(labels=tuple(frame.columns), options=WriteOptions()) + int(
        xmlfmt.record_sizes(frame, labels=tuple(frame.columns), options=WriteOptions()).sum())


def _line_offsets(frame: pl.DataFrame) -> list[int]:
    # each record starts on the line after the previous one ended; "\r" is written as &#13;
    offsets, at = [], 0
    for row in frame.rows():
        offsets.append(at)
        at += 1 + sum(v.count("\n") for v in row)
    return offsets


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """Record documents in shapes the fast path accepts, and some it must hand to lxml."""
    names = draw(st.lists(st.sampled_from(["A", "B", "Email", "Zoë", "c.d"]), min_size=1, max_size=3,
                          unique=True))
    n = draw(st.integers(0, 5))
    crlf = draw(st.booleans())
    indent = draw(st.sampled_from(["", "\n", "\n  ", " \t"]))
    style = draw(st.sampled_from(["uniform", "uniform", "selfclose", "missing", "cdata", "comment", "attr",
                                  "stray", "badref"]))
    records = []
    for i in range(n):
        fields = []
        for name in names:
            value = draw(st.sampled_from(["", "x", "a &amp; b", "&#65;&#x263A;", "l1\nl2", " sp ", "&lt;&gt;",
                                          "&quot;&apos;", "\t"]))
            if style == "selfclose" and value == "":
                fields.append(f"{indent}<{name}/>")
            elif style == "missing" and i % 2 and name == names[-1]:
                continue
            elif style == "cdata" and i == 0:
                fields.append(f"{indent}<{name}><![CDATA[{value}]]></{name}>")
            elif style == "attr" and i == n - 1:
                fields.append(f'{indent}<{name} k="v">{value}</{name}>')
            else:
                fields.append(f"{indent}<{name}>{value}</{name}>")
        comment = "<!-- c -->" if style == "comment" and i == 1 else ""
        stray = "oops" if style == "stray" and i == n - 1 else ""
        if style == "badref" and i == n - 1:
            fields[0] = fields[0].replace("</", "&bad;</", 1)
        records.append(f"{comment}<record>{stray}{''.join(fields)}{indent}</record>")
    text = "<?xml version='1.0' encoding='utf-8'?>\n<records>" + indent + indent.join(records) + "\n</records>\n"
    if crlf:
        text = text.replace("\n", "\r\n")
    return text.encode()


@settings(max_examples=80)
@given(documents())
def test_fast_path_equals_lxml(doc: bytes) -> None:
    outcomes = []
    for fast_path in (True, False):
        try:
            outcomes.append(read(doc, fast=fast_path, chunk_bytes=50))
        except ReadError as error:
            outcomes.append(str(error))
    fast, slow = outcomes
    if isinstance(slow, str):
        assert fast == slow
        return
    assert isinstance(fast, Table)
    assert fast.info.labels == slow.info.labels
    assert fast.frame.equals(slow.frame)
    assert fast.lines.to_list() == slow.lines.to_list()
    assert codes(fast) == codes(slow)


BAD_CHARS = st.sampled_from([*map(chr, [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]), "\ufffe", "\uffff"])


@settings(max_examples=40)
@given(tables(), st.data())
def test_writer_refuses_what_xml_cannot_hold(frame: pl.DataFrame, data: st.DataObject) -> None:
    if frame.height == 0:
        frame = pl.DataFrame({c: ["x"] for c in frame.columns})
    row = data.draw(st.integers(0, frame.height - 1))
    col = data.draw(st.integers(0, frame.width - 1))
    bad = data.draw(BAD_CHARS)
    name = frame.columns[col]
    values = frame[name].to_list()
    values[row] = values[row][:1] + bad + values[row][1:]
    frame = frame.with_columns(pl.Series(name, values, dtype=pl.String))
    first = next(k for k, r in enumerate(frame.rows()) if any(any(ch == bad for ch in v) for v in r))
    first_col = next(c for c in frame.columns if bad in frame[c][first])
    sink = io.BytesIO()
    writer = xmlfmt.open_writer(sink, labels=tuple(frame.columns), options=WriteOptions())
    with pytest.raises(WriteError, match=rf"record {first + 1}, field '{first_col}'"):
        writer.write(frame)
    assert b"<record>" not in sink.getvalue()


@BOTH
def test_invalid_utf8_is_a_read_error_with_its_line(fast: bool) -> None:
    doc = b"<?xml version='1.0' encoding='utf-8'?>\n<records>\n<record><A>ok</A></record>\n" \
          b"<record><A>caf\xe9</A></record>\n</records>\n"
    with pytest.raises(ReadError, match="line 4"):
        read(doc, fast=fast)


def test_text_problem_found_in_pass_two_hands_over_to_lxml() -> None:
    frame = pl.DataFrame({"A": [str(i) for i in range(200)], "B": ["x"] * 200})
    doc = write(frame).replace(b"<record><A>150</A>", b"<record>stray<A>150</A>")
    reader = xmlfmt.open_reader(io.BytesIO(doc), source="t", options=ReadOptions(batch_size=40), chunk_bytes=600)
    assert reader._slow is None  # the first pass only looks at tags
    table = Table.from_batches(reader.info, reader.batches())
    assert table.frame.equals(frame)
    assert table.lines.to_list() == list(range(3, 203))
    assert codes(table) == [("stray-content", 151, 153, None)]
