"""The XLSX package, read in one place: its parts, its sheets, its number formats, and the guard.

Every part is read through the standard library's ``zipfile`` (``ZipFile.open`` inflates in bounded
pieces and checks the CRC), never more than the byte budget of one part, so a zip bomb costs a bounded
amount of work. fastexcel (calamine) then loads the sheet; before it does, :class:`Workbook` answers:

* which sheets there are and which part holds each (``xl/workbook.xml`` through its relations, attributes
  in either quote style; the same answer for the guard and the reader);
* the guard: fastexcel builds a dense grid over the bounding box of a sheet's cells, whatever the sheet
  declares (a cell at A1 and one at XFD1048576 ask for 17 billion cells: the process dies, a Rust
  allocation failure is no exception). :meth:`Workbook.check_sheet` bounds that grid and refuses it over
  ``max_cells``; a row past Excel's 1,048,576 or a column past 16,384 is refused as soon as it is seen.
  Every XML part is bounded to ``XML_BYTES_PER_CELL * max_cells`` inflated bytes, and the shared strings to
  ``max_cells`` entries. The declared ``<dimension>`` is not trusted either way;
* in the same pass, the cells whose text fastexcel cannot give as Excel shows it (:class:`CellScan`): error
  values, formulas without a saved value, numbers under a number format other than General, ISO 8601 dates.

Every pass works on pieces of megabytes with ``bytes.count`` / ``bytes.find`` and compiled regular
expressions (C speed); Python code runs per piece, or per match of a pattern that only rare cells match.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import polars as pl

from ..errors import LimitExceeded
from ._numfmt import NumberFormat, number_formats
from ._sheetgrid import MAX_COLUMNS, MAX_ROWS, column_number, grid

__all__ = ["MAX_COLUMNS", "MAX_ROWS", "XML_BYTES_PER_CELL", "CellScan", "Workbook", "column_number"]

XML_BYTES_PER_CELL = 64
"""Inflated bytes allowed per cell of ``max_cells`` in any one XML part of a workbook."""
_PIECE = 4 << 20          # inflated bytes examined at a time
_CELL_OPTION = "max_cells="   # the parameter; the command line shows its flag (CgformatError.options)

_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\b[^>]*>")
_WORKBOOK_PR = re.compile(rb"<(?:[\w.-]+:)?workbookPr\b[^>]*>")
_EXT_LIST = re.compile(rb"<((?:[\w.-]+:)?extLst)\b.*?</\1\s*>", re.S)
_REL_TAG = re.compile(rb"<(?:[\w.-]+:)?Relationship\b[^>]*>")
_ATTR = re.compile(rb"([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def attributes(tag: bytes) -> dict[bytes, bytes]:
    """The attributes of one start tag (either quote style), values still escaped."""
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _ATTR.finditer(tag)}


def unescape(value: str) -> str:
    """XML's five predefined entities and character references replaced."""
    if "&" not in value:
        return value
    value = re.sub(r"&#[xX]([0-9A-Fa-f]+);", lambda m: _char(int(m.group(1), 16)), value)
    value = re.sub(r"&#([0-9]+);", lambda m: _char(int(m.group(1))), value)
    return (value.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


def _char(code: int) -> str:
    return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"


_NUM_FMT = re.compile(rb"<(?:[\w.-]+:)?numFmt\b[^>]*>")
_CELL_XFS = re.compile(rb"<(?:[\w.-]+:)?cellXfs\b[^>]*>(.*?)</(?:[\w.-]+:)?cellXfs>", re.S)
_XF = re.compile(rb"<(?:[\w.-]+:)?xf\b[^>]*>")


def _styles(xml: bytes) -> dict[int, NumberFormat]:
    """Each cell style (its index in ``cellXfs``) whose number format is not General, not a date."""
    custom: dict[int, str] = {}
    for tag in _NUM_FMT.findall(xml):
        attrs = attributes(tag)
        try:
            custom[int(attrs.get(b"numFmtId", b""))] = unescape(attrs.get(b"formatCode", b"").decode("utf-8",
                                                                                                   "replace"))
        except ValueError:
            continue
    block = _CELL_XFS.search(xml)
    if block is None:
        return {}
    ids: list[int | None] = []
    for tag in _XF.findall(block.group(1)):
        try:
            ids.append(int(attributes(tag).get(b"numFmtId", b"0")))
        except ValueError:
            ids.append(None)
    return number_formats(custom, ids)


# --------------------------------------------------------------------------------------------- cells


@dataclass(frozen=True, slots=True, kw_only=True)
class CellScan:
    """Cells of a sheet found in its XML: ``(row, column, text)`` with a 1-based row and column.

    ``errors``: error values (``#DIV/0!`` ...); ``unsaved``: formulas without a saved value (text: the
    formula); ``formatted``: numbers under a non-General number format (text: the stored number), with
    the index of the cell's style in ``styles``; ``dates``: ISO 8601 date cells (``t="d"``; text: as
    stored); ``empty_formulas``: formulas whose saved value is empty text (XLS: a program that does not
    calculate saves that, so the value may be unknown); ``numbers``: the columns holding a number that
    fastexcel may render otherwise than General (its stored text has a point, an exponent, 16 digits or
    more, or is ``-0``) or a boolean, None when not known (then every column may).
    """

    errors: list[tuple[int, int, str]] = field(default_factory=list)
    empty_formulas: list[tuple[int, int, str]] = field(default_factory=list)
    dates: list[tuple[int, int, str]] = field(default_factory=list)
    unsaved: list[tuple[int, int, str]] = field(default_factory=list)
    formatted: list[tuple[int, int, str, int]] = field(default_factory=list)
    styles: dict[int, NumberFormat] = field(default_factory=dict)
    numbers: frozenset[int] | None = None


_REF = re.compile(rb"([A-Za-z]{1,3})([0-9]+)")
_ERROR_CELL = re.compile(rb"<c\b([^>]*\bt\s*=\s*[\"']e[\"'][^>]*)>(.*?)</c>", re.S)
_DATE_CELL = re.compile(rb"<c\b([^>]*\bt\s*=\s*[\"']d[\"'][^>]*)>(.*?)</c>", re.S)
_FORMULA_CELL = re.compile(rb"<c\b([^>/]*)>\s*<f\b([^>]*?)(?:/>|>([^<]*)</f>)\s*(<v\s*/>|<v>\s*</v>)?\s*</c>")
_VALUE = re.compile(rb"<v>([^<]*)</v>")


# a cell whose value fastexcel may render otherwise than General: a boolean, or a stored number with a
# point, an exponent, a character reference, 16 digits or more, or -0 (texts that look so too: they only
# cost a check). Before its value a cell holds at most a formula (CT_Cell: f?, v?, is?); an attribute may
# quote a ">". No part of the pattern can pass the end of its cell, so each match names its own cell
_ATTRS = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""
_CDATA = r"<!\[CDATA\[(?:[^\]]|\][^\]]|\]\][^>])*\]\]>"
_ODD_NUMBER = (rf"""<c r="[^"]*"{_ATTRS}>\s*(?:<f\b{_ATTRS}/>\s*|<f\b{_ATTRS}>[^<]*(?:{_CDATA}[^<]*)?</f>\s*)?"""
               rf"""<v(?:\s{_ATTRS})?>\s*(?:<!\[CDATA\[)?\s*(?:-0|[^<]*[.Ee&]|[^<]*[0-9]{{16}})"""
               rf"""|<c r="[^"]*"{_ATTRS}\st\s*=\s*["']b["']""")


def _number_columns(chunk: bytes) -> set[int] | None:
    """The columns (1-based) of the piece's cells that :data:`_ODD_NUMBER` finds (each ``<c r="``), or
    None when it cannot tell (not UTF-8, a reference without column letters)."""
    try:
        text = pl.Series([chunk], dtype=pl.Binary).cast(pl.String)
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError):   # not UTF-8
        return None
    letters = text.str.extract_all(_ODD_NUMBER).explode().drop_nulls() \
        .str.extract(r'^<c r="\s*([A-Za-z]{0,3})', 1).unique().to_list()
    if any(not letter for letter in letters):
        return None
    return {column_number(letter.encode()) for letter in letters}


