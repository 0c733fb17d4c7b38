"""The CSV format: reading any dialect and encoding exactly, writing RFC 4180 UTF-8, exact byte sizes.

Golden files live in tests/golden/csv/: ``NAME.csv`` is an input, ``NAME.json`` what reading it gives
(labels, values, lines, issues, or the error); ``options.json`` holds read options per input.
``CGFORMAT_GOLDEN=rewrite pytest tests/formats/test_csv.py`` rewrites the expected files: review the diff.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cgformat.errors import EncodingError, LimitExceeded, ReadError, UsageError, WriteError
from cgformat.formats import ReadOptions, WriteOptions, _csvencoding, _csvfast, _csvscan
from cgformat.formats import csv as csvfmt
from cgformat.model import IssueCode, Severity, Table

GOLDEN = Path(__file__).parent.parent / "golden" / "csv"
REWRITE = os.environ.get("CGFORMAT_GOLDEN") == "rewrite"


def read(data: bytes, *, chunk_size: int = csvfmt.DEFAULT_CHUNK_SIZE, max_quoted: int = csvfmt.MAX_QUOTED_BYTES,
         **options: Any) -> Table:
    reader = csvfmt.open_reader(io.BytesIO(data), source="t.csv", options=ReadOptions(**options),
                                chunk_size=chunk_size, max_quoted=max_quoted)
    return Table.from_batches(reader.info, reader.batches())


def issues(table: Table) -> list[tuple[str, int | None, int | None]]:
    return [(str(i.code), i.record, i.line) for i in table.issues]


def codes(table: Table) -> list[str]:
    return [str(i.code) for i in table.issues]


def write(frame: pl.DataFrame, labels: tuple[str, ...], options: WriteOptions | None = None) -> bytes:
    sink = io.BytesIO()
    writer = csvfmt.open_writer(sink, labels=labels, options=options or WriteOptions())
    writer.write(frame)
    writer.close()
    return sink.getvalue()


# ------------------------------------------------------------------------------------------- golden files


def _outcome(path: Path, options: dict[str, Any]) -> dict[str, Any]:
    try:
        table = read(path.read_bytes(), **options)
    except csvfmt.CsvEncodingError as exc:
        return {"error": "EncodingError", "offset": exc.offset, "line": exc.line}
    except ReadError as exc:
        return {"error": type(exc).__name__, "empty": "is empty" in str(exc)}
    info = table.info
    return {
        "labels": list(info.labels),
        "encoding": info.encoding,
        "delimiter": info.delimiter,
        "bytes": info.bytes,
        "records": [list(row) for row in table.frame.rows()],
        "lines": table.lines.to_list(),
        "issues": [{"code": str(i.code), "severity": str(i.severity), "record": i.record, "line": i.line,
                    "field": i.field, "value": i.value} for i in table.issues],
    }


GOLDEN_INPUTS = sorted(p.name for p in GOLDEN.glob("*.csv"))


@pytest.mark.parametrize("name", GOLDEN_INPUTS)
def test_golden(name: str) -> None:
    options = json.loads((GOLDEN / "options.json").read_text()).get(name, {})
    got = _outcome(GOLDEN / name, options)
    expected_path = GOLDEN / (name.removesuffix(".csv") + ".json")
    if REWRITE or not expected_path.exists():
        expected_path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == json.loads(expected_path.read_text(encoding="utf-8"))


# The golden files pin everything; these tests say out loud what matters most.


def test_bom_is_removed_and_reported() -> None:
    table = read((GOLDEN / "bom.csv").read_bytes())
    assert table.info.labels == ("Email", "FirstName")
    assert table.info.encoding == "utf-8-sig"
    assert codes(table) == ["bom-removed"]
    assert table.frame["FirstName"].to_list() == ["Zoë", "Jörg"]


@pytest.mark.parametrize(("name", "delimiter"), [("semicolon.csv", ";"), ("tab.csv", "\t"), ("pipe.csv", "|")])
def test_other_delimiters_are_detected_and_warned(name: str, delimiter: str) -> None:
    table = read((GOLDEN / name).read_bytes())
    assert table.info.delimiter == delimiter
    warning = [i for i in table.info.issues if i.code == IssueCode.DELIMITER]
    assert len(warning) == 1
    assert warning[0].severity == Severity.WARNING
    assert warning[0].value == delimiter
    assert not [i for i in table.issues if i.code == IssueCode.RAGGED_ROW]


def test_semicolon_values_keep_decimal_commas() -> None:
    table = read((GOLDEN / "semicolon.csv").read_bytes())
    assert table.frame.rows() == [("anne@example.com", "1,50", "a;b"), ("bob@example.com", "2", "plain")]


def test_cp1252_is_detected() -> None:
    table = read((GOLDEN / "cp1252.csv").read_bytes())
    assert table.info.encoding == "cp1252"
    assert table.frame.rows() == [("José", "Zürich", "€5"), ("François", "Bœuf", "“quoted”")]
    [warning] = table.info.issues
    assert warning.code == IssueCode.NON_UTF8
    assert warning.value == "cp1252"
    assert "cp1252" in warning.message


def test_byte_undefined_in_cp1252_means_latin1() -> None:
    table = read((GOLDEN / "latin1.csv").read_bytes())
    assert table.info.encoding == "latin-1"
    assert table.frame.rows() == [("José", "x\x81y")]


def test_one_cp1252_byte_after_the_first_chunk_decodes_the_whole_file() -> None:
    data = (GOLDEN / "late_cp1252.csv").read_bytes()
    table = read(data, chunk_size=1024, batch_size=500)
    assert table.info.encoding == "cp1252"
    assert table.frame.height == 3001
    assert table.frame.row(-1) == ("last", "café")
    [warning] = table.info.issues
    assert warning.code == IssueCode.NON_UTF8
    assert f"offset {data.index(b'caf') + 3}" in warning.message


# ------------------------------------------------------------------------------------ mixed encodings


def _mixed_file(records: int, cp1252_at: tuple[int, ...], *, quirk: bool = False) -> tuple[bytes, list[tuple[str, ...]]]:
    """A UTF-8 file whose lines ``cp1252_at`` (1-based, the header is line 1) are cp1252; with ``quirk`` a stray
    quote now and then, so pieces are read by the slow parser too. Returns the bytes and the records."""
    parts = [b"id,name,city\n"]
    rows: list[tuple[str, ...]] = []
    for line in range(2, records + 2):
        if line in cp1252_at:
            row = (str(line), "Señor Peña", "Málaga")
            parts.append(",".join(row).encode("cp1252") + b"\n")
        else:
            row = (str(line), "Müller" if line % 3 else 'Zo"ë', "Köln – Zürich")
            if not quirk and '"' in row[1]:
                row = (row[0], "Zoë", row[2])
            parts.append(",".join(row).encode("utf-8") + b"\n")
        rows.append(row)
    return b"".join(parts), rows


@pytest.mark.parametrize("quirk", [False, True])
@pytest.mark.parametrize("chunk_size", [64, 1000, csvfmt.DEFAULT_CHUNK_SIZE])
def test_a_utf8_file_with_cp1252_lines_reads_each_line_in_its_encoding(chunk_size: int, quirk: bool) -> None:
    # one cp1252 line near the top, one far after the first piece: both read as cp1252, every other as UTF-8
    data, rows = _mixed_file(3000, (5, 2990), quirk=quirk)
    table = read(data, chunk_size=chunk_size, batch_size=700)
    assert table.frame.rows() == rows
    assert table.frame.row(3) == ("5", "Señor Peña", "Málaga")
    assert table.frame.row(0) == ("2", "Müller", "Köln – Zürich")
    assert table.info.encoding == "utf-8+cp1252"
    mixed = [(i.line, i.value, i.severity) for i in table.issues if i.code == IssueCode.MIXED_ENCODING]
    assert mixed == [(5, "f1 f1 e1", Severity.WARNING), (2990, "f1 f1 e1", Severity.WARNING)]
    assert IssueCode.NON_UTF8 not in codes(table)


def test_a_cp1252_line_after_the_first_8_mb_piece() -> None:
    block = "".join(f"{i},Müller,Köln\n" for i in range(1000)).encode()
    copies = csvfmt.DEFAULT_CHUNK_SIZE // len(block) + 2
    data = b"id,name,city\n" + block * copies + "x,Señor,Málaga\n".encode("cp1252") + "y,Zoë,Zürich\n".encode()
    assert data.index(b"Se\xf1or") > csvfmt.DEFAULT_CHUNK_SIZE
    table = read(data, batch_size=100_000)
    assert table.frame.height == 1000 * copies + 2
    assert table.frame.tail(2).rows() == [("x", "Señor", "Málaga"), ("y", "Zoë", "Zürich")]
    assert table.frame["name"].unique().sort().to_list() == ["Müller", "Señor", "Zoë"]
    assert [(i.code, i.line) for i in table.issues] == [("mixed-encoding", 1000 * copies + 2)]


def test_the_lines_not_utf8_are_named_with_offset_bytes_and_encoding() -> None:
    data, _ = _mixed_file(50, (3, 40))
    data += b"x,\x81 odd," + "Müller\n".encode()   # 81: a byte cp1252 leaves undefined
    found = _csvencoding.sniff(io.BytesIO(data), start=0, chunk_size=64, forced=None, source="t.csv")
    got = [(m.line, m.offset, m.bytes, m.encoding, m.text) for m in found.mixed_lines]
    first = data.index("Señor".encode("cp1252"))
    late = data.index("Señor".encode("cp1252"), first + 1)
    assert got == [(3, first + 2, "f1 f1 e1", "cp1252", "3,Señor Peña,Málaga"),
                   (40, late + 2, "f1 f1 e1", "cp1252", "40,Señor Peña,Málaga"),
                   (52, data.index(b"\x81"), "81", "latin-1", "x,\x81 odd,Müller")]
    assert found.mixed_count == 3
    assert found.label == "utf-8+latin-1"


def test_lines_not_utf8_past_the_listed_ones_are_counted() -> None:
    n = _csvencoding.MIXED_LISTED + 5
    data = "a\nZoë\n".encode() + b"".join(f"Señor {i}\n".encode("cp1252") for i in range(n))
    table = read(data, chunk_size=256)
    assert table.frame.height == n + 1
    assert table.frame.row(-1) == (f"Señor {n - 1}",)
    mixed = [i for i in table.issues if i.code == IssueCode.MIXED_ENCODING]
    assert [i.line for i in mixed[:-1]] == list(range(3, 3 + _csvencoding.MIXED_LISTED))
    assert (mixed[-1].line, mixed[-1].value) == (None, "5")


def test_a_line_mixing_both_encodings_keeps_what_is_certainly_utf8() -> None:
    # a cp1252 byte and a UTF-8 word on one line: the UTF-8 word is not garbled into MÃ¼ller
    data = "a,b\nKöln,x\n".encode() + "Señor ".encode("cp1252") + "Müller,’s\n".encode()
    table = read(data)
    assert table.frame.rows() == [("Köln", "x"), ("Señor Müller", "’s")]
    assert [(i.code, i.line) for i in table.issues] == [("mixed-encoding", 3)]


def test_a_quoted_value_over_two_cp1252_lines_reports_each_line() -> None:
    data = "a,b\nKöln,x\n".encode() + '"Señor\nPeña",y\n'.encode("cp1252") + "Zoë,z\n".encode()
    table = read(data, chunk_size=8)
    assert table.frame.rows() == [("Köln", "x"), ("Señor\nPeña", "y"), ("Zoë", "z")]
    assert [(i.code, i.line) for i in table.issues] == [("mixed-encoding", 3), ("mixed-encoding", 4)]


@pytest.mark.parametrize("chunk_size", [16, csvfmt.DEFAULT_CHUNK_SIZE])
def test_a_wholly_cp1252_file_is_still_read_as_cp1252(chunk_size: int) -> None:
    # letters before curly quotes happen to be valid UTF-8 (JOSÉ” is C9 94, Café’’ ends E9 92 92): no line is
    # certainly UTF-8, so the file is cp1252 throughout, as before, with one file-level warning
    text = "name,note\nJOSÉ”,x\nCafé’’,y\nSeñor,€5\n"
    table = read(text.encode("cp1252"), chunk_size=chunk_size)
    assert table.frame.rows() == [("JOSÉ”", "x"), ("Café’’", "y"), ("Señor", "€5")]
    assert table.info.encoding == "cp1252"
    assert codes(table) == ["non-utf8"]


def test_a_cr_only_file_with_a_cp1252_line() -> None:
    data = "a,b\rKöln,x\r".encode() + "Señor,y\r".encode("cp1252") + "Zoë,z\r".encode()
    table = read(data, chunk_size=5)
    assert table.frame.rows() == [("Köln", "x"), ("Señor", "y"), ("Zoë", "z")]
    assert [(i.code, i.line) for i in table.issues] == [("mixed-encoding", 3)]


_LETTERS = st.text(alphabet=st.sampled_from("abcXYZ 019éüñöÉÜ"), max_size=8)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_LETTERS, _LETTERS, st.booleans()), min_size=1, max_size=30),
       st.sampled_from([3, 17, 256, 1 << 16]))
def test_lines_in_either_encoding_read_back_exactly(lines: list[tuple[str, str, bool]], chunk_size: int) -> None:
    # each record's line in UTF-8 or cp1252: none of these letters makes a UTF-8 sequence in cp1252, so every
    # value reads back exactly, and when the file mixes the two, exactly the cp1252 lines beyond ASCII are named
    # three letters beyond ASCII in a row in a cp1252 line (ÉÜñ) are improbable cp1252: refused, naming the line
    data = b"a,b\n" + b"".join(f"{x}.,{y}.\n".encode("cp1252" if legacy else "utf-8") for x, y, legacy in lines)
    improbable = [n for n, (x, y, cp) in enumerate(lines, start=2) if cp and re.search("[^ -~]{3}", f"{x}.,{y}.")]
    if improbable:
        with pytest.raises(EncodingError) as refused:
            read(data, chunk_size=chunk_size)
        assert refused.value.line == improbable[0]   # type: ignore[attr-defined]
        return
    table = read(data, chunk_size=chunk_size)
    assert table.frame.rows() == [(f"{x}.", f"{y}.") for x, y, _ in lines]
    named = [i.line for i in table.issues if i.code == IssueCode.MIXED_ENCODING]
    legacy = [n for n, (x, y, cp) in enumerate(lines, start=2) if cp and not (x + y).isascii()]
    utf8 = [n for n, (x, y, cp) in enumerate(lines, start=2) if not cp and not (x + y).isascii()]
    assert named == (legacy if utf8 else [])
    assert table.info.encoding == ("utf-8+cp1252" if legacy and utf8 else "cp1252" if legacy else "utf-8")


@pytest.mark.parametrize("name", ["utf16le.csv", "utf16be.csv"])
def test_utf16_with_bom(name: str) -> None:
    table = read((GOLDEN / name).read_bytes())
    assert table.info.encoding == "utf-16"
    assert table.info.labels == ("Email", "Name")
    assert table.frame["Name"].to_list()[0] == "Zoë"
    assert codes(table) == ["non-utf8"]


def test_utf16_without_bom_is_an_encoding_error_with_offset() -> None:
    with pytest.raises(EncodingError) as caught:
        read((GOLDEN / "utf16_nobom.csv").read_bytes())
    assert isinstance(caught.value, csvfmt.CsvEncodingError)
    assert (caught.value.offset, caught.value.line) == (1, 1)


def test_binary_noise_is_an_encoding_error() -> None:
    data = b"Name\nok\n" + bytes(range(0x80, 0x90)) + b"\x01\x02\n"
    with pytest.raises(csvfmt.CsvEncodingError) as caught:
        read(data)
    assert caught.value.offset == data.index(b"\x01")
    assert caught.value.line == 3


def test_utf8_bom_then_cp1252_reads_that_line_as_cp1252() -> None:
    # the byte order mark says UTF-8, so a line that is not is the odd one out: read as cp1252, reported
    table = read((GOLDEN / "mixed_bom.csv").read_bytes())
    assert table.frame.rows() == [("José",)]
    assert table.info.encoding == "utf-8-sig+cp1252"
    assert [(i.code, i.line, i.value) for i in table.issues] == [
        ("bom-removed", None, "utf-8-sig"), ("mixed-encoding", 2, "e9")]


def test_forced_encoding() -> None:
    data = "Name\nJosé\n".encode("cp1252")
    assert read(data, encoding="latin-1").frame.rows() == [("José",)]
    assert read(data, encoding="latin-1").info.encoding == "latin-1"
    with pytest.raises(csvfmt.CsvEncodingError) as caught:
        read(b"Name\nok\nJos\xe9\n", encoding="utf-8")
    assert (caught.value.offset, caught.value.line) == (11, 3)
    with pytest.raises(UsageError):
        read(data, encoding="no-such-codec")


def test_forced_utf16_without_bom() -> None:
    table = read("a,b\n1,2\n".encode("utf-16-le"), encoding="utf-16-le")
    assert table.frame.rows() == [("1", "2")]
    assert codes(table) == ["non-utf8"]


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252"])
@pytest.mark.parametrize("chunk_size", [1, 7, 64])
def test_transcoding_in_small_chunks(encoding: str, chunk_size: int) -> None:
    text = "Name,Note\r\n" + "".join(f'Zoë {i},"a\r\nb €"\r\n' for i in range(40))
    data = text.encode(encoding)
    whole = read(data)
    small = read(data, chunk_size=chunk_size, batch_size=3)
    assert small.frame.equals(whole.frame)
    assert small.lines.equals(whole.lines)
    assert whole.frame.row(39) == ("Zoë 39", "a\r\nb €")
    assert whole.lines.to_list() == list(range(2, 82, 2))


@pytest.mark.parametrize("chunk_size", [1, 5, 4096])
def test_cr_only_in_small_chunks(chunk_size: int) -> None:
    data = b'a,b\r' + b"".join(b'%d,"x\ry"\r' % i for i in range(30))
    table = read(data, chunk_size=chunk_size, batch_size=4)
    assert table.frame.height == 30
    assert table.frame.row(0) == ("0", "x\ry")
    assert table.lines.to_list() == list(range(2, 62, 2))


def test_forced_utf8_sig() -> None:
    table = read(b"\xef\xbb\xbfName\nZo\xc3\xab\n", encoding="utf-8-sig")
    assert table.info.labels == ("Name",)
    assert table.frame.rows() == [("Zoë",)]
    assert codes(table) == ["bom-removed"]


def test_forced_delimiter() -> None:
    data = b"a;b;c,d\n1;2;3,4\n"
    assert read(data).info.delimiter == ";"
    table = read(data, delimiter=",")
    assert table.info.labels == ("a;b;c", "d")
    assert table.frame.rows() == [("1;2;3", "4")]
    assert codes(table) == []
    with pytest.raises(UsageError):
        read(data, delimiter='"')


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b" \r\n\t\n", b"\n\n"])
def test_empty_inputs_raise(data: bytes) -> None:
    with pytest.raises(ReadError, match="is empty"):
        read(data)


@pytest.mark.parametrize("labels", [("", ""), (" ", ""), ("", " ", "")])
def test_a_header_of_blank_labels_is_written_quoted(labels: tuple[str, ...]) -> None:
    # unquoted, a header of blank labels with a tab delimiter is a whitespace-only file, which reads as empty
    data = write(pl.DataFrame(schema=[f"c{i}" for i in range(len(labels))]), labels, WriteOptions(delimiter="\t"))
    assert data.startswith(b'"')
    table = read(data)
    assert table.info.labels == labels
    assert table.frame.height == 0


@pytest.mark.parametrize("data", [b"Email,Name\n", b"Email,Name", b"Email,Name\r\n"])
def test_header_only(data: bytes) -> None:
    table = read(data)
    assert table.info.labels == ("Email", "Name")
    assert table.frame.height == 0
    assert table.frame.columns == ["Email", "Name"]


def test_line_ends_and_quoted_newlines() -> None:
    crlf = read(b'a,b\r\n1,"x\r\ny"\r\n3,4\r\n')
    assert crlf.frame.rows() == [("1", "x\r\ny"), ("3", "4")]
    assert crlf.lines.to_list() == [2, 4]
    cr = read(b'a,b\r1,2\r"3\r3",4\r5,6')
    assert cr.frame.rows() == [("1", "2"), ("3\r3", "4"), ("5", "6")]
    assert cr.lines.to_list() == [2, 3, 5]
    lf = read((GOLDEN / "quoted_newlines.csv").read_bytes())
    assert lf.frame["comment"].to_list() == ["line one\nline two\nline three", 'said "hi",\nthen left', "plain",
                                             ""]
    assert lf.lines.to_list() == [2, 5, 7, 8]


def test_ragged_rows_stay_aligned() -> None:
    table = read(b'a,b,c\n1,2,3\n4,5\n6,7,8,9,"ten, 10"\n11,12,13\n')
    assert table.frame.rows() == [("1", "2", "3"), ("4", "5", ""), ("6", "7", "8"), ("11", "12", "13")]
    ragged = [i for i in table.issues if i.code == IssueCode.RAGGED_ROW]
    assert [(i.record, i.line, i.value, i.severity) for i in ragged] == [
        (2, 3, None, Severity.ERROR), (3, 4, '9,"ten, 10"', Severity.ERROR)]


def test_blank_rows_are_not_records() -> None:
    table = read(b"\n\na,b\n1,2\n\n3,4\r\n\r\n5,6\n\n")
    assert table.frame.rows() == [("1", "2"), ("3", "4"), ("5", "6")]
    assert table.lines.to_list() == [4, 6, 8]
    assert issues(table) == [("blank-row", None, 1), ("blank-row", None, 2), ("blank-row", None, 5),
                             ("blank-row", None, 7), ("blank-row", None, 9)]
    assert read(b"a,b\n,\n").frame.rows() == [("", "")]   # only delimiters: a record


def test_header_problems() -> None:
    table = read(b"Email,,Email, Name ,Name\n1,2,3,4,5\n")
    assert table.info.labels == ("Email", "", "Email", " Name ", "Name")
    assert [(str(i.code), i.field, i.value, i.line) for i in table.info.issues] == [
        ("blank-label", "~column2", "", 1),
        ("duplicate-label", "Email~2", "Email", 1),
        ("padded-label", " Name ", " Name ", 1),
    ]
    assert table.frame.columns == list(table.info.columns)


def test_values_are_kept_exactly() -> None:
    table = read((GOLDEN / "values_exact.csv").read_bytes())
    assert table.frame.rows() == [
        ("007", "0031612345678", "=SUM(A1)", "+31", "-5", "@home", "  padded  ", ""),
        ("0010", "", "=1+2", "+", "-", "@", " ", ""),
    ]
    assert all(dtype == pl.String for dtype in table.frame.dtypes)
    assert table.frame.null_count().sum_horizontal().item() == 0


def test_stray_quotes_are_kept_as_text_and_reported() -> None:
    table = read(b'name,size\n27" monitor,1\n"quoted"tail,2\nok,3\n')
    assert table.frame.rows() == [('27" monitor', "1"), ('"quoted"tail', "2"), ("ok", "3")]
    assert issues(table) == [("stray-quote", 1, 2), ("stray-quote", 2, 3)]


def test_unclosed_quote_is_text_at_the_end() -> None:
    table = read(b'name,size\nok,1\n"never closed,2\nrest,3\n')
    assert table.frame.rows() == [("ok", "1"), ('"never closed', "2"), ("rest", "3")]
    assert issues(table) == [("stray-quote", 2, 3)]


def test_unclosed_quote_is_text_past_the_limit() -> None:
    body = b"".join(b"r%d,%d\n" % (i, i) for i in range(200))
    data = b'name,size\n"open,1\n' + body
    table = read(data, chunk_size=64, max_quoted=256)
    assert table.frame.row(0) == ('"open', "1")
    assert table.frame.height == 201
    assert table.lines.to_list() == list(range(2, 203))


def test_stray_quote_in_a_big_file_does_not_slow_the_rest() -> None:
    rows = [b"%d,text %d" % (i, i) for i in range(5000)]
    rows[10] = b'10,27" monitor'
    data = b"id,text\n" + b"\n".join(rows) + b"\n"
    table = read(data, chunk_size=4096, batch_size=1000)
    assert table.frame.height == 5000
    assert table.frame["text"][10] == '27" monitor'
    assert issues(table) == [("stray-quote", 11, 12)]


def test_single_column_defaults_to_comma() -> None:
    table = read(b'Email\nanne@example.com\n""\n"a,b"\n')
    assert table.info.delimiter == ","
    assert table.frame.rows() == [("anne@example.com",), ("",), ("a,b",)]
    assert codes(table) == []


def test_non_seekable_stream_is_spooled() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer: Any) -> int:
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    reader = csvfmt.open_reader(io.BufferedReader(Pipe(b"a,b\n1,2\n")), source="-", options=ReadOptions())
    assert Table.from_batches(reader.info, reader.batches()).frame.rows() == [("1", "2")]


def test_stream_not_at_its_start() -> None:
    stream = io.BytesIO(b"junk\na,b\n1,2\n")
    stream.seek(5)
    reader = csvfmt.open_reader(stream, source="t", options=ReadOptions())
    assert reader.info.labels == ("a", "b")
    assert reader.info.bytes == 8
    assert Table.from_batches(reader.info, reader.batches()).frame.rows() == [("1", "2")]
    # batches() can run again
    assert Table.from_batches(reader.info, reader.batches()).frame.rows() == [("1", "2")]


def test_registry_reaches_the_module() -> None:
    from cgformat import formats

    reader = formats.open_reader(io.BytesIO(b"a\n1\n"), "csv", source="t")
    assert reader.info.format == "csv"
    assert formats.envelope_size("csv", ["a"]) == 2


# ---------------------------------------------------------------------------------------------- batching


def _multiline_file(n: int) -> bytes:
    rows = []
    for i in range(n):
        if i % 3 == 0:
            rows.append(f'{i},"note {i}\nsecond line, with comma\nthird ""line""",x')
        elif i % 7 == 0:
            rows.append("")        # a blank row
        else:
            rows.append(f"{i},plain {i},y")
    return ("id,note,flag\n" + "\n".join(rows) + "\n").encode()


