"""The grid a sheet's cells span, bounded before fastexcel allocates it (see :mod:`._workbook`'s guard).

fastexcel (calamine) builds a dense grid over the bounding box of a sheet's cells: :func:`grid` finds that
box from the inflated sheet XML, piece by piece, with ``bytes.count`` and compiled regular expressions, and
stops as soon as it passes ``stop`` cells or Excel's last row or column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import repeat

__all__ = ["MAX_COLUMNS", "MAX_ROWS", "column_number", "grid"]

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384

def column_number(letters: bytes) -> int:
    """The 1-based column of ``A``, ``Z``, ``AA`` ... (either case)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ch - 64)
    return n


def _letters(column: int) -> bytes:
    out = b""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        out = bytes([65 + rest]) + out
    return out


def _greater_than(x: int) -> bytes:
    """A regex for a decimal number (no sign, no leading zero) greater than ``x``."""
    digits = str(x)
    alternatives = [b"[1-9][0-9]{%d,}" % len(digits)]
    for i, d in enumerate(digits):
        if d != "9":
            rest = len(digits) - i - 1
            first = b"[%d-9]" % (int(d) + 1)
            if i == 0 and d == "0":
                first = b"[1-9]"
            alternatives.append(digits[:i].encode() + first + (b"[0-9]{%d}" % rest if rest else b""))
    return b"0*(?:" + b"|".join(alternatives) + b")"


def _letters_greater(column: int) -> bytes:
    """A regex for column letters (upper case) past ``column``."""
    if column <= 0:
        return b"[A-Z]+"
    letters = _letters(column)
    alternatives = [b"[A-Z]{%d,}" % (len(letters) + 1)]
    for i, ch in enumerate(letters):
        if ch != ord("Z"):
            rest = len(letters) - i - 1
            alternatives.append(letters[:i] + b"[%c-Z]" % (ch + 1) + (b"[A-Z]{%d}" % rest if rest else b""))
    return b"(?:" + b"|".join(alternatives) + b")"


# --------------------------------------------------------------------------------------------- the grid


@dataclass(slots=True)
class _Bound:
    """The grid of a sheet from row 1 and column 1: ``rows`` x ``columns`` (upper bounds)."""

    rows: int = 0
    columns: int = 0

    @property
    def cells(self) -> int:
        return self.rows * self.columns

    def past(self, stop: int) -> bool:
        return self.cells > stop or self.rows > MAX_ROWS or self.columns > MAX_COLUMNS


_PREFIXED = re.compile(rb"<(/?)[\w.-]+:(row|c|v|is|f)(?=[\s/>])")
# a cell with r that holds no value (calamine makes no cell of it)
_EMPTY_REFERENCED = re.compile(rb"<c\s+r\s*=\s*[\"'][A-Za-z]+[0-9]+[\"'][^>]*?"
                               rb"(?:/>|>\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>)")
_EMPTY_ROW = re.compile(rb"<row r=\"([0-9]+)\"[^>]*?(?:/>|>\s*</row>)")
_VALUE_OPEN = re.compile(rb"<(?:is|f)(?=[\s/>])")
_ANY_R = re.compile(rb"\sr\s*=\s*[\"']([A-Za-z]*)([0-9]*)[\"']")
_R_SPACED = re.compile(rb"r\s+=")
_CELL_WITH_R = re.compile(rb"<c(?:\s[^>]*?)?\sr\s*=")
_ROW_WITH_R = re.compile(rb"<row(?:\s[^>]*?)?\sr\s*=")


def _pieces_cut(pieces: Iterator[bytes]) -> Iterator[tuple[bytes, bool]]:
    """The pieces re-cut after their last ``</c>`` (else ``>``), prefixes of the sheet's tags removed, each
    with whether it is the last."""
    carry = b""
    held: bytes | None = None
    for piece in pieces:
        chunk = carry + piece
        cut = chunk.rfind(b"</c>") + 4    # after a cell, so that a cell is never cut in two
        if cut < 4:
            cut = chunk.rfind(b">") + 1
        chunk, carry = chunk[:cut], chunk[cut:]
        if b":c" in chunk:   # prefixed cells (a row tag alone places no cell)
            chunk = _PREFIXED.sub(rb"<\1\2", chunk)
        if held is not None:
            yield held, False
        held = chunk
    if held is not None:
        yield held + carry, True


def _any_r(chunk: bytes) -> bool:
    """Whether ``chunk`` may hold an ``r`` attribute in a form other than ``<c r="`` / ``<row r="``."""
    return b"r=" in chunk or _R_SPACED.search(chunk) is not None


def _beyond(rows: int, columns: int, *, plain: bool, row_tags: bool = True) -> re.Pattern[bytes]:
    """An ``r`` reference past ``rows`` or ``columns``: of a cell written ``<c r="A1"`` and (``row_tags``)
    a row written ``<row r="1"`` when ``plain`` (a literal start the search skips to), else of any tag,
    any case."""
    if plain and not row_tags:
        return re.compile(rb'<c r="(?:(' + _letters_greater(columns) + rb')([0-9]*)|([A-Z]*)('
                          + _greater_than(rows) + rb'))"()()')
    if plain:
        return re.compile(rb'<(?:c r="(?:(' + _letters_greater(columns) + rb')([0-9]*)|([A-Z]*)('
                          + _greater_than(rows) + rb'))"|row r="()(' + _greater_than(rows) + rb')")')
    return re.compile(rb"\sr\s*=\s*[\"'](?:(" + _letters_greater(columns) + rb")([0-9]*)|([A-Z]*)("
                      + _greater_than(rows) + rb"))[\"']()()", re.IGNORECASE)


