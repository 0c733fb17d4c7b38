"""Broken and hostile inputs, generated in code (nothing large is committed).

Each :class:`Case` writes one file; ``tests/hostile/test_corpus.py`` runs the CLI on it and
``tools/hostile_measure.py`` prints the exit code, message, time and peak memory of every case.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HEAD = "CustomerNumber,Email,SMS_Telephone,FirstName,LastName,Country,OrderDate"
LABELS = HEAD.split(",")


def values(i: int) -> list[str]:
    """A valid transactional record, distinct for each ``i`` (so no duplicates)."""
    return [f"{i:06d}", f"user{i}@example.com", f"3161{i:07d}", "Anna", "de Vries", "NL", "2025-03-01 10:00:00"]


def row(i: int) -> str:
    return ",".join(values(i))


ROW = row(1)
VALUES = values(1)
MB = 1 << 20

# a file no input may ever read: its content must never show up in any output or message
CANARY_TEXT = "cgformat-canary-7f3a9e: this file must never be read"


def record_xml(vals: list[str] | None = None) -> str:
    vals = vals or VALUES
    return "<record>" + "".join(f"<{t}>{v}</{t}>" for t, v in zip(LABELS, vals, strict=True)) + "</record>"


def records_xml(n: int = 2, prolog: str = "") -> bytes:
    body = "\n".join(record_xml(values(i)) for i in range(1, n + 1))
    return (f"<?xml version='1.0' encoding='utf-8'?>\n{prolog}<records>\n{body}\n</records>\n").encode()


def csv_bytes(n: int = 2) -> bytes:
    return ("\n".join([HEAD] + [row(i) for i in range(1, n + 1)]) + "\n").encode()


# --------------------------------------------------------------------------------------------- xlsx


_CT = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/'
       b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
       b'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
       b'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
       b'sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
       b'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.'
         b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
         b'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
         b'</Relationships>')
_WB = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.'
       b'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
       b'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.'
            b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            b'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            b'</Relationships>')
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.'
              b'openxmlformats.org/spreadsheetml/2006/main">')
SHEET_TAIL = b"</sheetData></worksheet>"


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def row_xml(r: int, values: list[str]) -> str:
    cols = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return f'<row r="{r}">' + "".join(cell(f"{cols[j]}{r}", v) for j, v in enumerate(values)) + "</row>"


def small_sheet(rows: int = 2, dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension or f"A1:G{rows + 1}"}"/>'.encode()
    body = row_xml(1, LABELS) + "".join(row_xml(r, values(r - 1)) for r in range(2, rows + 2))
    return SHEET_HEAD + dim + b"<sheetData>" + body.encode() + SHEET_TAIL


def xlsx_bytes(sheet: bytes | None = None) -> bytes:
    """A minimal workbook of one sheet (inline strings), by default a header and two records."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", small_sheet() if sheet is None else sheet)
    return buf.getvalue()


