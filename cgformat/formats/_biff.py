"""What an XLS (BIFF8) sheet shows that fastexcel does not tell: number formats and formula results.

fastexcel (calamine) gives an XLS cell's value but not its number format, and an empty text for a
formula saved without a computed result. :func:`scan_xls` reads the ``Workbook`` stream out of the OLE2
(compound file) container and walks its BIFF8 records once: the FORMAT and XF records of the workbook
globals, then the sheet's NUMBER, RK, MULRK and FORMULA records. The result is a :class:`CellScan`, as
the XLSX scan gives, so both formats are shown and reported alike.

Every sector index, chain and record length is checked against the file; a container or stream this
cannot follow gives ``None`` (the values fastexcel read stand, unchecked) and never an exception. The
walk visits each record once, keeping none (a Python step per record: an XLS sheet holds at most
65,536 rows x 256 columns).
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterator

from ._numfmt import number_formats
from ._workbook import CellScan

__all__ = ["scan_xls"]

_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END_OF_CHAIN = 0xFFFFFFFE
_FREE = 0xFFFFFFFF

_BOF, _EOF, _CONTINUE = 0x0809, 0x000A, 0x003C
_FORMAT, _XF, _BOUNDSHEET = 0x041E, 0x00E0, 0x0085
_NUMBER, _RK, _MULRK, _FORMULA, _STRING = 0x0203, 0x027E, 0x00BD, 0x0006, 0x0207

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_HEAD = struct.Struct("<HH")
_CELL = struct.Struct("<HHH")
_DOUBLE = struct.Struct("<d")


class _Container:
    """An OLE2 compound file's streams, by name (only what reading one stream needs)."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 512 or not data.startswith(_MAGIC):
            raise ValueError("no compound file")
        self.data = data
        shift = _U16.unpack_from(data, 0x1E)[0]
        mini_shift = _U16.unpack_from(data, 0x20)[0]
        if shift not in (9, 12) or mini_shift != 6:
            raise ValueError("odd sector size")
        self.size = 1 << shift
        self.sectors = (len(data) - self.size) // self.size + 1
        fat_sectors = list(array("I", data[0x4C:0x4C + 109 * 4]))
        difat, count = _U32.unpack_from(data, 0x44)[0], _U32.unpack_from(data, 0x48)[0]
        per = self.size // 4 - 1
        for _ in range(min(count, self.sectors)):
            if difat >= self.sectors:
                break
            block = array("I", self._sector(difat))
            fat_sectors.extend(block[:per])
            difat = block[per]
        declared = _U32.unpack_from(data, 0x2C)[0]
        self.fat = array("I")
        for sector in fat_sectors[:declared]:
            if sector >= self.sectors:
                raise ValueError("FAT sector outside the file")
            self.fat.extend(array("I", self._sector(sector)))
        self.cutoff = _U32.unpack_from(data, 0x38)[0]
        self.mini_fat_start = _U32.unpack_from(data, 0x3C)[0]
        directory = self._chain(_U32.unpack_from(data, 0x30)[0], None)
        self.entries: dict[str, tuple[int, int, int]] = {}
        for at in range(0, len(directory) - 127, 128):
            length = _U16.unpack_from(directory, at + 0x40)[0]
            kind = directory[at + 0x42]
            if kind not in (2, 5) or not 2 <= length <= 64:
                continue
            name = directory[at:at + length - 2].decode("utf-16-le", "replace")
            start, size = _U32.unpack_from(directory, at + 0x74)[0], _U32.unpack_from(directory, at + 0x78)[0]
            self.entries.setdefault("\0root" if kind == 5 else name, (kind, start, size))

    def _sector(self, index: int) -> bytes:
        at = (index + 1) * self.size
        return self.data[at:at + self.size]

    def _chain(self, start: int, size: int | None, *, fat: array[int] | None = None, unit: int = 0,
               source: bytes | None = None) -> bytes:
        """The bytes of a chain of sectors (of the mini stream when ``source`` is given)."""
        table = self.fat if fat is None else fat
        unit = unit or self.size
        parts: list[bytes] = []
        seen = 0
        sector = start
        while sector != _END_OF_CHAIN:
            if sector >= len(table) or seen > len(table):
                raise ValueError("broken sector chain")
            if source is None:
                parts.append(self._sector(sector))
            else:
                parts.append(source[sector * unit:(sector + 1) * unit])
            seen += 1
            sector = table[sector]
            if sector == _FREE:
                raise ValueError("broken sector chain")
            if size is not None and seen * unit >= size:
                break
        out = b"".join(parts)
        return out if size is None else out[:size]

    def stream(self, name: str) -> bytes | None:
        """The stream ``name`` (a top-level entry), or None when there is none."""
        entry = self.entries.get(name)
        if entry is None:
            return None
        _, start, size = entry
        if size >= self.cutoff:
            return self._chain(start, size)
        root = self.entries.get("\0root")
        if root is None:
            raise ValueError("no root entry")
        mini_stream = self._chain(root[1], root[2])
        mini_fat = array("I", self._chain(self.mini_fat_start, None))
        return self._chain(start, size, fat=mini_fat, unit=64, source=mini_stream)