@pytest.mark.parametrize("chunk_size", [1, 50, 333, 4096])
def test_batches_agree_with_one_batch(chunk_size: int) -> None:
    n = 60 if chunk_size == 1 else 300
    data = _multiline_file(n)
    whole = read(data)
    small = read(data, chunk_size=chunk_size, batch_size=3)
    assert small.frame.equals(whole.frame)
    assert small.lines.equals(whole.lines)
    assert small.issues == whole.issues
    assert whole.frame.height == n - len([i for i in range(n) if i % 3 and i % 7 == 0])


def test_batch_sizes_and_numbering() -> None:
    data = _multiline_file(50)
    reader = csvfmt.open_reader(io.BytesIO(data), source="t", options=ReadOptions(batch_size=3),
                                chunk_size=64)
    batches = list(reader.batches())
    assert all(b.frame.height == 3 for b in batches[:-1])
    assert 1 <= batches[-1].frame.height <= 3
    firsts = [b.first_record for b in batches]
    assert firsts == [1 + 3 * k for k in range(len(batches))]
    for batch in batches:
        for issue in batch.issues:
            if issue.record is not None:
                assert batch.first_record <= issue.record < batch.first_record + batch.frame.height


def test_trailing_blank_rows_after_header_only_still_reported() -> None:
    reader = csvfmt.open_reader(io.BytesIO(b"a,b\n\n\n"), source="t", options=ReadOptions())
    batches = list(reader.batches())
    assert [b.frame.height for b in batches] == [0]
    assert [(str(i.code), i.line) for i in batches[0].issues] == [("blank-row", 2), ("blank-row", 3)]