def _flushed(block: bytes) -> bytes:
    """Raw deflate data of ``block`` ending on a full flush: repeated N times it inflates to block * N."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    return comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)


def bomb_xlsx(path: Path, *, unzipped: int, dimension: str | None = "A1:G2") -> None:
    """A workbook whose sheet inflates to ``unzipped`` bytes of cells from a file of a few hundred KB.

    The rows carry no ``r`` attributes (legal: they are numbered in order), so one block repeats; the
    dimension lies (it declares two rows). Built as raw deflate from a repeated, fully flushed block.
    """
    one = "<row>" + "".join(f"<c><v>{j}</v></c>" for j in range(len(LABELS))) + "</row>"
    block = (one * ((8 * MB) // len(one))).encode()
    head = SHEET_HEAD + (f'<dimension ref="{dimension}"/>'.encode() if dimension else b"") + b"<sheetData>" + \
        ("<row>" + "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in LABELS) + "</row>").encode()
    repeat = max(1, unzipped // len(block))
    deflater_head = _flushed(head)
    body = _flushed(block)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    final = comp.compress(SHEET_TAIL) + comp.flush()
    crc = zlib.crc32(head)
    for _ in range(repeat):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(SHEET_TAIL, crc)
    size = len(head) + repeat * len(block) + len(SHEET_TAIL)
    compressed = len(deflater_head) + repeat * len(body) + len(final)
    with path.open("wb") as out:
        # the small parts through zipfile, then the sheet appended by hand (local header, data, directory)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("[Content_Types].xml", _CT)
            z.writestr("_rels/.rels", _RELS)
            z.writestr("xl/workbook.xml", _WB)
            z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
            infos = list(z.infolist())
        data = buf.getvalue()
        end = min(i.header_offset for i in infos) + sum(
            30 + len(i.filename.encode()) + len(i.extra) + i.compress_size for i in infos)
        out.write(data[:end])
        name = b"xl/worksheets/sheet1.xml"
        offset = end
        zip64 = size >= 0xFFFFFFFF or compressed >= 0xFFFFFFFF
        extra = struct.pack("<HHQQ", 1, 16, size, compressed) if zip64 else b""
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, 0, 8, 0, 0x21, crc,
                              0xFFFFFFFF if zip64 else compressed, 0xFFFFFFFF if zip64 else size,
                              len(name), len(extra)) + name + extra)
        out.write(deflater_head)
        for _ in range(repeat):
            out.write(body)
        out.write(final)
        directory_at = out.tell()
        central = b""
        for i in infos:
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, i.CRC,
                                   i.compress_size, i.file_size, len(i.filename.encode()), 0, 0, 0, 0, 0,
                                   i.header_offset) + i.filename.encode()
        cextra = struct.pack("<HHQQQ", 1, 24, size, compressed, offset) if zip64 else b""
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45 if zip64 else 20, 45 if zip64 else 20, 0, 8,
                               0, 0x21, crc, 0xFFFFFFFF if zip64 else compressed,
                               0xFFFFFFFF if zip64 else size, len(name), len(cextra), 0, 0, 0, 0,
                               0xFFFFFFFF if zip64 else offset) + name + cextra
        out.write(central)
        count = len(infos) + 1
        if zip64:
            eocd64_at = out.tell()
            out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(central),
                                  directory_at))
            out.write(struct.pack("<IIQI", 0x07064B50, 0, eocd64_at, 1))
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), directory_at, 0))


def many_rows_xlsx(path: Path, *, rows: int = 2_000_000, columns: int = 8, numbered: bool = True) -> None:
    """A sheet of ``rows`` x ``columns`` inline-string cells (16 million cells at the default: under
    ``--max-cells``, 1.3 GB of XML, 1.2 GB without ``r``), rows past Excel's 1,048,576.

    Written in blocks of 10,000 rows through ``zipfile``'s streaming writer; ``numbered`` puts ``r`` on
    every row and cell (as Excel does), else none (legal: rows and cells then count in order).
    """
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:columns]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(SHEET_HEAD + b"<sheetData>")
            for start in range(1, rows + 1, 10_000):
                block = []
                for r in range(start, min(start + 10_000, rows + 1)):
                    text = f"{r * 7919 % 1000003:08x}.customer@example.com"
                    if numbered:
                        cells = "".join(f'<c r="{c}{r}" t="inlineStr"><is><t>{c}{text}</t></is></c>' for c in letters)
                        block.append(f'<row r="{r}">{cells}</row>')
                    else:
                        cells = "".join(f'<c t="inlineStr"><is><t>{c}{text}</t></is></c>' for c in letters)
                        block.append(f"<row>{cells}</row>")
                out.write("".join(block).encode())
            out.write(SHEET_TAIL)


def _row_past_excel() -> bytes:
    body = (row_xml(1, LABELS) + row_xml(2, VALUES)
            + '<row r="1048577"><c r="A1048577" t="inlineStr"><is><t>x</t></is></c></row>')
    return xlsx_bytes(SHEET_HEAD + b"<sheetData>" + body.encode() + SHEET_TAIL)


def _column_past_excel() -> bytes:
    body = row_xml(1, LABELS) + row_xml(2, VALUES) + '<row r="3"><c r="XFE3"><v>1</v></c></row>'
    return xlsx_bytes(SHEET_HEAD + b"<sheetData>" + body.encode() + SHEET_TAIL)


def far_cell_xlsx(*, dimension: str = "A1:G3") -> bytes:
    """Cells in A1..G3 and one far away at XFD1048576, under a dimension that hides it."""
    body = (row_xml(1, LABELS) + row_xml(2, VALUES)
            + '<row r="1048576">' + cell("XFD1048576", "far") + "</row>")
    return xlsx_bytes(SHEET_HEAD + f'<dimension ref="{dimension}"/>'.encode() + b"<sheetData>" + body.encode()
                      + SHEET_TAIL)


def encrypted_xlsx() -> bytes:
    """A real password-protected workbook (Agile encryption, password ``secret``) via msoffcrypto-tool."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO(xlsx_bytes())
    out = io.BytesIO()
    OOXMLFile(plain).encrypt("secret", out)
    return out.getvalue()


