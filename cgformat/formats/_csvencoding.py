"""Private: the CSV reader's encodings. One pass over the bytes chooses how to decode them (:func:`sniff`), and
:func:`text_chunks` then gives the input as UTF-8 bytes with LF or CRLF line ends (CR-only input translated).

A file that is not UTF-8 and given no ``--encoding`` is read as cp1252 (latin-1 when it holds a byte cp1252
leaves undefined), a guess: where that guess would make improbable text (three letters beyond ASCII in a
row, what Greek or Cyrillic bytes look like in cp1252), the file is refused instead, naming the line.
A file that is UTF-8 but for some lines is read line by line (:func:`decode_mixed`).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO

import polars as pl

from .._mojibake import AMBIGUOUS, decode_line
from ..errors import EncodingError, ReadError, UsageError

__all__ = ["MIXED_LISTED", "UTF8_BOM", "CsvEncodingError", "MixedLine", "Sniff", "decode_mixed", "sniff",
           "text_chunks"]

UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# bytes cp1252 leaves undefined: a file holding one is read as latin-1
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
# C0 control bytes no text file in a legacy encoding holds (tab, LF, VT, FF, CR and DOS EOF allowed)
_BINARY_CONTROLS = bytes([*range(0x09), *range(0x0E, 0x1A), *range(0x1B, 0x20)])
_TO_NUL = bytes.maketrans(_BINARY_CONTROLS, b"\x00" * len(_BINARY_CONTROLS))


class CsvEncodingError(EncodingError):
    """Bytes that cannot be decoded; ``offset`` is the 0-based byte offset, ``line`` the 1-based line."""

    def __init__(self, message: str, *, offset: int, line: int) -> None:
        super().__init__(message, options=("encoding",))   # every message says to give encoding=
        self.offset = offset
        self.line = line


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
                f"give the right encoding= or re-save the file as UTF-8", offset=offset, line=line) from None
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
    # than the scan itself
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
                f"encoding= (for example cp1252)", offset=offset, line=line)
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
                f"without a byte order mark; re-save it as UTF-8 (or give encoding=utf-16-le / utf-16-be)",
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
            f"{offset} (line {line}): not a text file, or an encoding cgformat cannot tell; give encoding=",
            offset=offset, line=line)
    if improbable is not None:
        # the fallback is a guess: refused where it would garble text rather than written as mojibake
        offset, line = where(improbable + skip)
        stream.seek(start + offset)
        shown = stream.read(24).split(sep)[0].decode("cp1252", errors="replace")
        raise CsvEncodingError(
            f"{source}: not UTF-8, and line {line} (byte offset {offset}: {shown!r}) is not cp1252 text "
            f"either: Greek or Cyrillic, for example; give its encoding= (iso-8859-7, cp1251 ...) or re-save "
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