def _styled(styles: set[int]) -> re.Pattern[bytes]:
    alternatives = b"|".join(str(s).encode() for s in sorted(styles))
    return re.compile(rb"<c\b([^>]*\ss\s*=\s*[\"'](?:" + alternatives + rb")[\"'][^>]*)>(.*?)</c>", re.S)


def _position(attrs: bytes) -> tuple[int, int] | None:
    ref = attributes(attrs).get(b"r")
    match = _REF.fullmatch(ref) if ref is not None else None
    return (int(match.group(2)), column_number(match.group(1))) if match else None


# --------------------------------------------------------------------------------------------- the book


class Workbook:
    """An XLSX package in memory: its parts read in bounded pieces, its sheets, its guard."""

    def __init__(self, data: bytes, *, source: str, max_cells: int) -> None:
        self.source = source
        self.max_cells = max_cells
        self.max_bytes = XML_BYTES_PER_CELL * max_cells
        self._scans: dict[str, CellScan] = {}
        self._styles: dict[int, NumberFormat] | None = None
        self.error: Exception | None = None
        self._zip: zipfile.ZipFile | None
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            self._parts = {info.filename.lstrip("/").replace("\\", "/"): info for info in self._zip.infolist()}
        except Exception as error:  # noqa: BLE001 - BadZipFile, NotImplementedError (an odd version) ...
            # a zip this cannot read is refused (see excel._open): it must not reach fastexcel unmeasured
            self._zip = None
            self._parts = {}
            self.error = error
        self._sheets: dict[str, str] | None = None

    def pieces(self, path: str) -> Iterator[bytes]:
        """The part's bytes in pieces of at most 4 MB; past the byte budget, :class:`LimitExceeded`.

        A part that is corrupt (bad deflate data, CRC) ends early: fastexcel reports it when it loads.
        """
        info = self._parts.get(path)
        if info is None or self._zip is None:
            return
        total = 0
        try:
            with self._zip.open(info) as stream:
                while piece := stream.read(_PIECE):
                    total += len(piece)
                    if total > self.max_bytes:
                        raise self._too_large(info)
                    yield piece
        except (zlib.error, zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError,
                NotImplementedError):
            return

    def _too_large(self, info: zipfile.ZipInfo) -> LimitExceeded:
        return LimitExceeded(
            f"{self.source}: the workbook part {info.filename} inflates to more than {self.max_bytes:,} bytes "
            f"({XML_BYTES_PER_CELL} per cell of the limit max_cells={self.max_cells:,}): a zip bomb, or a sheet "
            f"far larger than any CG file; raise {_CELL_OPTION} to read it anyway", options=("max_cells",))

    def read_small(self, path: str) -> bytes:
        """A whole part (within the byte budget), or ``b""`` when there is none."""
        return b"".join(self.pieces(path))

    def check_parts(self) -> None:
        """Check the parts fastexcel reads when it opens the workbook (shared strings, styles, workbook)."""
        for name in self._parts:
            lower = name.lower()
            if not lower.endswith((".xml", ".rels")) or lower.startswith("xl/worksheets/"):
                continue
            strings = 0
            tail = b""
            for piece in self.pieces(name):
                window = tail + piece  # a tag cut between two pieces is counted once, in the second
                strings += window.count(b"<si>") + window.count(b"<si ")
                tail = piece[-3:]
            if strings > self.max_cells:
                raise LimitExceeded(f"{self.source}: the workbook holds {strings:,} shared strings, over the "
                                    f"limit max_cells={self.max_cells:,}; raise {_CELL_OPTION} to read it anyway",
                                    options=("max_cells",))

    def sheets(self) -> dict[str, str]:
        """Each sheet's name and the path of its part, as the workbook and its relations list them."""
        if self._sheets is None:
            workbook = self.read_small("xl/workbook.xml")
            rels = self.read_small("xl/_rels/workbook.xml.rels")
            targets = {}
            for tag in _REL_TAG.findall(rels):
                attrs = attributes(tag)
                targets[attrs.get(b"Id", b"")] = attrs.get(b"Target", b"")
            out: dict[str, str] = {}
            for tag in _SHEET_TAG.findall(workbook):
                attrs = attributes(tag)
                name = unescape(attrs.get(b"name", b"").decode("utf-8", "replace"))
                rid = next((v for k, v in attrs.items() if k.endswith(b":id")), b"")
                target = unescape(targets.get(rid, b"").decode("utf-8", "replace")).replace("\\", "/")
                path = target.lstrip("/") if target.startswith("/") else "xl/" + target
                path = os.path.normpath(path).replace("\\", "/")
                if path in self._parts and name not in out:
                    out[name] = path
            self._sheets = out
        return self._sheets

    @property
    def date1904(self) -> bool:
        """Whether the workbook counts dates from 1904 (``date1904`` of ``workbookPr`` in ``xl/workbook.xml``).

        Only the workbook's own ``workbookPr`` counts: the ``x14:workbookPr`` that Excel 2010+ writes in
        the ``extLst`` extensions carries no ``date1904`` and does not reset it.
        """
        own = _EXT_LIST.sub(b"", self.read_small("xl/workbook.xml"))
        tag = _WORKBOOK_PR.search(own)
        return tag is not None and attributes(tag.group(0)).get(b"date1904", b"").strip() in (b"1", b"true")

    @property
    def names_date1904(self) -> bool:
        """Whether ``xl/workbook.xml`` names ``date1904`` at all: if not, every reader counts dates from 1900."""
        return b"date1904" in self.read_small("xl/workbook.xml")

    def check_sheet(self, name: str) -> CellScan:
        """Refuse the sheet if the grid fastexcel would build for it is over ``max_cells``, or past Excel's
        rows or columns; else the cells its XML shows that fastexcel does not (:class:`CellScan`), found in
        the same pass."""
        if name in self._scans:
            return self._scans[name]
        if self._zip is None:
            return CellScan()
        path = self.sheets().get(name)
        scan = CellScan()
        if path is None:
            # the relations do not lead to it: fastexcel finds the part its own way, so bound every sheet part
            for part in self._parts:
                if part.startswith("xl/worksheets/") and part.endswith(".xml"):
                    self._check_part(name, part)
        else:
            scan = self._check_part(name, path)
        self._scans[name] = scan
        return scan

    def _check_part(self, name: str, path: str) -> CellScan:
        info = self._parts[path]
        if info.file_size > self.max_bytes:
            raise self._too_large(info)
        if self._styles is None:
            self._styles = _styles(self.read_small("xl/styles.xml"))
        scanner = _Scanner(CellScan(styles=self._styles))
        bound = grid(self.pieces(path), stop=self.max_cells, exact=False, each=scanner)
        if bound.cells > self.max_cells and bound.rows <= MAX_ROWS and bound.columns <= MAX_COLUMNS:
            # cells without a value may be counted (fastexcel makes none of them): count again without them
            scanner = _Scanner(CellScan(styles=self._styles))
            bound = grid(self.pieces(path), stop=self.max_cells, exact=True, each=scanner)
        if bound.rows > MAX_ROWS or bound.columns > MAX_COLUMNS:
            what, last, at = ("row", MAX_ROWS, bound.rows) if bound.rows > MAX_ROWS else \
                ("column", MAX_COLUMNS, bound.columns)
            raise LimitExceeded(
                f"{self.source}: sheet {name!r} goes past {what} {last:,}, the last {what} of an Excel sheet "
                f"({what} {at:,} at least): the file is broken, or was not written by a spreadsheet program")
        if bound.cells > self.max_cells:
            raise LimitExceeded(
                f"{self.source}: sheet {name!r} spans at least {bound.rows:,} rows x {bound.columns:,} columns "
                f"of cells, over the limit max_cells={self.max_cells:,} (reading it needs a grid that large); "
                f"delete stray cells far from the data, or raise {_CELL_OPTION} to read it anyway",
                options=("max_cells",))
        numbers = scanner.numbers
        return replace(scanner.scan, numbers=frozenset(numbers) if numbers is not None else None)