def cfb_bytes(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE/CFB container (version 3, 512-byte sectors) holding these streams (each >= 4096 bytes,
    so no mini stream is needed). Used for an OLE file that is not a BIFF workbook."""
    sector = 512
    end, free, fat_sect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    names = list(streams)
    data_sectors: list[list[int]] = []
    blobs: list[bytes] = []
    nxt = 0
    for name in names:
        blob = streams[name]
        assert len(blob) >= 4096
        n = -(-len(blob) // sector)
        data_sectors.append(list(range(nxt, nxt + n)))
        blobs.append(blob + b"\0" * (n * sector - len(blob)))
        nxt += n
    dir_sector = nxt
    fat_sector = nxt + 1
    total = fat_sector + 1
    assert total <= sector // 4
    fat = [free] * (sector // 4)
    for secs in data_sectors:
        for a, b in zip(secs, secs[1:], strict=False):
            fat[a] = b
        fat[secs[-1]] = end
    fat[dir_sector] = end
    fat[fat_sector] = fat_sect

    def entry(name: str, kind: int, start: int, size: int, child: int = free, right: int = free) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1) + struct.pack("<III", free, right, child)
                + b"\0" * 16 + b"\0" * 4 + b"\0" * 16 + struct.pack("<IIi", start, size, 0))

    entries = [entry("Root Entry", 5, end, 0, child=1 if names else free)]
    for k, name in enumerate(names):
        entries.append(entry(name, 2, data_sectors[k][0], len(streams[name]),
                             right=k + 2 if k + 1 < len(names) else free))
    directory = b"".join(entries).ljust(sector, b"\0")
    difat = [fat_sector] + [free] * 108
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, dir_sector, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", *difat))
    assert len(header) == sector
    return header + b"".join(blobs) + directory + struct.pack(f"<{sector // 4}I", *fat)


# --------------------------------------------------------------------------------------------- cases


@dataclass(frozen=True, slots=True)
class Case:
    """One hostile input: its file name and how to write it; ``big`` ones are tens of MB."""

    name: str
    filename: str
    write: Callable[[Path], None]
    what: str
    big: bool = False


def _const(data: bytes | Callable[[], bytes]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(data() if callable(data) else data)
    return write


def _canary_xxe(path: Path) -> None:
    canary = path.parent / "canary.txt"
    canary.write_text(CANARY_TEXT)
    uri = canary.resolve().as_uri()
    path.write_bytes(records_xml(1, f'<!DOCTYPE records [<!ENTITY x SYSTEM "{uri}">]>\n').replace(
        b"<FirstName>Anna</FirstName>", b"<FirstName>&x;</FirstName>"))


def _canary_xinclude(path: Path) -> None:
    canary = path.parent / "canary.txt"
    canary.write_text(CANARY_TEXT)
    uri = canary.resolve().as_uri()
    path.write_bytes(records_xml(1).replace(
        b"<FirstName>Anna</FirstName>",
        f'<FirstName><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{uri}" parse="text"/>'
        f"</FirstName>".encode()))


NET_PORT_PLACEHOLDER = b"PORT"


def _laughs() -> bytes:
    ents = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return records_xml(1, "<!DOCTYPE records [" + "".join(ents) + "]>\n").replace(
        b"<FirstName>Anna</FirstName>", b"<FirstName>&lol9;</FirstName>")


def _quadratic() -> bytes:
    big = "A" * 50_000
    return records_xml(1, f'<!DOCTYPE records [<!ENTITY a "{big}">]>\n').replace(
        b"<FirstName>Anna</FirstName>", b"<FirstName>" + b"&a;" * 50_000 + b"</FirstName>")


def _deep(path: Path) -> None:
    depth = 100_000
    path.write_bytes(records_xml(1).replace(b"<FirstName>Anna</FirstName>",
                                            b"<FirstName>" + b"<a>" * depth + b"x" + b"</a>" * depth
                                            + b"</FirstName>"))


def _deep_records(path: Path) -> None:
    depth = 100_000
    path.write_bytes(b"<?xml version='1.0'?>\n<records>" + b"<record>" * depth + b"</record>" * depth
                     + b"</records>\n")


def big_text(path: Path, megabytes: int = 20) -> None:
    """Record 1 (line 3) holds a FirstName of ``megabytes`` MB."""
    path.write_bytes(records_xml(2).replace(b"<FirstName>Anna</FirstName>",
                                            b"<FirstName>" + b"x" * (megabytes * MB) + b"</FirstName>", 1))


def _not_wf() -> bytes:
    return (b"<?xml version='1.0' encoding='utf-8'?>\n<records>\n" + record_xml().encode() + b"\n"
            + record_xml().encode().replace(b"</Email>", b"</Emial>") + b"\n</records>\n")


def _unclosed_xml() -> bytes:
    return records_xml(3)[:-30]


def _surrogate_xml() -> bytes:
    return records_xml(2).replace(b"<FirstName>Anna</FirstName>", b"<FirstName>An&#xD800;na</FirstName>", 1)


def zip_bomb(path: Path) -> None:
    bomb_xlsx(path, unzipped=1 << 30)


def _truncated() -> bytes:
    data = xlsx_bytes(small_sheet(200))
    return data[: len(data) // 2]


def _corrupt() -> bytes:
    data = bytearray(xlsx_bytes(small_sheet(200)))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2
    for k in range(16):
        data[at + k] ^= 0x5A
    return bytes(data)


def _ole_not_biff() -> bytes:
    return cfb_bytes({"WordDocument": bytes(range(256)) * 20})


def _html_xls() -> bytes:
    return (b"<html><head><meta charset='utf-8'></head><body><table><tr><th>CustomerNumber</th><th>Email</th>"
            b"</tr><tr><td>0001</td><td>anna@example.com</td></tr></table></body></html>\n")


def _noise() -> bytes:
    return random.Random(7).randbytes(64 << 10)


def _nul() -> bytes:
    return csv_bytes(3).replace(b"Anna", b"An\x00na", 1) + b"\x00" * 64


def _utf16_nobom() -> bytes:
    return ("\n".join([HEAD, ROW.replace("Anna", "Änna"), ROW]) + "\n").encode("utf-16-le")


def _mixed_ends() -> bytes:
    return (HEAD + "\r\n" + row(1) + "\n" + row(2) + "\r" + row(3) + "\r\n" + row(4) + "\n").encode()


def unclosed_quote(path: Path, size: int = 40 * MB) -> None:
    """A quote opened at the start of record 1 (line 2) and never closed, then ``size`` bytes of records."""
    with path.open("wb") as out:
        out.write(HEAD.encode() + b"\n" + b'"' + ROW.encode() + b"\n")
        i = 2
        written = 0
        while written < size:
            block = "".join(row(k) + "\n" for k in range(i, i + 10_000)).encode()
            out.write(block)
            written += len(block)
            i += 10_000


def big_field(path: Path, megabytes: int = 50, *, quoted: bool = True) -> None:
    """Record 2 (line 3) holds a FirstName of ``megabytes`` MB, quoted or not."""
    quote = b'"' if quoted else b""
    with path.open("wb") as out:
        out.write(HEAD.encode() + b"\n" + row(1).encode() + b"\n")
        out.write(b"000002,bob@example.com,31612345678," + quote)
        chunk = b"y" * MB
        for _ in range(megabytes):
            out.write(chunk)
        out.write(quote + b",de Vries,NL,2025-03-01 10:00:00\n" + row(3).encode() + b"\n")


def _big_field(path: Path) -> None:
    big_field(path)


def _big_field_unquoted(path: Path) -> None:
    big_field(path, quoted=False)


def _wide() -> bytes:
    cols = 10_000
    head = ",".join([*LABELS, *(f"Extra{i}" for i in range(cols - len(LABELS)))])
    row = ",".join([*VALUES, *([""] * (cols - len(LABELS)))])
    return (head + "\n" + row + "\n" + row + "\n").encode()


def _surrogate_csv() -> bytes:
    return csv_bytes(3).replace(b"Anna", b"An\xed\xa0\x80na", 1).replace(b"de Vries", "de Vriës".encode(), 1)


CASES: tuple[Case, ...] = (
    # XML
    Case("xml-xxe-local-file", "xxe.xml", _canary_xxe, "external entity pointing at a local file"),
    Case("xml-xinclude", "xinclude.xml", _canary_xinclude, "XInclude of a local file"),
    Case("xml-billion-laughs", "laughs.xml", _const(_laughs), "billion laughs (nested entities)"),
    Case("xml-quadratic-blowup", "quadratic.xml", _const(_quadratic), "one big entity used 50,000 times"),
    Case("xml-external-dtd", "dtd.xml", _const(b""), "external DTD URL (a local listening socket)"),
    Case("xml-external-param-entity", "param.xml", _const(b""), "parameter entity with a URL"),
    Case("xml-deep-nesting", "deep.xml", _deep, "100,000 nested elements inside a field"),
    Case("xml-deep-records", "deeprec.xml", _deep_records, "100,000 nested record elements"),
    Case("xml-20mb-text", "bigtext.xml", big_text, "a 20 MB text node", big=True),
    Case("xml-not-well-formed", "notwf.xml", _const(_not_wf), "mismatched end tag on line 4"),
    Case("xml-unclosed", "unclosed.xml", _const(_unclosed_xml), "document cut off mid-record"),
    Case("xml-lone-surrogate", "surrogate.xml", _const(_surrogate_xml), "character reference &#xD800;"),
    # workbooks
    Case("xlsx-zip-bomb", "bomb.xlsx", zip_bomb, "a sheet of 1 GB (72 million cells, no row numbers) in 3.6 MB", big=True),
    Case("xlsx-dimension-xfd", "dimension.xlsx",
         _const(lambda: xlsx_bytes(small_sheet(2, dimension="A1:XFD1048576"))),
         "declares dimension A1:XFD1048576, holds 3 rows"),
    Case("xlsx-far-cell", "farcell.xlsx", _const(far_cell_xlsx), "a cell at XFD1048576 behind a dimension of A1:G3"),
    Case("xlsx-row-past-excel", "row1048577.xlsx", _const(_row_past_excel), "a cell on row 1,048,577"),
    Case("xlsx-column-past-excel", "xfe.xlsx", _const(_column_past_excel), "a cell in column XFE (16,385)"),
    Case("xlsx-2m-rows", "rows2m.xlsx", many_rows_xlsx, "2,000,000 rows x 8 text cells (1.3 GB of XML)",
         big=True),
    Case("xlsx-2m-rows-unnumbered", "rows2m-bare.xlsx", lambda path: many_rows_xlsx(path, numbered=False),
         "2,000,000 rows x 8 text cells, no r on rows or cells (1.2 GB of XML)", big=True),
    Case("xlsx-truncated", "truncated.xlsx", _const(_truncated), "the first half of a workbook"),
    Case("xlsx-corrupt", "corrupt.xlsx", _const(_corrupt), "16 bytes of the sheet's deflate data flipped"),
    Case("xlsx-encrypted", "encrypted.xlsx", _const(encrypted_xlsx), "password-protected (msoffcrypto)"),
    Case("xls-ole-not-biff", "notbiff.xls", _const(_ole_not_biff), "an OLE file with no Workbook stream"),
    Case("html-as-xls", "report.xls", _const(_html_xls), "an HTML table saved as .xls"),
    Case("csv-as-xlsx", "csv.xlsx", _const(lambda: csv_bytes(2)), "CSV text saved as .xlsx"),
    # any format
    Case("empty-csv", "empty.csv", _const(b""), "0 bytes"),
    Case("empty-xml", "empty.xml", _const(b""), "0 bytes"),
    Case("empty-xlsx", "empty.xlsx", _const(b""), "0 bytes"),
    Case("header-only-csv", "header.csv", _const((HEAD + "\n").encode()), "a header and no records"),
    Case("noise-csv", "noise.csv", _const(_noise), "64 KB of random bytes"),
    Case("noise-xml", "noise.xml", _const(_noise), "64 KB of random bytes"),
    Case("noise-xlsx", "noise.xlsx", _const(_noise), "64 KB of random bytes"),
    Case("nul-bytes-csv", "nul.csv", _const(_nul), "NUL inside a value and after the last line"),
    Case("utf16-no-bom-csv", "utf16.csv", _const(_utf16_nobom), "UTF-16-LE without a byte order mark"),
    Case("mixed-line-ends-csv", "mixed.csv", _const(_mixed_ends), "CRLF, LF and CR in one file"),
    Case("unclosed-quote-csv", "unclosed.csv", unclosed_quote, "a quote opened on line 2 of 40 MB",
         big=True),
    Case("big-field-csv", "bigfield.csv", _big_field, "one quoted field of 50 MB", big=True),
    Case("big-field-unquoted-csv", "bigfield2.csv", _big_field_unquoted, "one unquoted field of 50 MB", big=True),
    Case("wide-csv", "wide.csv", _const(_wide), "10,000 columns"),
    Case("lone-surrogate-csv", "surrogate.csv", _const(_surrogate_csv), "bytes ED A0 80 (an encoded surrogate)"),
)

BY_NAME = {c.name: c for c in CASES}


def write_case(case: Case, folder: Path, *, port: int | None = None) -> Path:
    """Write a case into ``folder``; the network cases point at ``127.0.0.1:port``."""
    path = folder / case.filename
    if case.name == "xml-external-dtd":
        path.write_bytes(records_xml(1, f'<!DOCTYPE records SYSTEM "http://127.0.0.1:{port}/evil.dtd">\n'))
    elif case.name == "xml-external-param-entity":
        path.write_bytes(records_xml(1, f'<!DOCTYPE records [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> '
                                        f"%p;]>\n"))
    else:
        case.write(path)
    return path


def file_changed_midway(path: Path) -> None:
    """Grow a file in place (used between the passes of a two-pass reader)."""
    with path.open("ab") as out:
        out.write((ROW + "\n").encode() * 3)
    os.utime(path)
