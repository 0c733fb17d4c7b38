"""Private machinery of the CSV reader: encoding sniffing, transcoding, record scanning and parsing.

Everything here works on UTF-8 bytes whose line ends are ``\\n`` or ``\\r\\n`` (CR-only input is translated
first). Three parsers give the same answer on well-formed input; the cheapest that can vouch for a piece is
used:

* :func:`parse_canonical` reads a piece with one polars read and proves, from quote positions and byte
  counts, that the frame is the piece's exact parse (regular quoting, no record short of fields: what
  Excel, polars, pandas and cgformat write). With ``keep_raw`` it also gives each record's bytes when the
  piece is what cgformat's writer writes, for a split to copy.
* :func:`parse_fast` hands a whole piece to polars and checks, with vectorised line statistics, that the
  piece is regular RFC 4180 (quotes only around whole fields, ``""`` inside them); it returns the line of
  the first irregular record when it is not.
* :func:`parse_records` / :func:`parse_slow` walk the bytes in Python and accept anything, leniently:
  a quote inside an unquoted field is kept as text, a field with text after its closing quote is kept
  exactly as written (quotes included), and a quote that is never closed is kept as text too.

Positions are 0-based here (line offsets inside a piece); the reader turns them into 1-based lines.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, BinaryIO

import polars as pl

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

from .._mojibake import AMBIGUOUS, decode_line
from ..errors import EncodingError, ReadError, UsageError

__all__ = [
    "CsvEncodingError",
    "MixedLine",
    "Parsed",
    "Sniff",
    "count_quotes",
    "decode_mixed",
    "detect_delimiter",
    "find_cut",
    "open_record_field",
    "parse_fast",
    "parse_records",
    "parse_slow",
    "sniff",
    "text_chunks",
]

UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
DELIMITERS = (",", ";", "\t", "|")
# bytes cp1252 leaves undefined: a file holding one is read as latin-1
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
# C0 control bytes no text file in a legacy encoding holds (tab, LF, VT, FF, CR and DOS EOF allowed)
_BINARY_CONTROLS = bytes([*range(0x09), *range(0x0E, 0x1A), *range(0x1B, 0x20)])
_TO_NUL = bytes.maketrans(_BINARY_CONTROLS, b"\x00" * len(_BINARY_CONTROLS))
# candidate line-scan separators: a byte absent from the piece makes each line one field
_SCAN_SEPARATORS = tuple(chr(c) for c in (*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0x00))
_CUT_SEARCH_LINES = 1000
_EXACT_MAX_COLUMNS = 200      # wider headers skip the exact-shape shortcut (the pattern would be large)


class CsvEncodingError(EncodingError):
    """Bytes that cannot be decoded; ``offset`` is the 0-based byte offset, ``line`` the 1-based line."""

    def __init__(self, message: str, *, offset: int, line: int) -> None:
        super().__init__(message)
        self.offset = offset
        self.line = line


# --------------------------------------------------------------------------------------------- encoding


@dataclass(frozen=True, slots=True, kw_only=True)
class Sniff:
    """What the first pass over the bytes found out."""

    codec: str              # Python codec used to decode ("utf-8" means: pass the bytes through)
    label: str              # encoding reported in SourceInfo.encoding
    skip: int               # bytes to skip at the start (a UTF-8 BOM)
    size: int               # bytes from the start position to the end
    cr_only: bool           # line ends are CR alone: translate them to LF
    bom: bool               # a byte order mark was found (and is removed)
    non_utf8: bool          # the text is not UTF-8 (warn: CG wants UTF-8)
    first_bad: tuple[int, int] | None = None   # (offset, line) of the first non-UTF-8 byte, if any
    mixed: bool = False     # UTF-8 but for some lines, each read as cp1252 or latin-1 (see decode_line)
    mixed_lines: tuple[MixedLine, ...] = ()    # those lines (the first MIXED_LISTED of them)
    mixed_count: int = 0    # how many lines are not UTF-8 in all


MIXED_LISTED = 1000
"""Lines that are not UTF-8 listed one by one in a file that otherwise is (the rest are counted)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MixedLine:
    """A line that is not UTF-8 in a file that otherwise is."""

    line: int               # 1-based physical line
    offset: int             # 0-based byte offset of its first byte that is not UTF-8
    bytes: str              # the bytes that are not UTF-8, in hex ("f1", "e9 fc")
    encoding: str           # how the line was read: cp1252, or latin-1 when it holds a byte cp1252 leaves undefined
    text: str               # the line as read (its first 200 characters)


@dataclass(slots=True)
class _Utf8Scan:
    size: int = 0
    ascii: bool = True
    nonblank: bool = False
    has_lf: bool = False
    has_cr: bool = False
    bad: int | None = None               # offset of the first byte that is not UTF-8
    nul: int | None = None               # offset of the first NUL byte