def test_bad_batch_size() -> None:
    with pytest.raises(UsageError):
        read(b"a\n1\n", batch_size=0)


# ------------------------------------------------------------------------------------ fast path vs slow


def _read_slow(data: bytes, monkeypatch: pytest.MonkeyPatch, **options: Any) -> Table:
    with monkeypatch.context() as patch:
        patch.setattr(csvfmt, "parse_fast", lambda *_a, **_k: 0)
        return read(data, **options)


def _facts(table: Table) -> tuple[Any, ...]:
    return (table.info.labels, table.frame.rows(), table.lines.to_list(),
            [(str(i.code), i.record, i.line, i.value) for i in table.issues])


_TEXT = st.lists(st.sampled_from(["a", "é", "😀", ",", ";", '"', '""', "\n", "\r", "\r\n", " ", '"x,\ny"',
                                  "\ufeff", "0"]), max_size=40).map("".join)


@given(header=st.sampled_from(["h", "h1,h2", "h1,h2,h3", '"a\nb",c', "\n\nh1,h2"]), body=_TEXT,
       chunk=st.integers(1, 30), batch=st.integers(1, 4))
@settings(max_examples=200)
def test_fast_path_agrees_with_the_slow_parser(header: str, body: str, chunk: int, batch: int) -> None:
    data = (header + "\n" + body).encode()
    with pytest.MonkeyPatch.context() as patch:
        slow = _facts(_read_slow(data, patch, delimiter=","))
    assert _facts(read(data, delimiter=",")) == slow
    assert _facts(read(data, delimiter=",", chunk_size=chunk, batch_size=batch)) == slow