class _Scanner:
    """Collects a :class:`CellScan` from the pieces of a sheet (each cut after a cell's end)."""

    def __init__(self, scan: CellScan) -> None:
        self.scan = scan
        styles = scan.styles
        self.styled = _styled(set(styles)) if styles else None
        self.marks = tuple({f's="{s}"'.encode() for s in styles} | {f"s='{s}'".encode() for s in styles})
        self.double = tuple(m for m in self.marks if b'"' in m)
        self.numbers: set[int] | None = set()

    def __call__(self, chunk: bytes, plain: bool) -> None:
        """Scan a piece of whole cells; ``plain``: every cell in it starts ``<c r="``."""
        if self.numbers is not None:
            found = _number_columns(chunk) if plain else None
            self.numbers = None if found is None else self.numbers | found
        self._scan_chunk(chunk, self.scan, self.styled, self.double if plain else self.marks, plain=plain)

    @staticmethod
    def _scan_chunk(chunk: bytes, scan: CellScan, styled: re.Pattern[bytes] | None,
                    style_marks: tuple[bytes, ...], *, plain: bool) -> None:
        # a piece whose every cell starts <c r=" writes its attributes in double quotes
        if b't="e"' in chunk or (not plain and b"t='e'" in chunk):
            for match in _ERROR_CELL.finditer(chunk):
                at = _position(match.group(1))
                value = _VALUE.search(match.group(2))
                if at is not None:
                    scan.errors.append((*at, unescape(value.group(1).decode("utf-8", "replace")) if value else ""))
        if b't="d"' in chunk or (not plain and b"t='d'" in chunk):
            for match in _DATE_CELL.finditer(chunk):
                at = _position(match.group(1))
                value = _VALUE.search(match.group(2))
                if at is not None and value is not None:
                    scan.dates.append((*at, value.group(1).decode("utf-8", "replace").strip()))
        if b"<f" in chunk:
            for match in _FORMULA_CELL.finditer(chunk):
                attrs = attributes(match.group(1))
                if match.group(4) is not None and attrs.get(b"t") in (b"str", b"inlineStr"):
                    continue   # a formula whose saved value is the empty text
                at = _position(match.group(1))
                if at is not None:
                    scan.unsaved.append((*at, unescape((match.group(3) or b"").decode("utf-8", "replace"))))
        if styled is not None and any(mark in chunk for mark in style_marks):
            for match in styled.finditer(chunk):
                attrs = attributes(match.group(1))
                if attrs.get(b"t", b"n") != b"n":
                    continue
                at = _position(match.group(1))
                value = _VALUE.search(match.group(2))
                if at is not None and value is not None:
                    style = int(attrs.get(b"s", b"0"))
                    scan.formatted.append((*at, value.group(1).decode("ascii", "replace").strip(), style))