def grid(pieces: Iterator[bytes], *, stop: int, exact: bool,
          each: Callable[[bytes, bool], None] | None = None) -> _Bound:
    """An upper bound of the grid fastexcel builds for a sheet.

    Positions follow calamine: a cell's ``r``; without one, the previous cell + 1 in its row, in the row's
    ``r`` or, without one, the previous row + 1. The bound takes the largest reference seen (one search
    per piece finds the references past the bound so far) plus, when there are cells without ``r``, the
    most cells a row holds and, when there are rows without ``r`` too, the row tags. Cells without a value
    count too (fastexcel makes no cell of them); with ``exact`` they are left out where that moves no
    other cell: those with ``r`` in a piece whose every cell has one, and a row's cells after its last
    value. Stops early once the grid is past ``stop`` cells or past Excel's rows or columns. ``each`` is
    called with every piece of the cells (cut after a cell's end) and whether each of its cells starts
    ``<c r="``, before it is measured.
    """
    bound = _Bound()
    max_row = max_col = 0
    row_tags = 0
    bare_rows = False       # a row without r
    bare_cells = 0          # the most cells in one row, when cells without r exist
    open_row = 0            # cells of the row still open at the end of the last piece
    in_data = False
    shadow = 0              # the largest r of a row left out for holding no value (exact)
    pattern = _beyond(0, 0, plain=False)
    seen = (0, 0, False, True)
    for piece, final in _pieces_cut(pieces):
        chunk = piece
        if not in_data:     # only the cells count: not <col> or other tags before them
            start = chunk.find(b"<sheetData")
            if start < 0:
                continue
            in_data = True
            chunk = chunk[start:]
        if final:
            end = chunk.find(b"</sheetData")
            if end >= 0:
                chunk = chunk[:end]
        cells = chunk.count(b"<c")
        plain = chunk.count(b'<c r="')
        rows_here = chunk.count(b"<row")
        plain_rows = chunk.count(b'<row r="')
        # no r attribute in the piece at all (rows and cells counted in order): no search for references
        odd = (plain != cells or plain_rows not in (0, rows_here)) and _any_r(chunk)
        referenced = plain if plain == cells else (len(_CELL_WITH_R.findall(chunk)) if odd else 0)
        if each is not None and cells:
            each(chunk, plain == cells)
        row_tags += rows_here
        if exact and referenced == cells:
            chunk = _EMPTY_REFERENCED.sub(b"", chunk)
            cells = plain = referenced = chunk.count(b"<c")
            # a row left without cells makes no row of the grid; its r still places the rows after it
            # that have none, so it is kept aside for those
            for number in _EMPTY_ROW.findall(chunk):
                shadow = max(shadow, int(number))
            chunk = _EMPTY_ROW.sub(b"", chunk)
            rows_here, plain_rows = chunk.count(b"<row"), chunk.count(b'<row r="')
        if rows_here != plain_rows and (not odd or len(_ROW_WITH_R.findall(chunk)) != rows_here):
            bare_rows = True
        is_plain = not odd
        if referenced != cells or bare_cells:
            if exact:   # a row's cells up to its last value: count the cells before the last value tag
                marked = _VALUE_OPEN.sub(b"<v", chunk).replace(b"</row>", b"</row>\x00<v")
                parts = (b"\x00<v" + marked).split(b"</row>")
                ends = map(bytes.rfind, parts, repeat(b"<v"))
                counts = list(map(bytes.count, parts, repeat(b"<c"), repeat(0), ends))
                counts[0] += open_row
                open_row = parts[-1].count(b"<c")
            else:
                counts = list(map(bytes.count, chunk.split(b"</row>"), repeat(b"<c")))
                counts[0] += open_row
                open_row = counts[-1]
            bare_cells = max(bare_cells, *counts)
        last = chunk.rfind(b"<c ")
        ref = _ANY_R.search(chunk, last) if referenced and last >= 0 else None
        if ref is not None:   # the last cell's reference first: then few references lie past the bound
            max_row = max(max_row, int(ref.group(2) or 0))
            max_col = max(max_col, column_number(ref.group(1)))
        # a row's r places only its cells without r: with none, the cells' references are the grid
        row_refs = bool(bare_cells) or referenced != cells
        if (max_row, max_col, is_plain, row_refs) != seen:
            seen = (max_row, max_col, is_plain, row_refs)
            pattern = _beyond(max_row, max_col, plain=is_plain, row_tags=row_refs)
        for col_past, row, col, row_past, _, row_tag in pattern.findall(chunk) if plain or plain_rows or odd else ():
            if row or row_past or row_tag:
                max_row = max(max_row, int(row or row_past or row_tag))
            if col_past or col:
                max_col = max(max_col, column_number(col_past or col))
        bound.rows = max(max_row, shadow) + row_tags if bare_rows and bare_cells else \
            max(max_row, 0 if max_row else row_tags)
        bound.columns = max_col + bare_cells
        if bound.past(stop):
            return bound
    return bound