_VALUES = st.lists(st.sampled_from(["", "a", "é", ",", '"', "\n", "\r", "\r\n", " ", "x y", "0", "="]),
                   max_size=4).map("".join)


@st.composite
def _written_pieces(draw: st.DrawFn) -> tuple[bytes, int]:
    """A body written by polars (quotes where needed or everywhere, LF or CRLF), sometimes damaged."""
    ncols = draw(st.integers(2, 4))
    rows = draw(st.lists(st.tuples(*[_VALUES] * ncols), min_size=1, max_size=6))
    frame = pl.DataFrame(rows, schema=[f"c{i}" for i in range(ncols)], orient="row")
    sink = io.BytesIO()
    frame.write_csv(sink, include_header=False, quote_style=draw(st.sampled_from(["necessary", "always"])),
                    line_terminator=draw(st.sampled_from(["\n", "\r\n"])))
    data = sink.getvalue()
    if draw(st.booleans()):   # damage it: a byte in, a byte out, or the last line end gone
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["insert", "delete", "strip"]))
        if how == "insert":
            data = data[:at] + draw(st.sampled_from([b'"', b",", b"\n", b"\r", b"a"])) + data[at:]
        elif how == "delete":
            data = data[:at] + data[at + 1:]
        else:
            data = data.rstrip(b"\r\n")
    return data, ncols