def _text(data: bytes, at: int, count: int) -> str:
    """A BIFF8 unicode string's characters from its flags byte at ``at`` (``count`` characters)."""
    flags = data[at]
    at += 1
    if flags & 0x08:
        at += 2
    if flags & 0x04:
        at += 4
    if flags & 0x01:
        return data[at:at + 2 * count].decode("utf-16-le", "replace")
    return data[at:at + count].decode("latin-1")


def _rk(value: int) -> float:
    number = float(struct.unpack("<i", _U32.pack(value & 0xFFFFFFFC))[0] >> 2) if value & 0x02 else \
        _DOUBLE.unpack(b"\0\0\0\0" + _U32.pack(value & 0xFFFFFFFC))[0]
    return number / 100 if value & 0x01 else number


def scan_xls(data: bytes, sheet: str) -> CellScan | None:
    """The number-formatted numbers and the unsaved formula results of ``sheet`` (see the module
    docstring), or None when the file cannot be followed."""
    try:
        stream = _Container(data).stream("Workbook")
        if stream is None:
            return None
        return _scan(stream, sheet)
    except (ValueError, IndexError, struct.error):
        return None


def _records(stream: bytes, at: int) -> Iterator[tuple[int, int, int]]:
    """``(type, start, length)`` of the records of the substream starting at ``at``, to its EOF."""
    end = len(stream)
    unpack = _HEAD.unpack_from
    while at + 4 <= end:
        kind, length = unpack(stream, at)
        yield kind, at + 4, length
        at += 4 + length
        if kind == _EOF:
            return


def _scan(stream: bytes, sheet: str) -> CellScan | None:
    custom: dict[int, str] = {}
    ids: list[int | None] = []
    offsets: dict[str, int] = {}
    for kind, at, length in _records(stream, 0):
        body = stream[at:at + length]
        if kind == _FORMAT and length >= 5:
            custom[_U16.unpack_from(body, 0)[0]] = _text(body, 4, _U16.unpack_from(body, 2)[0])
        elif kind == _XF and length >= 4:
            ids.append(_U16.unpack_from(body, 2)[0])
        elif kind == _BOUNDSHEET and length >= 8:
            offsets.setdefault(_text(body, 7, body[6]), _U32.unpack_from(body, 0)[0])
    start = offsets.get(sheet)
    if start is None or start >= len(stream):
        return None
    styles = number_formats(custom, ids)
    scan = CellScan(styles=styles)
    if start + 4 > len(stream) or _HEAD.unpack_from(stream, start)[0] != _BOF:
        return None
    cell = _CELL.unpack_from
    for kind, at, length in _records(stream, start):
        if kind in (_NUMBER, _RK) and length >= 10:
            row, column, xf = cell(stream, at)
            if xf in styles:
                value = _DOUBLE.unpack_from(stream, at + 6)[0] if kind == _NUMBER else \
                    _rk(_U32.unpack_from(stream, at + 6)[0])
                scan.formatted.append((row + 1, column + 1, repr(value), xf))
        elif kind == _MULRK and length >= 6:
            row, first = _HEAD.unpack_from(stream, at)
            for k in range((length - 6) // 6):
                xf = _U16.unpack_from(stream, at + 4 + 6 * k)[0]
                if xf in styles:
                    value = _rk(_U32.unpack_from(stream, at + 6 + 6 * k)[0])
                    scan.formatted.append((row + 1, first + k + 1, repr(value), xf))
        elif kind == _FORMULA and length >= 14:
            row, column, xf = cell(stream, at)
            result = stream[at + 6:at + 14]
            if result[6:8] != b"\xff\xff":
                if xf in styles:
                    scan.formatted.append((row + 1, column + 1, repr(_DOUBLE.unpack(result)[0]), xf))
            elif result[0] == 3:
                # empty text: what a program that does not calculate saves (and a formula of "" too)
                scan.empty_formulas.append((row + 1, column + 1, ""))
            elif result[0] == 0 and not _string_follows(stream, at + length):
                scan.unsaved.append((row + 1, column + 1, ""))
    return scan


def _string_follows(stream: bytes, at: int) -> bool:
    """Whether the FORMULA record ending at ``at`` is followed by the STRING record of its text result
    (SHRFMLA or ARRAY records may come between)."""
    for _ in range(3):
        if at + 4 > len(stream):
            return False
        kind, length = _HEAD.unpack_from(stream, at)
        if kind == _STRING:
            return True
        if kind not in (_CONTINUE, 0x04BC, 0x0221):
            return False
        at += 4 + length
    return False