def _utf8_tail(data: bytes) -> int:
    """Length of an incomplete UTF-8 sequence at the end of ``data`` (0 to 3 bytes)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return 0
        if byte >= 0xC0:
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return back if back < need else 0
    return 0


def _first_invalid_utf8(data: bytes) -> int | None:
    """Offset of the first byte that is not UTF-8 (None when valid); fast for valid data."""
    if data.isascii():
        return None
    try:
        pl.Series([data], dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.PolarsError:
        pass
    else:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return None  # pragma: no cover - polars and Python disagree


def _scan_utf8(stream: BinaryIO, first: bytes, chunk_size: int) -> _Utf8Scan:
    """One pass: is it UTF-8, where is the first bad byte and the first NUL, is there any text."""
    scan = _Utf8Scan()
    carry = b""
    chunk = first
    while chunk:
        scan.size += len(chunk)
        data = carry + chunk if carry else chunk
        base = scan.size - len(data)     # offset of data[0]
        more = stream.read(chunk_size)
        tail = _utf8_tail(data) if more else 0
        body = data[: len(data) - tail] if tail else data
        carry = data[len(body):]
        if not scan.nonblank and body.strip():
            scan.nonblank = True
        scan.has_lf = scan.has_lf or b"\n" in body
        scan.has_cr = scan.has_cr or b"\r" in body
        if scan.nul is None:
            at = body.find(b"\x00")
            if at >= 0:
                scan.nul = base + at
        if not body.isascii():
            scan.ascii = False
            if scan.bad is None:
                bad = _first_invalid_utf8(body)
                if bad is not None:
                    scan.bad = base + bad
        chunk = more
    if carry:  # an incomplete sequence at the very end
        scan.ascii = False
        if scan.bad is None:
            scan.bad = scan.size - len(carry)
    return scan


# three letters in a row that cp1252 (and latin-1) write beyond ASCII (``Ëåù``): no language written in cp1252
# spells so, while every word of Greek (ISO-8859-7, cp1253) or Cyrillic (cp1251, KOI8-R) text does
_IMPROBABLE = re.compile(rb"[\xc0-\xd6\xd8-\xf6\xf8-\xff]{3,}")


def _legacy_scan(stream: BinaryIO, begin: int, chunk_size: int, *, sep: bytes,
                 evidence: bool) -> tuple[int | None, bool, bool, int | None]:
    """Second pass over a file that is not UTF-8: the first binary control byte, any cp1252 gap, (with
    ``evidence``) whether a line is UTF-8 for certain (:func:`_certain_utf8_line`), and the first run of
    bytes that is improbable as cp1252 text."""
    control: int | None = None
    improbable: int | None = None
    undefined = False
    found = False
    offset = 0
    for chunk in _line_pieces(stream, begin, chunk_size, sep):
        if control is None:
            at = chunk.translate(_TO_NUL).find(b"\x00")
            if at >= 0:
                control = offset + at
        if improbable is None and (run := _IMPROBABLE.search(chunk)) is not None:
            improbable = offset + run.start()
        undefined = undefined or any(b in chunk for b in _CP1252_UNDEFINED)
        if evidence and not found:
            found = _certain_utf8_line(chunk, sep)
        offset += len(chunk)
    return control, undefined, found, improbable


def _line_pieces(stream: BinaryIO, begin: int, chunk_size: int, sep: bytes) -> Iterator[bytes]:
    """The stream from ``begin`` in pieces of about ``chunk_size`` that end at a line end (or the end)."""
    stream.seek(begin)
    parts: list[bytes] = []
    while chunk := stream.read(chunk_size):
        cut = chunk.rfind(sep) + 1
        if cut == 0:
            parts.append(chunk)      # no line end in it: joined once one comes
            continue
        parts.append(chunk[:cut] if cut < len(chunk) else chunk)
        yield b"".join(parts) if len(parts) > 1 else parts[0]
        parts = [chunk[cut:]] if cut < len(chunk) else []
    if parts:
        yield b"".join(parts)


# a line that holds no byte that is not UTF-8 (U+FFFD once decoded with replacement) and what only a sequence
# certainly UTF-8 gives (see cgformat._mojibake): two characters beyond ASCII in a row, or one of U+0080-U+017F
# (one of AMBIGUOUS only after a lower-case letter or before two letters), U+2000-U+21BF or U+1F000-U+1FFFF
_NON_ASCII = r"[\x{80}-\x{fffc}\x{fffe}-\x{10ffff}]"
_AMBIGUOUS = "".join(f"\\x{{{ord(c):x}}}" for c in AMBIGUOUS)
_CERTAIN_LINE = (rf"(?m)^[^\n\x{{fffd}}]*(?:{_NON_ASCII}{{2}}|[\x{{80}}-\x{{17f}}--[{_AMBIGUOUS}]]|[a-z][{_AMBIGUOUS}]"
                 rf"|[{_AMBIGUOUS}][a-zA-Z]{{2}}|[\x{{2000}}-\x{{21bf}}\x{{1f000}}-\x{{1ffff}}])[^\n\x{{fffd}}]*$")


def _certain_utf8_line(piece: bytes, sep: bytes) -> bool:
    """Whether a line of ``piece`` (whole lines) is UTF-8 for certain: in a file that is not UTF-8 throughout,
    the sign that it mixes encodings rather than being cp1252 or latin-1 as a whole."""
    text = piece.decode("utf-8", errors="replace")
    if len(text) == len(piece):
        return False    # no multi-byte sequence at all: nothing here is UTF-8 beyond ASCII
    if sep == b"\r":
        text = text.replace("\r", "\n")
    return bool(pl.Series([text]).str.contains(_CERTAIN_LINE).item())


def decode_mixed(piece: bytes, sep: bytes) -> tuple[bytes, list[tuple[int, bytes, str, str]]]:
    """Whole lines of a file that mixes encodings, as UTF-8: each line that is not UTF-8 decoded by
    :func:`cgformat._mojibake.decode_line`. Returns the bytes and, for each such line, (its byte offset in
    ``piece``, its bytes, its text, the encoding it was read in)."""
    text = piece.decode("utf-8", errors="replace")
    at = text.find("\ufffd")
    if at < 0:
        return piece, []
    tsep = sep.decode()
    out: list[bytes] = []
    found: list[tuple[int, bytes, str, str]] = []
    tpos = bpos = 0       # where the lines not yet handled start, in ``text`` and in ``piece``
    while at >= 0:
        back = text.rfind(tsep, tpos, at)
        start = back + 1 if back >= 0 else tpos
        # the lines before this one are UTF-8 (no replacement character before ``at``): same bytes
        bstart = bpos + len(text[tpos:start].encode("utf-8"))
        bend = piece.find(sep, bstart)
        bend = len(piece) if bend < 0 else bend
        raw = piece[bstart:bend]
        out.append(piece[bpos:bstart])
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            line, encoding = decode_line(raw)
            out.append(line.encode("utf-8"))
            found.append((bstart, raw, line, encoding))
        else:
            out.append(raw)    # a U+FFFD written in the file
        end = text.find(tsep, at)
        tpos, bpos = (len(text), len(piece)) if end < 0 else (end, bend)
        at = text.find("\ufffd", tpos)
    out.append(piece[bpos:])
    return b"".join(out), found


def _not_utf8(raw: bytes) -> tuple[int, str]:
    """Offset of the first byte of ``raw`` that is not UTF-8, and those bytes in hex (16 at most)."""
    escaped = raw.decode("utf-8", errors="surrogateescape")
    bad = bytes(ord(c) - 0xDC00 for c in escaped if "\udc80" <= c <= "\udcff")
    first = len(escaped[: next(i for i, c in enumerate(escaped) if "\udc80" <= c <= "\udcff")]
                .encode("utf-8"))
    shown = " ".join(f"{b:02x}" for b in bad[:16]) + (" ..." if len(bad) > 16 else "")
    return first, shown


def _mixed_scan(stream: BinaryIO, begin: int, chunk_size: int,
                sep: bytes) -> tuple[list[MixedLine], int, set[str]]:
    """Third pass over a file that mixes encodings: its lines that are not UTF-8 (the first
    :data:`MIXED_LISTED`), how many there are and the encodings they were read in. ``begin`` is where the text
    starts (after a byte order mark); offsets are from ``begin``, lines from 1 there."""
    listed: list[MixedLine] = []
    encodings: set[str] = set()
    count = 0
    offset = 0
    line = 1
    for piece in _line_pieces(stream, begin, chunk_size, sep):
        _, found = decode_mixed(piece, sep)
        seen = 0
        for at, raw, text, encoding in found:
            line += piece.count(sep, seen, at)
            seen = at
            count += 1
            encodings.add(encoding)
            if len(listed) < MIXED_LISTED:
                first, shown = _not_utf8(raw)
                listed.append(MixedLine(line=line, offset=offset + at + first, bytes=shown, encoding=encoding,
                                        text=text[:200]))
        line += piece.count(sep, seen)
        offset += len(piece)
    return listed, count, encodings


def _line_of(stream: BinaryIO, begin: int, offset: int, chunk_size: int) -> int:
    """1-based line of the byte at ``offset`` from ``begin`` (CRs count when there is no LF before it)."""
    stream.seek(begin)
    lfs = crs = 0
    left = offset
    while left > 0:
        chunk = stream.read(min(chunk_size, left))
        if not chunk:
            break
        lfs += chunk.count(b"\n")
        crs += chunk.count(b"\r")
        left -= len(chunk)
    return (lfs or crs) + 1


def _scan_decoded(stream: BinaryIO, first: bytes, chunk_size: int, codec: str,
                  source: str) -> tuple[int, bool, bool, bool, bool]:
    """Decode everything strictly; return (size, nonblank, has_lf, has_cr, ascii) or raise."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    size = 0
    lines = 0
    nonblank = has_lf = has_cr = False
    ascii_only = True
    chunk = first
    while True:
        more = stream.read(chunk_size) if chunk else b""
        final = not more
        size += len(chunk)
        ascii_only = ascii_only and chunk.isascii()
        try:
            text = decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            # the error's position is relative to the bytes the decoder held plus this chunk
            held = len(exc.object) - len(chunk)
            offset = max(0, size - len(chunk) - held + exc.start)
            partial = exc.object[: exc.start].decode(codec, errors="replace")
            line = lines + partial.count("\n") + 1
            raise CsvEncodingError(
                f"{source}: byte offset {offset} (line {line}) is not valid {codec}: {exc.reason}; "
                f"give the right --encoding or re-save the file as UTF-8", offset=offset, line=line) from None
        nonblank = nonblank or bool(text.strip().lstrip("\ufeff"))
        has_lf = has_lf or "\n" in text
        has_cr = has_cr or "\r" in text
        lines += text.count("\n")
        if final:
            return size, nonblank, has_lf, has_cr, ascii_only
        chunk = more