_TOKENS = st.sampled_from([b'"', b'""', b",", b"\n", b"\r", b"\r\n", b"a", b" ", b"\xc3\xa9", b";"])


@st.composite
def _token_pieces(draw: st.DrawFn) -> tuple[bytes, int]:
    """Anything made of the bytes that matter to CSV structure: mostly irregular, sometimes regular."""
    ncols = draw(st.integers(2, 4))
    return b"".join(draw(st.lists(_TOKENS, min_size=1, max_size=40))), ncols


_QUOTED = st.lists(st.sampled_from(["a", "\u00e9", ",", "\n", "\r", '""', " ", "\r\n"]), max_size=4).map(
    lambda parts: '"' + "".join(parts) + '"')
_UNQUOTED = st.text(alphabet="ab\u00e9 \t", max_size=3)


@st.composite
def _record_pieces(draw: st.DrawFn) -> tuple[bytes, int]:
    """Records quoted any which way, some with a field too few or too many, some blank lines, some damage."""
    ncols = draw(st.integers(2, 4))
    counts = st.one_of(st.just(ncols), st.sampled_from([0, 1, ncols - 1, ncols + 1]))
    records = [",".join(draw(st.lists(st.one_of(_QUOTED, _UNQUOTED), min_size=n, max_size=n)))
               for n in draw(st.lists(counts, min_size=1, max_size=6))]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    data = (newline.join(records) + draw(st.sampled_from([newline, ""]))).encode()
    if data and draw(st.booleans()):
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + draw(st.sampled_from([b'"', b",", b"\n", b"\r", b""])) + data[at + 1:]
    return data, ncols


