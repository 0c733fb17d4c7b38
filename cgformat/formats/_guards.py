"""Protective limits: checks that keep a broken or hostile input from exhausting memory or time.

Workbooks
    fastexcel (calamine) builds a dense grid over the bounding box of a sheet's cells, whatever the sheet
    declares: a workbook holding a cell at A1 and one at XFD1048576 asks for 17 billion cells, and the
    process dies (a Rust allocation failure aborts; it is no exception). It also loads the shared strings
    whole when the workbook opens. So before fastexcel sees an XLSX, :class:`WorkbookGuard` inflates the
    parts itself, in bounded pieces, and measures them:

    * each sheet: an upper bound of the cells in the grid fastexcel will build (rows x columns of the
      cells that hold a value, as positioned by their ``r`` references or, without one, by counting),
      refused over ``ReadOptions.max_cells``. A fast pass over the bytes gives the bound for the usual
      layout (``<c r="A1" ...>``); when it is over the limit, or the layout is unusual (prefixed tags,
      ``r`` not first, cells without ``r``), an exact pass walks every tag, and only it refuses;
    * every XML part: at most ``XML_BYTES_PER_CELL * max_cells`` bytes inflated, and at most
      ``max_cells`` shared strings.

    The declared ``<dimension>`` is not trusted either way: it can hide a far cell, and a huge declared
    range over a small sheet is harmless.

Records
    :class:`GuardedReader` wraps any reader: more than ``ReadOptions.max_columns`` columns, or a value
    (or header label) longer than ``ReadOptions.max_field_bytes`` bytes, raise :class:`LimitExceeded`
    naming the record, line, field and the option that raises the limit.

Files
    :func:`open_watched` opens a path so that a read after the file changed (size or modification time)
    raises :class:`ReadError`: the readers pass over some inputs twice, and a file rewritten between the
    passes must not be half one version and half another.
"""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import polars as pl

from .._prefetch import prefetch
from ..errors import CgformatError, LimitExceeded, ReadError, UsageError

if TYPE_CHECKING:
    from ..model import RecordBatch, SourceInfo
    from . import Reader, ReadOptions

__all__ = ["XML_BYTES_PER_CELL", "GuardedReader", "ReaderFailure", "WorkbookGuard", "check_batch", "check_labels",
           "open_watched", "reader_failure"]

XML_BYTES_PER_CELL = 64
"""Inflated bytes allowed per cell of ``max_cells`` in any one XML part of a workbook."""
_PIECE = 4 << 20          # inflated bytes examined at a time
_CELL_OPTION = "max_cells (CLI --max-cells)"


# --------------------------------------------------------------------------------------------- inflating