_SNIFF_BYTES = 256 << 10   # bytes the encoding scan reads at a time


def _read_some(stream: BinaryIO, size: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < size:
        part = stream.read(size - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _codec_name(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise UsageError(f"unknown encoding {encoding!r}; use for example utf-8, cp1252, latin-1 or utf-16") \
            from None
    return "latin-1" if name == "iso8859-1" else name


def _empty(source: str) -> ReadError:
    return ReadError(f"{source} is empty: no header row (0 bytes, or only a byte order mark and blanks)")


def sniff(stream: BinaryIO, *, start: int, chunk_size: int, forced: str | None, source: str) -> Sniff:
    """Read the whole stream once to choose the encoding; the stream is left at an unknown position.

    Raises :class:`CsvEncodingError` when no encoding fits and :class:`ReadError` when there is no text.
    """
    # read in small pieces: a fresh buffer of the reader's chunk size per read costs more in page faults
    # than the scan itself (171 ms against 66 ms for a 139 MB file)
    chunk_size = min(chunk_size, _SNIFF_BYTES)
    stream.seek(start)
    first = _read_some(stream, max(chunk_size, 4))

    def where(offset: int) -> tuple[int, int]:
        return offset, _line_of(stream, start, offset, chunk_size)

    if forced is not None:
        codec = _codec_name(forced)
        if codec not in ("utf-8", "utf-8-sig"):
            size, nonblank, has_lf, has_cr, ascii_only = _scan_decoded(stream, first, chunk_size, codec,
                                                                       source)
            if not nonblank:
                raise _empty(source)
            multibyte = codec.startswith(("utf-16", "utf-32", "utf_16", "utf_32"))
            return Sniff(codec=codec, label=codec, skip=0, size=size, cr_only=has_cr and not has_lf,
                         bom=multibyte and first.startswith(_UTF16_BOMS),
                         non_utf8=multibyte or not ascii_only)
        skip = 3 if first.startswith(UTF8_BOM) else 0
        scan = _scan_utf8(stream, first[skip:], chunk_size)
        if scan.bad is not None:
            offset, line = where(scan.bad + skip)
            raise CsvEncodingError(
                f"{source}: byte offset {offset} (line {line}) is not valid UTF-8; give the right "
                f"--encoding (for example cp1252)", offset=offset, line=line)
    elif first.startswith(_UTF16_BOMS):
        size, nonblank, has_lf, has_cr, _ = _scan_decoded(stream, first, chunk_size, "utf-16", source)
        if not nonblank:
            raise _empty(source)
        return Sniff(codec="utf-16", label="utf-16", skip=0, size=size, cr_only=has_cr and not has_lf,
                     bom=True, non_utf8=True)
    else:
        skip = 3 if first.startswith(UTF8_BOM) else 0
        scan = _scan_utf8(stream, first[skip:], chunk_size)
        if scan.nul is not None:
            offset, line = where(scan.nul + skip)
            raise CsvEncodingError(
                f"{source}: NUL byte at byte offset {offset} (line {line}): not a text file, or UTF-16 "
                f"without a byte order mark; re-save it as UTF-8 (or give --encoding utf-16-le / utf-16-be)",
                offset=offset, line=line)
    if not scan.nonblank:
        raise _empty(source)
    cr_only = scan.has_cr and not scan.has_lf
    if scan.bad is None:
        return Sniff(codec="utf-8", label="utf-8-sig" if skip else "utf-8", skip=skip,
                     size=scan.size + skip, cr_only=cr_only, bom=bool(skip), non_utf8=False)
    bad = where(scan.bad + skip)
    sep = b"\r" if cr_only else b"\n"
    # a file that is not UTF-8 throughout is cp1252 (or latin-1) as a whole, unless a line of it is UTF-8 for
    # certain (or it starts with a UTF-8 byte order mark): then it mixes encodings, and each line is read in
    # its own encoding (a pure UTF-8 file never gets here: the pass above proved it)
    control, undefined, certain, improbable = _legacy_scan(stream, start + skip, chunk_size, sep=sep, evidence=not skip)
    if control is not None:
        offset, line = where(control + skip)
        raise CsvEncodingError(
            f"{source}: not UTF-8 (byte offset {bad[0]}, line {bad[1]}) and a control byte at byte offset "
            f"{offset} (line {line}): not a text file, or an encoding cgformat cannot tell; give --encoding",
            offset=offset, line=line)
    if improbable is not None:
        # the fallback is a guess: refused where it would garble text rather than written as mojibake
        offset, line = where(improbable + skip)
        stream.seek(start + offset)
        shown = stream.read(24).split(sep)[0].decode("cp1252", errors="replace")
        raise CsvEncodingError(
            f"{source}: not UTF-8, and line {line} (byte offset {offset}: {shown!r}) is not cp1252 text "
            f"either: Greek or Cyrillic, for example; give its --encoding (iso-8859-7, cp1251 ...) or re-save "
            f"the file as UTF-8", offset=offset, line=line)
    if skip or certain:
        listed, count, encodings = _mixed_scan(stream, start + skip, chunk_size, sep)
        listed = [replace(m, offset=m.offset + skip) for m in listed]
        fallback = "latin-1" if "latin-1" in encodings else "cp1252"
        return Sniff(codec="utf-8", label=("utf-8-sig" if skip else "utf-8") + "+" + fallback, skip=skip,
                     size=scan.size + skip, cr_only=cr_only, bom=bool(skip), non_utf8=True, first_bad=bad,
                     mixed=True, mixed_lines=tuple(listed), mixed_count=count)
    codec = "latin-1" if undefined else "cp1252"
    return Sniff(codec=codec, label=codec, skip=0, size=scan.size, cr_only=cr_only, bom=False,
                 non_utf8=True, first_bad=bad)


def text_chunks(stream: BinaryIO, *, start: int, found: Sniff, chunk_size: int) -> Iterator[bytes]:
    """The input from ``start`` as UTF-8 bytes with LF line ends, in chunks of about ``chunk_size``."""
    if found.mixed:
        sep = b"\r" if found.cr_only else b"\n"
        for piece in _line_pieces(stream, start + found.skip, chunk_size, sep):
            data, _ = decode_mixed(piece, sep)
            yield data.replace(b"\r", b"\n") if found.cr_only else data
        return
    stream.seek(start + found.skip)
    if found.codec == "utf-8":
        while chunk := stream.read(chunk_size):
            yield chunk.replace(b"\r", b"\n") if found.cr_only else chunk
        return
    decoder = codecs.getincrementaldecoder(found.codec)(errors="strict")
    first = True
    while True:
        chunk = stream.read(chunk_size)
        text = decoder.decode(chunk, not chunk)
        if first and text:
            text = text.removeprefix("\ufeff")
            first = False
        if found.cr_only:
            text = text.replace("\r", "\n")
        if text:
            yield text.encode("utf-8")
        if not chunk:
            return


# ------------------------------------------------------------------------------------------------ parsing


@dataclass(slots=True, kw_only=True)
class Parsed:
    """Records parsed from a piece of text (0-based positions relative to the piece)."""

    frame: pl.DataFrame                    # columns c0..c{n-1}, String, no nulls; blank lines left out
    lines: pl.Series                       # Int64: line offset where each record starts
    blanks: list[int] = field(default_factory=list)            # line offsets of blank lines
    ragged: list[tuple[int, int, str | None]] = field(default_factory=list)  # (row, fields, extra)
    # rows with exactly one field more than the header, an empty one (a trailing delimiter): not in ``ragged``
    trailing: list[int] = field(default_factory=list)
    stray: list[tuple[int, str]] = field(default_factory=list)  # (row, what) quote irregularities
    newlines: int | None = None            # LFs in the piece, when already counted
    raw_sizes: pl.Series | None = None     # when the piece is what cgformat's writer writes: record bytes


@dataclass(slots=True)
class RawRecord:
    """One record as :func:`parse_records` found it."""

    line: int                         # 0-based line offset of the record's start
    fields: list[bytes] | None        # None for a blank line
    starts: list[int]                 # byte offset where each field starts
    end: int                          # byte offset where the record's text ends (line end excluded)
    stray: str | None = None          # what was irregular about its quoting, if anything


def _columns(ncols: int) -> list[str]:
    return [f"c{i}" for i in range(ncols)]


def _unquoted_re(delimiter: str) -> re.Pattern[bytes]:
    return re.compile(b"[^" + re.escape(delimiter.encode()) + b"\n]*")


def _closing_quote(buf: bytes, opening: int) -> int:
    """Offset of the quote that closes the field opened at ``opening``, or -1."""
    at = opening + 1
    while True:
        at = buf.find(b'"', at)
        if at < 0:
            return -1
        if buf[at + 1: at + 2] == b'"':
            at += 2
            continue
        return at


def parse_records(buf: bytes, *, delimiter: str, final: bool, max_records: int | None = None,
                  max_quoted: int = 1 << 62) -> tuple[list[RawRecord], int]:
    """Parse records from the start of ``buf``; return them and the bytes consumed.

    Without ``final`` a record is only taken when its line end is in ``buf``. A quoted field still open
    at the end of ``buf`` (when ``final``) or longer than ``max_quoted`` bytes is taken as unquoted text.
    """
    dchar = ord(delimiter)
    unquoted = _unquoted_re(delimiter)
    n = len(buf)
    pos = 0
    line = 0
    consumed = 0
    out: list[RawRecord] = []
    while pos < n and (max_records is None or len(out) < max_records):
        start = pos
        if buf[pos] == 10:
            out.append(RawRecord(line, None, [], start))
            pos += 1
            line += 1
            consumed = pos
            continue
        if buf[pos] == 13 and (buf[pos + 1: pos + 2] == b"\n" or (pos + 1 == n and final)):
            out.append(RawRecord(line, None, [], start))
            pos += 2
            line += 1
            consumed = min(pos, n)
            continue
        fields: list[bytes] = []
        starts: list[int] = []
        stray: str | None = None
        end = -1                              # where the record's text ends, once known
        while True:
            starts.append(pos)
            plain = True                      # the value came from an unquoted scan
            if pos < n and buf[pos] == 34:
                close = _closing_quote(buf, pos)
                if close < 0 and not final and n - pos <= max_quoted:
                    break                     # still open: need more input
                if close < 0:
                    match = unquoted.match(buf, pos)
                    assert match is not None
                    value = match.group()
                    pos = match.end()
                    stray = stray or "a quote that is never closed (kept as text)"
                else:
                    after = close + 1
                    nxt = buf[after] if after < n else -1
                    crlf = nxt == 13 and (buf[after + 1: after + 2] == b"\n" or (after + 1 == n and final))
                    if nxt in (dchar, 10, -1) or crlf:
                        value = buf[pos + 1: close].replace(b'""', b'"')
                        plain = False
                        pos = after
                        if crlf:
                            end = after
                            pos = after + 1
                    else:
                        match = unquoted.match(buf, after)
                        assert match is not None
                        pos = match.end()
                        value = buf[starts[-1]: pos]
                        stray = stray or "text after a closing quote (field kept as written)"
            else:
                match = unquoted.match(buf, pos)
                assert match is not None
                value = match.group()
                pos = match.end()
                if b'"' in value:
                    stray = stray or "a quote inside an unquoted field (kept as text)"
            if pos < n and buf[pos] == dchar:
                fields.append(value)
                pos += 1
                continue
            if plain and value.endswith(b"\r"):
                value = value[:-1]
                end = pos - 1
            fields.append(value)
            if end < 0:
                end = pos
            break
        if end < 0 or (pos >= n and not final):
            break                             # the record is not complete in buf
        if pos < n:
            pos += 1                          # the LF
        out.append(RawRecord(line, fields, starts, end, stray))
        line += buf.count(b"\n", start, pos)
        consumed = pos
    return out, consumed


def open_record_field(buf: bytes, *, delimiter: str, limit: int) -> tuple[int, int] | None:
    """In ``buf``, which starts with a record that does not end in it: the first field of that record that is
    over ``limit`` bytes however the reader ends up reading it, as (0-based field, bytes at least); or None.

    A quote still open may close later (its value is then at least the bytes after it, less one per doubled
    quote) or never (then it is text up to the next delimiter or line end): both readings must pass the
    limit. Field bounds are found with ``bytes.find``; nothing is copied but a closed quoted field past it.
    """
    d = delimiter.encode()
    n = len(buf)
    pos = 0
    index = 0
    while pos < n:
        start = pos
        if buf[pos] == 34:
            close = _closing_quote(buf, pos)
            if close < 0:
                quoted = n - pos - 1 - buf.count(b'""', pos + 1)
                text = _field_end(buf, pos, d) - pos
                return (index, min(quoted, text)) if min(quoted, text) > limit else None
            if close - pos - 1 > limit:
                size = len(buf[pos + 1: close].replace(b'""', b'"'))
                if size > limit:
                    return index, size
            pos = close + 1
        end = _field_end(buf, pos, d)
        if end > pos and end - start > limit:
            return index, end - start       # unquoted, or text after a closing quote: kept as written
        if end >= n or buf[end] == 10:
            return None
        pos = end + 1
        index += 1
    return None


def _field_end(buf: bytes, pos: int, delimiter: bytes) -> int:
    """Offset of the first delimiter or LF from ``pos`` (the end of ``buf`` without one)."""
    ends = [at for at in (buf.find(delimiter, pos), buf.find(b"\n", pos)) if at >= 0]
    return min(ends) if ends else len(buf)


def parse_slow(buf: bytes, *, delimiter: str, ncols: int, final: bool, max_records: int | None = None,
               max_quoted: int = 1 << 62) -> tuple[Parsed, int]:
    """Parse with :func:`parse_records` into a :class:`Parsed`; return it and the bytes consumed."""
    records, consumed = parse_records(buf, delimiter=delimiter, final=final, max_records=max_records,
                                      max_quoted=max_quoted)
    columns: list[list[str]] = [[] for _ in range(ncols)]
    lines: list[int] = []
    blanks: list[int] = []
    ragged: list[tuple[int, int, str | None]] = []
    trailing: list[int] = []
    stray: list[tuple[int, str]] = []
    for rec in records:
        if rec.fields is None:
            blanks.append(rec.line)
            continue
        row = len(lines)
        lines.append(rec.line)
        values = rec.fields
        for i in range(ncols):
            columns[i].append(values[i].decode("utf-8") if i < len(values) else "")
        if len(values) != ncols:
            extra = buf[rec.starts[ncols]: rec.end].decode("utf-8") if len(values) > ncols else None
            if extra == "" and len(values) == ncols + 1:
                trailing.append(row)
            else:
                ragged.append((row, len(values), extra))
        if rec.stray:
            stray.append((row, rec.stray))
    frame = pl.DataFrame({name: pl.Series(name, col, dtype=pl.String)
                          for name, col in zip(_columns(ncols), columns, strict=True)})
    return Parsed(frame=frame, lines=pl.Series("line", lines, dtype=pl.Int64), blanks=blanks,
                  ragged=ragged, trailing=trailing, stray=stray), consumed


def count_quotes(buf: bytes) -> int:
    """The number of quote bytes in ``buf``: numpy for a large buffer (bytes.count holds the interpreter
    lock and runs a plain loop: 5.2 ms for 8 MB, against 1.7 ms)."""
    if len(buf) < 1 << 16:
        return buf.count(b'"')
    import numpy as np

    return int(np.count_nonzero(np.frombuffer(buf, dtype=np.uint8) == 34))


def find_cut(buf: bytes, *, odd_before: bool = False) -> int:
    """End (exclusive) of the last line of ``buf`` after which the quote count is even, or 0.

    ``odd_before`` says the input before ``buf`` (from a record boundary) holds an odd number of quotes.
    A cut there ends a record when the quoting is regular; :func:`parse_fast` checks that.
    """
    last = buf.rfind(b"\n")
    if last < 0:
        return 0
    total = count_quotes(buf) + odd_before
    if not total:
        return last + 1
    after = buf.count(b'"', last)
    at = last
    for _ in range(_CUT_SEARCH_LINES):
        if (total - after) % 2 == 0:
            return at + 1
        prev = buf.rfind(b"\n", 0, at)
        if prev < 0:
            return 0
        after += buf.count(b'"', prev, at)
        at = prev
    return last + 1


def _line_patterns(delimiter: str, ncols: int) -> tuple[dict[tuple[bool, bool], str], str | None]:
    """Regular RFC 4180 shapes of one physical line, by (inside quotes at its start, at its end); and
    the shape of a one-line record of exactly ``ncols`` fields (None for very wide headers)."""
    d = f"\\x{ord(delimiter):02X}"
    inside = '(?:[^"]|"")*'
    fld = f'(?:"{inside}"|[^"\\r\\n{d}]*)'
    shapes = {
        (False, False): f"^{fld}(?:{d}{fld})*$",
        (False, True): f'^(?:{fld}{d})*"{inside}$',
        (True, False): f'^{inside}"(?:{d}{fld})*$',
        (True, True): f'^{inside}(?:"(?:{d}{fld})*{d}"{inside})?$',
    }
    exact = f"^{fld}(?:{d}{fld}){{{ncols - 1}}}$" if ncols <= _EXACT_MAX_COLUMNS else None
    return shapes, exact


def _absent_separator(piece: bytes) -> str | None:
    for sep in _SCAN_SEPARATORS:
        if sep.encode() not in piece:
            return sep
    return None


def _newline_of(piece: bytes) -> bytes | None:
    """The piece's line end (LF or CRLF), by its last line, or its first when the input ends without one;
    None without any."""
    if piece.endswith(b"\n"):
        return b"\r\n" if piece.endswith(b"\r\n") else b"\n"
    at = piece.find(b"\n")
    if at < 0:
        return None
    return b"\r\n" if at and piece[at - 1] == 13 else b"\n"


@dataclass(frozen=True, slots=True)
class _Lines:
    """What :func:`_regular_lines` proved about a piece."""

    newlines: int                               # LFs in the piece
    starts: npt.NDArray[np.intp] | None         # line offset of each record, when some value holds a LF
    raw_sizes: npt.NDArray[np.intp] | None      # each record's bytes, when asked and cgformat would write them


def _regular_lines(piece: bytes, frame: pl.DataFrame, *, delimiter: str, ncols: int, crlf: bool = False,
                   raw: bool = False) -> _Lines | None:
    """For a piece that ends with a LF (with ``crlf``: every record with CR LF), when the byte facts prove
    ``frame`` (read by polars, empty values as ``""``) is its exact parse: its line facts (with ``raw``, and
    when the piece is byte for byte what cgformat's writer writes for these records, each record's bytes).
    Else None.

    The proof, all vectorised over quote positions and byte counts (no write-back):

    * the quoting is regular RFC 4180: by its running parity each quote opens a field (it comes first in
      the piece or right after a delimiter or LF), closes one (it comes last or right before a delimiter
      or LF) or is half of a doubled quote inside a quoted field; every CR is inside quotes. Then the piece
      has exactly one RFC reading, and polars' is it for every record polars reads as complete;
    * no record lacks fields: polars refuses a record with too many, and fills a short one (or a blank
      line) with empty values, which the bytes then cannot add up to. A piece's bytes are the value bytes,
      plus the quote bytes less one per doubled quote, plus ``ncols - 1`` delimiters and a LF per record
      (and a CR before it, with ``crlf``: then every CR outside quotes must be right before a record's LF,
      and every record's LF must have one); a record with ``f`` fields has ``ncols - f`` delimiters fewer,
      never more.

    cgformat's writer quotes a value exactly when it holds a delimiter, quote, CR or LF (an empty value
    never, with two columns or more). In a regular piece every such value is quoted already, so the piece
    is the writer's bytes exactly when every quoted field holds one of them.
    """
    import numpy as np  # loaded by the first CSV read, not by every command

    size = len(piece)
    data = np.frombuffer(piece, dtype=np.uint8)
    quotes = np.flatnonzero(data == 34)
    nquotes = len(quotes)
    if nquotes % 2:
        return None
    d = ord(delimiter)
    doubled = 0
    pair = None
    if nquotes:
        opens, closes = quotes[0::2], quotes[1::2]
        before = data[np.maximum(opens - 1, 0)]
        after = data[np.minimum(closes + 1, size - 1)]
        at_start = opens == 0
        at_end = closes == size - 1
        if not (at_start | ((before == d) | (before == 10) | (before == 34)) & ~at_start).all():
            return None
        pair = (after == 34) & ~at_end
        ends_field = (after == d) | (after == (13 if crlf else 10))
        if not (at_end | ends_field & ~at_end | pair).all():
            return None
        doubled = int(np.count_nonzero(pair))
    outside_crs = None
    if b"\r" in piece:
        crs = np.flatnonzero(data == 13)
        outside_crs = crs[np.searchsorted(quotes, crs) % 2 == 0]   # an even number of quotes before them
        if len(outside_crs) and not crlf:
            return None
    n = frame.height
    values = sum(v or 0 for v in frame.select(pl.all().str.len_bytes().sum()).row(0))
    if not piece.endswith(b"\n") or size != values + nquotes - doubled + n * (ncols + crlf):
        return None
    line_ends = np.flatnonzero(data == 10)
    ends = line_ends
    starts = None
    if len(line_ends) != n:
        # line breaks inside quoted values (an odd number of quotes before them): a record starts on the
        # line after the line end of the record before
        structural = np.flatnonzero(np.searchsorted(quotes, line_ends) % 2 == 0)
        starts = np.concatenate(([0], structural[:-1] + 1))
        ends = line_ends[structural]
    if crlf and (outside_crs is None or len(outside_crs) != len(ends) or (outside_crs != ends - 1).any()):
        return None
    raw_sizes = None
    if raw and not crlf and n and (pair is None or _quoted_where_needed(data, quotes, pair, d)):
        raw_sizes = np.diff(ends, prepend=-1)
    return _Lines(newlines=len(line_ends), starts=starts, raw_sizes=raw_sizes)


def _quoted_where_needed(data: npt.NDArray[np.uint8], quotes: npt.NDArray[np.intp],
                         pair: npt.NDArray[np.bool_], delimiter: int) -> bool:
    """Whether every quoted field of a regular piece holds a delimiter, quote, CR or LF (``pair``: which
    odd-numbered quotes start a doubled quote)."""
    import numpy as np

    # the quotes that open and close fields: not halves of a doubled quote
    half = np.zeros(len(quotes), dtype=bool)
    half[1::2] = pair
    half[2::2] |= pair[: (len(quotes) - 1) // 2]
    bounds = quotes[~half]
    opens, closes = bounds[0::2], bounds[1::2]
    lengths = closes - opens - 1
    if not lengths.all():
        return False    # an empty quoted field: cgformat writes no quotes there
    # a field holding a doubled quote needs its quotes; any other needs a delimiter, CR or LF inside: look
    # at the bytes inside quotes only (gathered, one segment per field)
    holds_quote = np.searchsorted(quotes, closes) - np.searchsorted(quotes, opens) > 1
    firsts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    inner = data[np.repeat(opens + 1 - firsts, lengths) + np.arange(int(lengths.sum()))]
    special = (inner == delimiter) | (inner == 10) | (inner == 13)
    return bool((holds_quote | np.logical_or.reduceat(special, firsts)).all())


def parse_canonical(piece: bytes, *, delimiter: str, ncols: int, keep_raw: bool = False) -> Parsed | None:
    """Parse a piece with one polars read when the piece can be proved to be regular, whole-record CSV.

    A piece with LF or CRLF line ends whose quoting is regular and whose records are all complete (checked on
    quote positions and byte counts, see :func:`_regular_lines`) is taken as polars reads it: what Excel,
    polars, pandas and cgformat write, quoted where needed or everywhere. Any other piece gives None, and
    :func:`parse_fast` vouches for it line by line. With ``keep_raw``, an LF piece that is exactly what
    cgformat's CSV writer writes comes with each record's bytes.
    """
    if ncols < 2 or not piece or piece.startswith(UTF8_BOM):
        return None
    newline = _newline_of(piece)
    if newline is None:
        return None
    # polars drops an empty last field of a last record with no line end (``a,b,`` for two columns): end it
    text = piece if piece.endswith(b"\n") else piece + newline
    try:
        frame = pl.read_csv(text, has_header=False, separator=delimiter, quote_char='"',
                            schema=dict.fromkeys(_columns(ncols), pl.String), empty_string_is_null=False,
                            infer_schema=False, raise_if_empty=False)
    except pl.exceptions.PolarsError:
        return None
    lines = _regular_lines(text, frame, delimiter=delimiter, ncols=ncols, crlf=newline == b"\r\n",
                           raw=keep_raw and text is piece)
    if lines is None:
        return None
    offsets = (pl.int_range(0, frame.height, eager=True, dtype=pl.Int64) if lines.starts is None
               else pl.Series(lines.starts, dtype=pl.Int64))
    raw_sizes = None if lines.raw_sizes is None else pl.Series("bytes", lines.raw_sizes, dtype=pl.Int64)
    return Parsed(frame=frame, lines=offsets.alias("line"), newlines=lines.newlines - (text is not piece),
                  raw_sizes=raw_sizes)


def parse_fast(piece: bytes, *, delimiter: str, ncols: int, keep_raw: bool = False) -> Parsed | int:
    """Parse a piece of whole records with polars; or return the line offset of the first record the
    fast path cannot vouch for (irregular quoting, a quote still open at the end ...).

    ``piece`` must start at a record boundary; it ends at a line end or at the end of the input.

    How: polars reads the piece twice, once as physical lines (a separator byte absent from the piece,
    no quoting) and once as CSV. Quote counts per line give, by their running parity, the lines that start
    a record. Lines with quotes (or a CR outside quotes) must match a regular RFC 4180 shape, else the
    slow parser takes over from that record. Field counts are delimiters + 1 for lines without quotes,
    ``ncols`` for one-line records matching the exact shape, and otherwise delimiters minus those inside
    the parsed values + 1.
    """
    canonical = parse_canonical(piece, delimiter=delimiter, ncols=ncols, keep_raw=keep_raw)
    if canonical is not None:
        return canonical
    if piece.startswith(UTF8_BOM):
        return 0  # polars would drop a leading U+FEFF that belongs to a value
    sep = _absent_separator(piece)
    if sep is None:
        return 0
    lines = pl.read_csv(piece, has_header=False, separator=sep, quote_char=None, schema={"l": pl.String},
                        empty_string_is_null=False, infer_schema=False, raise_if_empty=False)["l"]
    n = lines.len()
    newlines = piece.count(b"\n")
    if n != newlines + (0 if piece.endswith(b"\n") else 1):
        return 0
    has_quotes = b'"' in piece
    has_cr = b"\r" in piece
    table = pl.DataFrame({"l": lines})
    if has_quotes:
        odd = (pl.col("q").cum_sum() % 2) == 1
        table = (table.with_columns(q=pl.col("l").str.count_matches('"', literal=True))
                 .with_columns(a=odd, b=odd ^ (pl.col("q") % 2 == 1)))   # inside quotes after / before
    else:
        table = table.with_columns(q=pl.lit(0, dtype=pl.UInt32), a=pl.lit(value=False), b=pl.lit(value=False))
    start = ~table["b"]
    single = bool(start.all())
    exact_rows: pl.Series | None = None     # records known to have exactly ncols fields
    if has_quotes or has_cr:
        # lines polars may read differently from the RFC: those with quotes, and those with a CR outside
        # quotes (polars drops a CR before a delimiter)
        need = pl.col("q") > 0
        if has_cr:
            need = need | (pl.col("l").str.contains("\r", literal=True) & ~pl.col("b"))
        checked = table.with_columns(i=pl.int_range(0, n, dtype=pl.Int64),
                                     r=start.cum_sum().cast(pl.Int64) - 1).filter(need)
        shapes, exact = _line_patterns(delimiter, ncols)
        bad: list[int] = []
        for (before, after), rx in shapes.items():
            group = checked.filter((pl.col("b") == before) & (pl.col("a") == after))
            if exact is not None and (before, after) == (False, False):
                fits = group.select(pl.col("l").str.contains(exact)).to_series()
                exact_rows = group["r"].filter(fits)
                group = group.filter(~fits)
            wrong = group.filter(~pl.col("l").str.contains(rx))["i"]
            if wrong.len():
                bad.append(int(wrong[0]))
        if has_quotes and bool(table["a"][-1]):
            bad.append(n - 1)  # a quote still open at the end
        if bad:
            first = min(bad)
            starts = start.arg_true()
            return int(starts.filter(starts <= first).max())  # type: ignore[arg-type]
    if single:
        rec = pl.DataFrame({"i": pl.int_range(0, n, eager=True, dtype=pl.Int64),
                            "nl": pl.repeat(1, n, eager=True, dtype=pl.Int64), "l": lines,
                            "q": table["q"] > 0})
    else:
        idx = start.arg_true().cast(pl.Int64)
        nl = pl.concat([idx.slice(1), pl.Series([n], dtype=pl.Int64)]) - idx
        rec = pl.DataFrame({"i": idx, "nl": nl, "l": lines.gather(idx),
                            "q": (nl > 1) | (table["q"].gather(idx) > 0)})
    names = _columns(ncols)
    frame = pl.read_csv(piece, has_header=False, separator=delimiter, quote_char='"',
                        schema=dict.fromkeys(names, pl.String), empty_string_is_null=False,
                        infer_schema=False, truncate_ragged_lines=True, missing_columns="insert",
                        extra_columns="ignore", raise_if_empty=False)
    if frame.height != rec.height:
        return 0
    # field counts: a one-line record without quotes has as many delimiters as its bytes less its
    # values' bytes; one matching the exact shape has ncols fields; any other record with quotes has
    # its delimiters less those inside its quoted values
    values = frame.select(pl.sum_horizontal(pl.col(c).str.len_bytes() for c in names)
                          .fill_null(0).cast(pl.Int64)).to_series()
    nfields = rec["l"].str.len_bytes().cast(pl.Int64) - values + 1
    if has_quotes:
        unsure = rec["q"]
        if exact_rows is not None and exact_rows.len():
            nfields = nfields.scatter(exact_rows, ncols)
            unsure = unsure.scatter(exact_rows, False)
        if unsure.any():
            record_of_line = start.cum_sum().cast(pl.Int64) - 1
            delimiters = (pl.DataFrame({"r": record_of_line, "l": lines})
                          .filter(unsure.gather(record_of_line))
                          .group_by("r", maintain_order=True)
                          .agg(pl.col("l").str.count_matches(delimiter, literal=True).sum().cast(pl.Int64))
                          ["l"])
            inside = (frame.filter(unsure)
                      .select(pl.sum_horizontal(pl.col(c).str.count_matches(delimiter, literal=True)
                                                for c in names).cast(pl.Int64)).to_series())
            nfields = nfields.scatter(unsure.arg_true(), delimiters - inside + 1)
    blank = (rec["nl"] == 1) & (rec["l"] == "")
    info = pl.DataFrame({"i": rec["i"], "nl": rec["nl"], "n": nfields, "blank": blank})
    if bool(blank.any()):
        frame = frame.filter(~blank)
        kept = info.filter(~blank)
        blanks = info.filter(blank)["i"].to_list()
    else:
        kept = info
        blanks = []
    frame = frame.fill_null("") if frame.null_count().sum_horizontal().item() else frame
    ragged: list[tuple[int, int, str | None]] = []
    trailing: list[int] = []
    misfits = kept.with_row_index("row").filter(pl.col("n") != ncols)
    if misfits.height:
        # one line ending with the delimiter, one field too many: an empty field after the last column (a
        # trailing delimiter), found without parsing each such line again
        ends = (rec["l"].str.ends_with(delimiter) | rec["l"].str.ends_with(delimiter + "\r")).alias("end")
        trail = misfits.join(pl.DataFrame({"i": rec["i"], "end": ends}), on="i", how="left", maintain_order="left") \
            .select((pl.col("n") == ncols + 1) & (pl.col("nl") == 1) & pl.col("end")).to_series()
        if trail.any():
            trailing = misfits["row"].filter(trail).cast(pl.Int64).to_list()
            misfits = misfits.filter(~trail)
        split_lines: list[bytes] | None = None
        for row, first_line, nl, nf in misfits.select("row", "i", "nl", "n").iter_rows():
            if nf < ncols:
                ragged.append((row, nf, None))
                continue
            if split_lines is None:
                split_lines = piece.split(b"\n")
            raw = b"\n".join(split_lines[first_line: first_line + nl])
            records, _ = parse_records(raw, delimiter=delimiter, final=True, max_records=1)
            got = records[0]
            assert got.fields is not None
            extra = raw[got.starts[ncols]: got.end].decode("utf-8") if len(got.fields) > ncols else None
            if extra == "" and len(got.fields) == ncols + 1:
                trailing.append(row)
            else:
                ragged.append((row, len(got.fields), extra))
        trailing.sort()
    return Parsed(frame=frame, lines=kept["i"].alias("line"), blanks=blanks, ragged=ragged, trailing=trailing,
                  newlines=newlines)


# ------------------------------------------------------------------------------------------- delimiter


def detect_delimiter(sample: bytes, *, final: bool) -> str:
    """The candidate delimiter giving the most consistent field counts over the sample's records.

    A candidate must split the header into at least two fields; ties go to the earlier candidate
    (comma first). With no candidate at all (a single-column file) the answer is a comma.
    """
    best: tuple[float, int, int] | None = None
    choice = ","
    for rank, cand in enumerate(DELIMITERS):
        if cand.encode() not in sample:
            continue
        records, _ = parse_records(sample, delimiter=cand, final=final, max_records=400)
        counts = [len(r.fields) for r in records if r.fields is not None]
        if not counts or counts[0] < 2:
            continue
        agree = sum(1 for c in counts if c == counts[0]) / len(counts)
        score = (round(agree, 2), counts[0], -rank)
        if best is None or score > best:
            best = score
            choice = cand
    return choice