@given(piece=st.one_of(_written_pieces(), _token_pieces(), _record_pieces()), keep_raw=st.booleans())
@settings(max_examples=600)
def test_canonical_parse_is_the_exact_parse_or_nothing(piece: tuple[bytes, int], keep_raw: bool) -> None:
    data, ncols = piece
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return   # the reader hands over UTF-8 only
    got = _csvfast.parse_canonical(data, delimiter=",", ncols=ncols, keep_raw=keep_raw)
    if got is None:
        return
    slow, used = _csvscan.parse_slow(data, delimiter=",", ncols=ncols, final=True)
    assert used == len(data)
    assert (slow.blanks, slow.ragged, slow.stray) == ([], [], [])
    assert got.frame.rows() == slow.frame.rows()
    assert got.lines.to_list() == slow.lines.to_list()
    assert got.newlines == data.count(b"\n")
    if got.raw_sizes is not None:
        # the piece is, byte for byte, what cgformat's writer writes for these records
        labels = tuple(f"h{i}" for i in range(ncols))
        header = len(",".join(labels)) + 1
        assert write(got.frame, labels)[header:] == data
        assert got.raw_sizes.to_list() == csvfmt.record_sizes(got.frame, labels=labels,
                                                              options=WriteOptions()).to_list()


@given(piece=_written_pieces(), chunk=st.integers(1, 60), batch=st.integers(1, 5))
@settings(max_examples=200)
def test_reader_agrees_with_the_slow_parser_on_written_files(piece: tuple[bytes, int], chunk: int,
                                                             batch: int) -> None:
    # what writers produce (and damaged copies of it): the canonical path's home ground, through the reader
    body, ncols = piece
    data = (",".join(f"h{i}" for i in range(ncols)) + "\n").encode() + body
    with pytest.MonkeyPatch.context() as patch:
        slow = _facts(_read_slow(data, patch, delimiter=","))
    assert _facts(read(data, delimiter=",")) == slow
    assert _facts(read(data, delimiter=",", chunk_size=chunk, batch_size=batch)) == slow


@pytest.mark.parametrize("style", ["necessary", "always"])
@pytest.mark.parametrize("terminator", ["\n", "\r\n"])
def test_canonical_parse_takes_what_common_writers_write(style: str, terminator: str) -> None:
    frame = pl.DataFrame({"a": ["1", "", 'say "hi"', "x"], "b": ["multi\nline", "p,q", "", "\r"]})
    sink = io.BytesIO()
    frame.write_csv(sink, include_header=False, quote_style=style,  # type: ignore[arg-type]
                    line_terminator=terminator)
    got = _csvfast.parse_canonical(sink.getvalue(), delimiter=",", ncols=2)
    assert got is not None
    assert got.frame.rows() == frame.rows()
    assert got.lines.to_list() == [0, 2, 3, 4]


@pytest.mark.parametrize("data", [b"a,b\n\nc,d\n", b"a,b\nc\n", b'a"b,c\n', b'"a"b,c\n', b"a,b\r\nc,d\n",
                                  b"\xef\xbb\xbfa,b\n", b'a,"b\n', b'"a" ,b\n', b'a,b"\n', b"a,b\nc,d\r\n",
                                  b"a,b\nc,d\re,f\n", b"a,b\n\n", b"\na,b\n", b'"a""b,c\n', b"a,b,c\n",
                                  b"a,b\r\nc\r,d\r\n", b"a,b\r\n\r\n", b"a,b\r\nc\r\n", b'a,"b"\r\r\n',
                                  b"a,b\nc,d,", b"a,b\r\nc,d,"])   # an extra empty field polars would drop
@pytest.mark.parametrize("keep_raw", [False, True])
def test_canonical_parse_declines_irregular_pieces(data: bytes, keep_raw: bool) -> None:
    assert _csvfast.parse_canonical(data, delimiter=",", ncols=2, keep_raw=keep_raw) is None


@pytest.mark.parametrize(("data", "rows"), [
    (b'"a",b\n', [("a", "b")]),                               # quoted where no quotes are needed
    (b'"a","b"\nc,""\n', [("a", "b"), ("c", "")]),
    (b'"x\r\ny",""""\n', [("x\r\ny", '"')]),                  # a CR inside quotes is data
    (b'a,"p,q"\n"",\n', [("a", "p,q"), ("", "")]),
    (b'a,"b"\r\n"c\r\nd",e\r\n', [("a", "b"), ("c\r\nd", "e")]),    # CRLF: the CR of a line end is not data
    (b"a,b\nc,", [("a", "b"), ("c", "")]),                        # the input's last record, with no line end
])
def test_canonical_parse_takes_regular_pieces_any_writer_quotes(data: bytes, rows: list[tuple[str, str]]) -> None:
    got = _csvfast.parse_canonical(data, delimiter=",", ncols=2)
    assert got is not None
    assert got.frame.rows() == rows
    assert got.newlines == data.count(b"\n")