def _raw_entry(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The stored (compressed) bytes of a zip entry, located through its local header."""
    at = info.header_offset
    if data[at:at + 4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"no local header for {info.filename}")
    name_len, extra_len = struct.unpack_from("<HH", data, at + 26)
    start = at + 30 + name_len + extra_len
    return data[start:start + info.compress_size]


def inflate(data: bytes, info: zipfile.ZipInfo, *, limit: int) -> Iterator[bytes]:
    """A zip entry's bytes in pieces of at most ``_PIECE``, never more than ``limit + 1`` bytes in all.

    The declared sizes are not trusted: the output is bounded while it is produced, so a small entry that
    inflates to gigabytes costs at most ``limit`` bytes of work. Yields nothing more once past ``limit``.
    """
    raw = _raw_entry(data, info)
    if info.compress_type == zipfile.ZIP_STORED:
        for at in range(0, min(len(raw), limit + 1), _PIECE):
            yield raw[at:min(at + _PIECE, limit + 1)]
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        return  # fastexcel reads only stored and deflated parts; it reports the rest itself
    inflater = zlib.decompressobj(-15)
    produced = 0
    pending = raw
    while produced <= limit:
        piece = inflater.decompress(pending, _PIECE)
        pending = inflater.unconsumed_tail
        if piece:
            produced += len(piece)
            yield piece
        elif not pending:
            break
        if inflater.eof:
            break


# --------------------------------------------------------------------------------------------- workbooks


_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\b[^>]*>")
_REL_TAG = re.compile(rb"<(?:[\w.-]+:)?Relationship\b[^>]*>")
_ATTR = re.compile(rb"([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def _attrs(tag: bytes) -> dict[bytes, bytes]:
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _ATTR.finditer(tag)}


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ch - 64)
    return n


def _greater_than(x: int) -> bytes:
    """A regex for a decimal number (no sign) greater than ``x``: more digits, or as many and larger."""
    digits = str(x)
    alternatives = [b"[0-9]{%d,}" % (len(digits) + 1)]
    for i, d in enumerate(digits):
        if d != "9":
            rest = len(digits) - i - 1
            alternatives.append(digits[:i].encode() + b"[%d-9]" % (int(d) + 1) + (b"[0-9]{%d}" % rest if rest
                                                                                   else b""))
    return b"(?:" + b"|".join(alternatives) + b")"


@dataclass(slots=True)
class _Bound:
    """What a pass over a sheet found: the grid's rows and columns (upper bounds).

    ``loose``: the bound may count more than fastexcel will (cells without a value, which it skips; rows
    or columns both referenced and counted), so a bound over the limit is checked again by the exact
    pass before the sheet is refused.
    """

    rows: int = 0
    columns: int = 0
    loose: bool = False
    _in_data: bool = False

    def note_valueless(self, chunk: bytes) -> None:
        """Mark the bound loose if this part of the sheet may hold a cell without a value."""
        if self.loose:
            return
        region = chunk
        if not self._in_data:
            start = chunk.find(b"<sheetData")
            if start < 0:
                return
            self._in_data = True
            region = chunk[start + 10:]
        end = region.find(b"</sheetData")
        if end >= 0:
            region = region[:end]
        self.loose = b"/>" in region or b'"></c>' in region or b"<c></c>" in region

    @property
    def cells(self) -> int:
        return self.rows * self.columns


_ODD_LAYOUT = re.compile(rb"<(?:c|row)[\t\n\r/]|:(?:c|row)[\s>]")
_REF_AT = re.compile(rb'<c r="([A-Z]{1,3})([0-9]+)"')


def _cells_in(chunk: bytes) -> int:
    return chunk.count(b"<c ") + chunk.count(b"<c>")


def _most_cells_per_row(chunk: bytes, open_row: int) -> tuple[int, int]:
    """The most cells any row of ``chunk`` holds (the first continuing a row of ``open_row`` cells), and
    the cells of the row left open at its end. Inside rows every tag starting ``<c`` is a cell."""
    counts = list(map(bytes.count, chunk.split(b"</row>"), repeat(b"<c")))
    counts[0] += open_row
    return max(counts), counts[-1]


def _letters(column: int) -> bytes:
    out = b""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        out = bytes([65 + rest]) + out
    return out


def _letters_greater(column: int) -> bytes:
    """A regex for column letters (A..Z, AA ...) past ``column``."""
    if column <= 0:
        return b"[A-Z]+"
    letters = _letters(column)
    alternatives = [b"[A-Z]{%d,}" % (len(letters) + 1)]
    for i, ch in enumerate(letters):
        if ch != ord("Z"):
            rest = len(letters) - i - 1
            alternatives.append(letters[:i] + b"[%c-Z]" % (ch + 1) + (b"[A-Z]{%d}" % rest if rest else b""))
    return b"(?:" + b"|".join(alternatives) + b")"


def _beyond(rows: int, columns: int) -> re.Pattern[bytes]:
    """Cell references past ``rows`` or ``columns``, and references that are no ``A1`` reference at all."""
    return re.compile(rb'<c r="(?:(' + _letters_greater(columns) + rb')([0-9]+)"|([A-Z]+)('
                      + _greater_than(rows) + rb')"|(?![A-Z]{1,3}[0-9]+"))')


def _referenced_bound(pieces: Iterator[bytes], *, stop: int) -> _Bound | None:
    """The grid of a sheet whose every cell starts ``<c r="A1"`` (what Excel and most writers produce),
    or None for any other layout.

    Each chunk's last cell gives a guess of the extent; one search then finds every cell past it (none, in
    an ordinary sheet). Returns early once the grid is over ``stop``.
    """
    bound = _Bound()
    carry = b""
    pattern: re.Pattern[bytes] | None = None
    for piece in pieces:
        chunk = carry + piece
        cut = chunk.rfind(b">") + 1
        chunk, carry = chunk[:cut], chunk[cut:]
        first = chunk.count(b'<c r="')
        if chunk.count(b"<c") != first and (_cells_in(chunk) != first or _ODD_LAYOUT.search(chunk)):
            return None  # cells without r, r not first, odd spacing
        if (b":c" in chunk or b":row" in chunk) and _ODD_LAYOUT.search(chunk):
            return None  # prefixed tags
        bound.note_valueless(chunk)
        if not first:
            continue
        last = _REF_AT.match(chunk, chunk.rfind(b'<c r="'))
        if last is None:
            return None
        rows, columns = max(bound.rows, int(last.group(2))), max(bound.columns, _column_number(last.group(1)))
        if pattern is None or (rows, columns) != (bound.rows, bound.columns):
            bound.rows, bound.columns = rows, columns
            pattern = _beyond(rows, columns)
        found = pattern.findall(chunk)
        if found:
            for col_past, row, col, row_past in found:
                if not (col_past or col):
                    return None  # a reference that is not A1 style
                bound.rows = max(bound.rows, int(row or row_past))
                bound.columns = max(bound.columns, _column_number(col_past or col))
            pattern = _beyond(bound.rows, bound.columns)
        if bound.cells > stop:
            return bound
    if carry.strip():
        return None
    return bound


_ANY_REF = re.compile(rb'\sr\s*=\s*["\']([A-Za-z]*)([0-9]*)["\']')


def _counted_bound(pieces: Iterator[bytes], *, stop: int) -> _Bound | None:
    """An upper bound of the grid from counts, for sheets whose cells or rows lack ``r`` (or have it late),
    or None when tags are prefixed (the exact pass then counts).

    Every ``r`` found gives a row and a column; every row tag may add a row (a row without ``r`` is the
    previous + 1), and every cell of a row may add a column (a cell without ``r`` is the previous + 1).
    The bound is ``approximate`` when explicit references and counting both contributed. Returns early
    once over ``stop``.
    """
    bound = _Bound()
    max_row = max_col = 0
    row_tags = 0
    per_row = 0
    open_row = 0
    carry = b""
    for piece in pieces:
        chunk = carry + piece
        cut = chunk.rfind(b">") + 1
        chunk, carry = chunk[:cut], chunk[cut:]
        if b":c " in chunk or b":c>" in chunk or b":row" in chunk:
            return None
        most, open_row = _most_cells_per_row(chunk, open_row)
        per_row = max(per_row, most)
        row_tags += chunk.count(b"<row")
        for letters, digits in (_ANY_REF.findall(chunk) if b"r=" in chunk or b"r =" in chunk else ()):
            if digits:
                max_row = max(max_row, int(digits))
            if letters:
                max_col = max(max_col, _column_number(letters))
        bound.rows = max_row + row_tags
        bound.columns = max_col + per_row
        bound.loose = bound.loose or bool(max_row or max_col)
        bound.note_valueless(chunk)
        if bound.cells > stop:
            return bound
    return bound


_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?(row|c|v|is|f)(?=[\s/>])([^>]*)>")
_R_ATTR = re.compile(rb'(?:^|\s)r\s*=\s*["\']([A-Za-z]*)([0-9]*)["\']')


def _exact_bound(pieces: Iterator[bytes], *, stop: int) -> _Bound:
    """The grid fastexcel builds: rows x columns spanned by the cells that hold a value (``<v>``/``<is>``).

    Positions follow calamine: a row's ``r`` (else the previous row + 1), a cell's ``r`` (else the
    previous cell + 1 in its row). Returns early once over ``stop``.
    """
    bound = _Bound()
    row = 0          # 1-based index of the current row
    col = 0          # 1-based column of the last cell in the row
    cell_at: tuple[int, int] | None = None   # position of the open <c> until a value is seen
    carry = b""
    for piece in pieces:
        chunk = carry + piece
        cut = chunk.rfind(b">") + 1
        chunk, carry = chunk[:cut], chunk[cut:]
        for m in _TAG.finditer(chunk):
            closing, name, attrs = m.group(1), m.group(2), m.group(3)
            if name == b"row":
                if closing:
                    continue
                ref = _R_ATTR.search(attrs)
                row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                col = 0
            elif name == b"c":
                if closing:
                    cell_at = None
                    continue
                ref = _R_ATTR.search(attrs)
                if ref and ref.group(1) and ref.group(2):
                    col = _column_number(ref.group(1))
                    cell_row = int(ref.group(2))
                else:
                    col += 1
                    cell_row = max(row, 1)
                cell_at = None if attrs.endswith(b"/") else (cell_row, col)
            elif cell_at is not None and not closing:  # <v>, <is> or <f>: the cell may hold a value
                bound.rows = max(bound.rows, cell_at[0])
                bound.columns = max(bound.columns, cell_at[1])
                cell_at = None
                if bound.cells > stop:
                    return bound
    return bound


class WorkbookGuard:
    """Measures an XLSX workbook's parts before fastexcel loads them; raises :class:`LimitExceeded`."""

    def __init__(self, data: bytes, *, source: str, max_cells: int) -> None:
        self.data = data
        self.source = source
        self.max_cells = max_cells
        self.max_bytes = XML_BYTES_PER_CELL * max_cells
        self._checked: dict[str, _Bound] = {}
        self.error: Exception | None = None
        try:
            self.zip: zipfile.ZipFile | None = zipfile.ZipFile(io.BytesIO(data))
        except Exception as error:  # noqa: BLE001 - BadZipFile, NotImplementedError (an odd version) ...
            # a zip this cannot read is refused (see excel._open): it must not reach fastexcel unmeasured
            self.zip = None
            self.error = error

    def _parts(self) -> dict[str, zipfile.ZipInfo]:
        assert self.zip is not None
        return {info.filename.lstrip("/").replace("\\", "/"): info for info in self.zip.infolist()}

    def _read_small(self, path: str) -> bytes:
        info = self._parts().get(path)
        if info is None:
            return b""
        return b"".join(self._pieces(info))

    def _pieces(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        total = 0
        try:
            for piece in inflate(self.data, info, limit=self.max_bytes):
                total += len(piece)
                if total > self.max_bytes:
                    raise LimitExceeded(
                        f"{self.source}: the workbook part {info.filename} inflates to more than "
                        f"{self.max_bytes:,} bytes ({XML_BYTES_PER_CELL} per cell of the limit "
                        f"max_cells={self.max_cells:,}): a zip bomb, or a sheet far larger than any CG file; "
                        f"raise {_CELL_OPTION} to read it anyway")
                yield piece
        except (zlib.error, zipfile.BadZipFile, struct.error, ValueError):
            return  # corrupt data: fastexcel reports it

    def check_parts(self) -> None:
        """Check the parts fastexcel reads when it opens the workbook (shared strings, styles, workbook)."""
        if self.zip is None:
            return
        for name, info in self._parts().items():
            lower = name.lower()
            if not lower.endswith((".xml", ".rels")) or lower.startswith("xl/worksheets/"):
                continue
            strings = 0
            tail = b""
            for piece in self._pieces(info):
                window = tail + piece  # a tag cut between two pieces is counted once, in the second
                strings += window.count(b"<si>") + window.count(b"<si ")
                tail = piece[-3:]
            if strings > self.max_cells:
                raise LimitExceeded(f"{self.source}: the workbook holds {strings:,} shared strings, over the "
                                    f"limit max_cells={self.max_cells:,}; raise {_CELL_OPTION} to read it anyway")

    def sheet_parts(self) -> dict[str, zipfile.ZipInfo]:
        """Each sheet's name and its part, as the workbook and its relations list them."""
        if self.zip is None:
            return {}
        workbook = self._read_small("xl/workbook.xml")
        rels = self._read_small("xl/_rels/workbook.xml.rels")
        targets = {}
        for tag in _REL_TAG.findall(rels):
            attrs = _attrs(tag)
            targets[attrs.get(b"Id", b"")] = attrs.get(b"Target", b"")
        parts = self._parts()
        out: dict[str, zipfile.ZipInfo] = {}
        for tag in _SHEET_TAG.findall(workbook):
            attrs = _attrs(tag)
            name = _unescape(attrs.get(b"name", b"").decode("utf-8", "replace"))
            rid = next((v for k, v in attrs.items() if k.endswith(b":id")), b"")
            target = targets.get(rid, b"").decode("utf-8", "replace").replace("\\", "/")
            path = target.lstrip("/") if target.startswith("/") else "xl/" + target
            path = os.path.normpath(path).replace("\\", "/")
            if path in parts:
                out[name] = parts[path]
        return out

    def check_sheet(self, name: str) -> None:
        """Refuse the sheet if the grid fastexcel would build for it is over ``max_cells``."""
        if name in self._checked or self.zip is None:
            return
        info = self.sheet_parts().get(name)
        if info is None:
            # the relations do not lead to it: fastexcel finds the part its own way, so bound every sheet part
            for path, part in self._parts().items():
                if path.startswith("xl/worksheets/") and path.endswith(".xml"):
                    self._check_part(name, part)
            self._checked[name] = _Bound()
            return
        self._checked[name] = self._check_part(name, info)

    def _check_part(self, name: str, info: zipfile.ZipInfo) -> _Bound:
        bound = _referenced_bound(self._pieces(info), stop=self.max_cells)
        if bound is None:
            bound = _counted_bound(self._pieces(info), stop=self.max_cells)
        if bound is None or (bound.cells > self.max_cells and bound.loose):
            # the fast bound counts cells without a value (fastexcel skips them): count exactly
            bound = _exact_bound(self._pieces(info), stop=self.max_cells)
        if bound.cells > self.max_cells:
            raise LimitExceeded(
                f"{self.source}: sheet {name!r} spans at least {bound.rows:,} rows x {bound.columns:,} columns "
                f"of cells, over the limit max_cells={self.max_cells:,} (reading it needs a grid that large); "
                f"delete stray cells far from the data, or raise {_CELL_OPTION} to read it anyway")
        return bound


def _unescape(value: str) -> str:
    return (value.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


# --------------------------------------------------------------------------------------------- records


def check_labels(info: SourceInfo, options: ReadOptions) -> None:
    """Refuse a source with more columns than ``max_columns`` or a header label over ``max_field_bytes``."""
    if len(info.labels) > options.max_columns:
        raise LimitExceeded(f"{info.source}: {len(info.labels):,} columns, over the limit "
                            f"max_columns={options.max_columns:,}; raise max_columns (CLI --max-columns) "
                            f"to read it anyway")
    for position, label in enumerate(info.labels, start=1):
        size = len(label.encode("utf-8", "surrogatepass"))
        if size > options.max_field_bytes:
            raise LimitExceeded(f"{info.source}: header column {position} is {size:,} bytes long, over the limit "
                                f"max_field_bytes={options.max_field_bytes:,}; raise max_field_bytes "
                                f"(CLI --max-field-bytes) to read it anyway")


def check_batch(batch: RecordBatch, info: SourceInfo, options: ReadOptions) -> None:
    """Refuse a batch holding a value longer than ``max_field_bytes`` (naming its record, line and field)."""
    frame = batch.frame
    if frame.width == 0 or frame.height == 0:
        return
    longest = frame.select(pl.all().str.len_bytes().max()).row(0)
    limit = options.max_field_bytes
    for column, size in zip(frame.columns, longest, strict=True):
        if size is None or size <= limit:
            continue
        row = int(frame[column].str.len_bytes().arg_max() or 0)
        record = batch.first_record + row
        line = int(batch.lines[row]) if row < batch.lines.len() else None
        where = f"record {record}" + (f" (line {line})" if line else "")
        raise LimitExceeded(f"{info.source}: {where}, field {column!r}: a value of {size:,} bytes, over the "
                            f"limit max_field_bytes={limit:,}; raise max_field_bytes (CLI --max-field-bytes) to "
                            f"read it anyway")


class ReaderFailure(ReadError):
    """An unexpected exception inside a reader (a bug in cgformat or a library it uses), as a ReadError.

    The user sees one line and exit 3, never a traceback; ``__cause__`` keeps the original, and the fuzz
    tests count every such failure as a bug.
    """


def reader_failure(error: Exception, *, fmt: str, source: str) -> Exception:
    """``error`` as it should leave a reader: cgformat's own errors and MemoryError as they are, anything
    else as a :class:`ReaderFailure` naming the input."""
    if isinstance(error, (CgformatError, MemoryError)):
        return error
    detail = str(error).splitlines()[0][:200] if str(error) else ""
    return ReaderFailure(f"{source}: cannot read this {fmt.upper()} input: an unexpected "
                         f"{type(error).__name__}{': ' + detail if detail else ''} (a bug in cgformat: please "
                         f"report it with the file)")


class GuardedReader:
    """A reader whose labels and batches are checked against the protective limits of its options, and
    whose unexpected exceptions become a :class:`ReaderFailure`."""

    def __init__(self, inner: Reader, options: ReadOptions, *, fmt: str = "", source: str = "") -> None:
        self._inner = inner
        self._options = options
        self._fmt = fmt
        self._source = source
        self.info = inner.info
        if options.read_ahead < 1:
            raise UsageError(f"read_ahead must be at least 1, not {options.read_ahead}")
        check_labels(self.info, options)

    def batches(self) -> Iterator[RecordBatch]:
        """The inner reader's batches, each checked by :func:`check_batch`, read ahead (``read_ahead`` of
        them) by a background thread while the caller works on the last one."""
        try:
            yield from prefetch(self._checked(), depth=self._options.read_ahead)
        except Exception as error:
            raise reader_failure(error, fmt=self._fmt, source=self._source or self.info.source) from error

    def _checked(self) -> Iterator[RecordBatch]:
        for batch in self._inner.batches():
            check_batch(batch, self.info, self._options)
            yield batch


# --------------------------------------------------------------------------------------------- files


class _WatchedFile(io.FileIO):
    """A file that refuses to go on reading once it has changed on disk since it was opened."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "rb")
        self._path = path
        stat = os.fstat(self.fileno())
        self._stamp = (stat.st_size, stat.st_mtime_ns)

    def _check(self) -> None:
        stat = os.fstat(self.fileno())
        if (stat.st_size, stat.st_mtime_ns) != self._stamp:
            raise ReadError(f"{self._path}: the file changed while it was being read (it was "
                            f"{self._stamp[0]:,} bytes, now {stat.st_size:,}); read it again once it is complete")

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        self._check()
        return super().readinto(buffer)

    def readall(self) -> bytes:
        self._check()
        return super().readall()


def open_watched(path: Path) -> BinaryIO:
    """Open ``path`` for reading; a read after the file changed raises :class:`ReadError`."""
    return io.BufferedReader(_WatchedFile(path), buffer_size=1 << 20)