def test_fast_path_taken_for_an_ordinary_file(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = _csvscan.parse_slow

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(csvfmt, "parse_slow", spy)
    table = read(_multiline_file(2000), chunk_size=4096)
    assert table.frame.height > 1000
    assert calls == []


# ------------------------------------------------------------------------------------------------- writer


def test_writer_output() -> None:
    frame = pl.DataFrame({"a": ["007", "", 'say "hi"', "x,y", "l1\nl2", "=1+2"], "b": ["", "", "", "", "", ""]})
    assert write(frame, ("Email", "Name, full")) == (
        b'Email,"Name, full"\n007,\n,\n"say ""hi""",\n"x,y",\n"l1\nl2",\n=1+2,\n')


def test_writer_options() -> None:
    frame = pl.DataFrame({"a": ["1;2", "3"], "b": ["x", "y"]})
    out = write(frame, ("a", "b"), WriteOptions(delimiter=";", bom=True))
    assert out == b'\xef\xbb\xbfa;b\n"1;2";x\n3;y\n'


def test_single_column_empty_value_is_quoted() -> None:
    frame = pl.DataFrame({"a": ["", "x", ""]})
    out = write(frame, ("",))
    assert out == b'""\n""\nx\n""\n'
    table = read(out)
    assert table.info.labels == ("",)
    assert table.frame.rows() == [("",), ("x",), ("",)]


def test_writer_errors() -> None:
    sink = io.BytesIO()
    writer = csvfmt.open_writer(sink, labels=("a", "b"), options=WriteOptions())
    with pytest.raises(UsageError):
        writer.write(pl.DataFrame({"a": ["1"]}))
    writer.close()
    with pytest.raises(WriteError):
        writer.write(pl.DataFrame({"a": ["1"], "b": ["2"]}))
    with pytest.raises(UsageError):
        csvfmt.open_writer(io.BytesIO(), labels=(), options=WriteOptions())


def test_writer_casts_other_types_and_nulls() -> None:
    frame = pl.DataFrame({"n": [1, None], "s": [None, "x"]})
    out = write(frame, ("n", "s"))
    assert out == b"n,s\n1,\n,x\n"
    sizes = csvfmt.record_sizes(frame, labels=("n", "s"), options=WriteOptions())
    assert csvfmt.envelope_size(labels=("n", "s"), options=WriteOptions()) + sizes.sum() == len(out)


# ---------------------------------------------------------------------------------------------- properties

# NUL is left out: the reader takes a NUL byte for binary data or UTF-16 without a byte order mark
_CELL = st.text(st.one_of(st.sampled_from(list(',;"\r\n\t| =+-@0')),
                          st.characters(codec="utf-8", exclude_characters="\x00")), max_size=8)


@st.composite
def tables(draw: st.DrawFn) -> tuple[tuple[str, ...], pl.DataFrame]:
    ncols = draw(st.integers(1, 4))
    labels = tuple(draw(st.lists(_CELL, min_size=ncols, max_size=ncols)))
    if "".join(labels).strip() == "" and ncols == 1:
        labels = ("x" + labels[0],)   # a header of only blanks reads as an empty file
    nrows = draw(st.integers(0, 6))
    columns = {f"c{j}": draw(st.lists(_CELL, min_size=nrows, max_size=nrows)) for j in range(ncols)}
    return labels, pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


@given(table=tables(), delimiter=st.sampled_from([",", ";", "\t", "|"]), bom=st.booleans())
@settings(max_examples=150)
def test_round_trip_keeps_every_value(table: tuple[tuple[str, ...], pl.DataFrame], delimiter: str,
                                      bom: bool) -> None:
    labels, frame = table
    if all(label.strip() == "" for label in labels) and frame.height == 0 and len(labels) == 1:
        return
    data = write(frame, labels, WriteOptions(delimiter=delimiter, bom=bom))
    back = read(data, delimiter=delimiter)
    assert back.info.labels == labels
    assert back.frame.rows() == frame.rows()
    assert not [i for i in back.issues if i.code in (IssueCode.RAGGED_ROW, IssueCode.BLANK_ROW,
                                                     IssueCode.STRAY_QUOTE)]
    assert back.info.encoding == ("utf-8-sig" if bom else "utf-8")


@given(table=tables(), delimiter=st.sampled_from([",", ";", "\t", "|"]), bom=st.booleans())
@settings(max_examples=150)
def test_record_sizes_add_up_to_the_bytes_written(table: tuple[tuple[str, ...], pl.DataFrame],
                                                  delimiter: str, bom: bool) -> None:
    labels, frame = table
    options = WriteOptions(delimiter=delimiter, bom=bom)
    data = write(frame, labels, options)
    sizes = csvfmt.record_sizes(frame, labels=labels, options=options)
    assert sizes.dtype == pl.Int64
    assert sizes.len() == frame.height
    assert csvfmt.envelope_size(labels=labels, options=options) + sizes.sum() == len(data)
    # each record's size is the size of that record alone
    for i in range(frame.height):
        alone = write(frame.slice(i, 1), labels, options)
        assert len(alone) - csvfmt.envelope_size(labels=labels, options=options) == sizes[i]


@given(table=tables())
@settings(max_examples=50)
def test_round_trip_with_detected_delimiter_and_small_chunks(
        table: tuple[tuple[str, ...], pl.DataFrame]) -> None:
    labels, frame = table
    data = write(frame, labels)
    back = read(data, delimiter=",", chunk_size=5, batch_size=2)
    assert back.frame.rows() == frame.rows()


# --------------------------------------------------------------------------------------------- title rows

TITLED = b"Order export 2026-11-27,,\n,,\nEmail,FirstName,OrderDate\na@x.nl,Ann,\"x\ny\"\nb@x.nl,Bo,z\n"


def test_a_title_above_the_header_is_named_with_the_header_line() -> None:
    table = read(TITLED)
    hint = table.info.issues[0]
    assert (str(hint.code), hint.severity, hint.line, hint.value) == (
        "title-row", Severity.WARNING, 1, "Order export 2026-11-27")
    assert "--header-row 3" in hint.message
    # a subtitle between the title and the header holds fewer values than the header: not taken for it
    sub = read(b"Order export,,\nGenerated,2026-11-27,\n\nEmail,FirstName,OrderDate\na@x.nl,Ann,\n")
    assert "--header-row 4" in sub.info.issues[0].message
    # a real header gives no hint; nor does a header of one column (nothing to compare)
    assert "title-row" not in codes(read(b"Email,Name\n,\na@x.nl,Ann\n"))
    assert "title-row" not in codes(read(b"Email\na@x.nl\nb@x.nl\n"))


def test_header_row_skips_the_lines_above_it() -> None:
    table = read(TITLED, header_row=3)
    assert table.info.labels == ("Email", "FirstName", "OrderDate")
    assert table.info.header_line == 3
    assert table.frame.rows() == [("a@x.nl", "Ann", "x\ny"), ("b@x.nl", "Bo", "z")]
    assert table.lines.to_list() == [4, 6]
    assert issues(table) == []
    # the first line by default, as ever (blank lines before the header are skipped and reported)
    plain = read(b"\n\nEmail,Name\na@x.nl,Ann\n")
    assert plain.info.header_line == 3
    assert issues(plain) == [("blank-row", None, 1), ("blank-row", None, 2)]


def test_header_row_must_be_a_line_with_labels() -> None:
    for blank in (b"Title\n,,\nEmail,Name\n", b"Title\n\nEmail,Name\n"):   # no label on line 2
        with pytest.raises(ReadError, match="line 2 is blank: it cannot be the header"):
            read(blank, header_row=2)
    with pytest.raises(ReadError, match="has 6 line"):
        read(TITLED, header_row=9)
    with pytest.raises(ReadError, match="has 6 line"):
        read(TITLED, header_row=7)
    # past a first chunk: the lines above are read as they come
    many = b"note\n" * 1000 + b"Email,Name\na@x.nl,Ann\n"
    table = read(many, header_row=1001, chunk_size=64)
    assert table.frame.rows() == [("a@x.nl", "Ann")]
    assert table.lines.to_list() == [1002]


def test_excels_sep_line_gives_the_delimiter_and_is_no_record() -> None:
    data = b"sep=;\r\nEmail;Name\r\na@x.nl;Ann, B\r\n"
    table = read(data)
    assert (table.info.delimiter, table.info.labels, table.info.header_line) == (";", ("Email", "Name"), 2)
    assert table.frame.rows() == [("a@x.nl", "Ann, B")]
    assert table.lines.to_list() == [3]
    assert [(str(i.code), i.line, i.value) for i in table.info.issues] == [
        ("delimiter", None, ";"), ("sep-line", 1, "sep=;")]
    # a forced delimiter wins; the line is still left out. With --header-row 1 it is the header, as asked
    assert read(data, delimiter=",").info.labels == ("Email;Name",)
    assert read(data, header_row=1).info.labels == ("sep=", "")
    assert read(b"SEP=,\nEmail,Name\na@x.nl,Ann\n").info.labels == ("Email", "Name")
    # not the hint: more than one character after it, or a header that happens to start with "sep="
    assert read(b"sep=ab,x\n1,2\n").info.labels == ("sep=ab", "x")


_CELL = st.text(alphabet=st.sampled_from(['a', 'é', ',', '"', '\n', ' ', '1']), max_size=5)
_JUNK = st.text(alphabet=st.sampled_from(['T', 'x', ' ', ';', ',', '=', 'é']), max_size=12)


@given(rows=st.lists(st.tuples(_CELL, _CELL), min_size=1, max_size=8), junk=st.lists(_JUNK, max_size=4),
       chunk=st.integers(1, 50))
@settings(max_examples=150, deadline=None)
def test_property_header_row_reads_past_any_lines_above(rows: list[tuple[str, str]], junk: list[str],
                                                         chunk: int) -> None:
    # lines above the header, whatever they hold, change nothing but the line numbers
    labels = ("Email", "Name")
    data = write(pl.DataFrame({"Email": [r[0] for r in rows], "Name": [r[1] for r in rows]}), labels)
    plain = read(data, delimiter=",")
    above = "".join(f"{j}\n" for j in junk).encode()
    given_row = read(above + data, header_row=len(junk) + 1, delimiter=",", chunk_size=chunk)
    assert given_row.info.labels == labels
    assert given_row.info.header_line == len(junk) + 1
    assert given_row.frame.rows() == plain.frame.rows()
    assert given_row.lines.to_list() == [n + len(junk) for n in plain.lines.to_list()]
    assert issues(given_row) == [(c, r, None if ln is None else ln + len(junk)) for c, r, ln in issues(plain)]


def test_reading_further_ahead_gives_the_same_batches() -> None:
    from cgformat import formats

    data = _multiline_file(50)

    def batches(ahead: int) -> list[tuple[int, list[tuple[str | None, ...]], tuple[object, ...]]]:
        reader = formats.open_reader(io.BytesIO(data), "csv", source="t", options=ReadOptions(batch_size=3),
                                     read_ahead=ahead)
        return [(b.first_record, b.frame.rows(), b.issues) for b in reader.batches()]

    assert batches(3) == batches(1)
    assert len(batches(1)) > 3
    with pytest.raises(UsageError, match="read_ahead must be at least 1"):
        formats.open_reader(io.BytesIO(data), "csv", source="t", read_ahead=0)


_LINES = ['1,plain,y', '2,"quoted, comma",y', '3,"two\nlines",y', '4,ragged', '5,a "stray" quote,y', '',
          '6,"open quote,y', '7,x,y,z', '8,"q ""doubled""",y', '9,"a"b,y']


@settings(max_examples=150, deadline=None)
@given(picks=st.lists(st.sampled_from(range(len(_LINES))), min_size=1, max_size=60),
       chunk_size=st.integers(8, 300), keep_raw=st.booleans())
def test_pieces_cut_anywhere_read_as_one_piece(picks: list[int], chunk_size: int, keep_raw: bool) -> None:
    # the input is cut into pieces on the guess that a record ends where the quote count is even; when a piece
    # is read only in part (irregular quoting sends it to the slow parser), its rest is cut again: records,
    # lines, issues and the bytes kept for split come out as when the input is read as one piece
    data = ("id,note,flag\n" + "\n".join(_LINES[i] for i in picks) + "\n").encode()

    def outcome(size: int) -> tuple[object, ...]:
        reader = csvfmt.open_reader(io.BytesIO(data), source="t.csv", options=ReadOptions(batch_size=7),
                                    keep_raw=keep_raw, chunk_size=size)
        batches = list(reader.batches())
        raws = [csvfmt.raw_segments(b) for b in batches]
        return tuple((b.first_record, b.frame.rows(), b.lines.to_list(), b.issues,
                      None if raw is None else b"".join(bytes(r) for r in raw[0]))
                     for b, raw in zip(batches, raws, strict=True))

    assert outcome(chunk_size) == outcome(len(data) * 2)


@pytest.mark.parametrize("quote", [b"", b'"'], ids=["unquoted", "quoted"])
def test_a_field_past_the_limit_is_refused_while_its_record_is_still_open(quote: bytes) -> None:
    data = b"a,b\n1,2\n3," + quote + b"y" * 5000 + quote + b"\n4,5\n"
    with pytest.raises(LimitExceeded, match=r"record 2 \(line 3\), field 'b'"):
        read(data, chunk_size=64, max_field_bytes=1000)


def test_a_quote_never_closed_is_not_taken_for_a_long_field() -> None:
    # the open quote may end up text (it never closes): no refusal while that reading keeps values short
    data = b'a,b\n"1,2\n' + b"3,4\n" * 1000
    table = read(data, chunk_size=64, max_field_bytes=100)
    assert table.frame.row(0) == ('"1', "2")
    assert table.frame.height == 1001
    assert codes(table) == ["stray-quote"]
