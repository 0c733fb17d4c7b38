"""Private: UTF-8 read as cp1252 (mojibake), found and undone only where it is certain.

Two places need the same notion of certainty:

* the CSV reader, decoding a line that is not UTF-8 in a file that otherwise is: the line is cp1252 (latin-1
  when it holds a byte cp1252 leaves undefined), except the byte sequences that are certainly UTF-8;
* ``cgformat fix``, repairing values that hold UTF-8 already decoded as cp1252 upstream (``MÃ¼ller``).

A UTF-8 sequence is *certainly* UTF-8 when, read as cp1252, it could not be ordinary text: two or more
multi-byte sequences in a row (``Ð¿Ñ€``, ``æ—¥æœ¬``: a word of Cyrillic or Japanese), or alone a lead
byte ``Â`` to ``Å`` and a continuation (the letters of U+0080-U+017F: ``Ã©``, ``Å‚``), ``â€`` to ``â†``
and a continuation (punctuation, currency and letterlike symbols: ``â€™``, ``â‚¬``), or ``ðŸ`` and two
continuations (emoji); but a capital ``Â`` to ``Å`` before a quote, a dash or other punctuation
(``IRMÃ”``, ``Å’s``) only inside a word (``ZoÃ«``, ``MÃ–LLER``). Any other sequence alone is left as
cp1252: ``É»`` is an upper-case letter before a closing guillemet as often as it is ``ɻ``, and ``é’’`` a
letter before two closing quotes.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["AMBIGUOUS", "SIGNATURE", "decode_line", "garbled", "repair"]

# cp1252 as Windows and the WHATWG encoding standard read it: its five undefined bytes (81 8D 8F 90 9D) as the
# C1 control of the same number, so that every byte has a character and every such character one byte
_TABLE = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256))
# and back: each of those characters to its byte, and the C1 controls too (UTF-8 read as latin-1)
_ENCODING_MAP = {**{0x80 + i: 0x80 + i for i in range(32)}, **{ord(c): b for b, c in enumerate(_TABLE)}}
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"


def _chars(low: int, high: int) -> str:
    """A regular-expression class of what the bytes ``low``..``high`` look like read as cp1252 or latin-1."""
    found = {_TABLE[b] for b in range(low, high + 1)} | {chr(b) for b in range(low, high + 1)}
    return "[" + "".join(re.escape(c) for c in sorted(found)) + "]"


# UTF-8 sequences certainly UTF-8 (see the module's docstring): two or more in a row; alone, a lead byte C2-C5
# (U+0080-U+017F), E2 80-86 (punctuation, currency, letterlike symbols: U+2000-U+21BF) or F0 9F (emoji)
_B2, _B3, _B4 = rb"[\xc2-\xdf][\x80-\xbf]", rb"[\xe0-\xef][\x80-\xbf]{2}", rb"[\xf0-\xf4][\x80-\xbf]{3}"
_CERTAIN_BYTES = re.compile(rb"(?:" + _B2 + rb"|" + _B3 + rb"|" + _B4 + rb"){2,}|[\xc2-\xc5][\x80-\xbf]"
                            rb"|\xe2[\x80-\x86][\x80-\xbf]|\xf0\x9f[\x80-\xbf]{2}")
# a lone sequence whose continuation reads as punctuation that may follow a word (quotes ‹ ‘ ’ “ ” › « », which
# close a quotation in one language or another, dashes – — and … •; not ‚ „, which only open one, nor the
# no-break space: Ã and a no-break space is à far more often) is UTF-8 for certain only inside a word: after a
# lower-case letter (ZoÃ« for Zoë) or before two letters (MÃ–LLER for MÖLLER); a capital before such a mark
# (IRMÃ”, Å’s) is ordinary text
_PUNCTUATION = b"\x85\x8b\x91\x92\x93\x94\x95\x96\x97\x9b\xab\xbb"
AMBIGUOUS = "".join(chr(((lead & 0x1F) << 6) | (cont & 0x3F)) for lead in range(0xC2, 0xC6) for cont in _PUNCTUATION)
"""The characters whose UTF-8 sequence, alone, reads in cp1252 as a capital letter before a punctuation mark."""
_C = _chars(0x80, 0xBF)
SIGNATURE = (f"(?:{_chars(0xC2, 0xDF)}{_C}|{_chars(0xE0, 0xEF)}{_C}{{2}}|{_chars(0xF0, 0xF4)}{_C}{{3}}){{2,}}"
             f"|{_chars(0xC2, 0xC5)}{_C}|\u00e2{_chars(0x80, 0x86)}{_C}|\u00f0{_chars(0x9F, 0x9F)}{_C}{{2}}")
"""A regular expression (Python and polars alike) for text that is certainly UTF-8 read as cp1252 (or latin-1):
the same sequences as above, as those encodings show them."""
_SIGNATURE_RE = re.compile(SIGNATURE)

# a run of characters that cp1252 (or latin-1) writes as one byte each, outside ASCII
_HIGH_RUN = re.compile("[\u0080-\u00ff" + "".join(sorted({c for c in _TABLE[0x80:] if ord(c) > 0xFF})) + "]+")
_C1 = re.compile("[\u0080-\u009f]")


def _legacy(data: bytes) -> tuple[str, str]:
    """Bytes as cp1252, or as latin-1 when they hold a byte cp1252 leaves undefined; (text, encoding)."""
    if any(b in data for b in _CP1252_UNDEFINED):
        return data.decode("latin-1"), "latin-1"
    return data.decode("cp1252"), "cp1252"


def decode_line(line: bytes) -> tuple[str, str]:
    """A line that is not UTF-8: (its text, the likely encoding of its other bytes, cp1252 or latin-1).

    The sequences that are certainly UTF-8 are read as UTF-8, the rest as cp1252 (latin-1 if the line holds
    a byte cp1252 leaves undefined).
    """
    quick = line.decode("utf-8", errors="replace")
    if len(quick) == len(line):            # no valid multi-byte sequence at all: one encoding throughout
        return _legacy(line)
    pieces: list[bytes | str] = []
    at = 0
    for found in _CERTAIN_BYTES.finditer(line):
        try:
            text = found.group().decode("utf-8")
        except UnicodeDecodeError:
            continue
        if _C1.search(text) or (len(text) == 1 and text in AMBIGUOUS
                                and not _in_word(line[found.start() - 1: found.start()].decode("latin-1"),
                                                 line[found.end():found.end() + 2].decode("latin-1"))):
            continue
        pieces.append(line[at:found.start()])
        pieces.append(text)
        at = found.end()
    pieces.append(line[at:])
    rest = b"".join(p for p in pieces if isinstance(p, bytes))
    _, encoding = _legacy(rest)
    return "".join(p if isinstance(p, str) else p.decode(encoding) for p in pieces), encoding


def _suspect(text: str) -> int:
    """How many characters of ``text`` look like UTF-8 read as cp1252."""
    return sum(len(m) for m in _SIGNATURE_RE.findall(text))


def _in_word(before: str, after: str) -> bool:
    """Whether a character between ``before`` (one character or none) and ``after`` (two or fewer) is inside
    a word: after a lower-case letter, or before two letters."""
    return (before.isascii() and before.islower()) or (len(after) == 2 and after.isascii() and after.isalpha())


def _repair_run(run: str, before: str, after: str) -> str:
    """One run of cp1252 characters (between the character ``before`` it and the two ``after`` it), undone
    when it is certainly UTF-8 read as cp1252."""
    if not _SIGNATURE_RE.search(run):
        return run
    try:
        text = codecs.charmap_encode(run, "strict", _ENCODING_MAP)[0].decode("utf-8")
    except UnicodeError:
        return run
    if _C1.search(text) or _suspect(text) >= _suspect(run):
        return run
    if len(text) == 1 and text in AMBIGUOUS and not _in_word(before, after):
        return run
    return text


def repair(value: str) -> str:
    """``value`` with each run of certain mojibake decoded back (``MÃ¼ller`` -> ``Müller``), repeatedly for
    text garbled twice; any other text, ``São`` and a lone ``Ã`` included, is left as it is."""
    while True:
        fixed = _HIGH_RUN.sub(lambda m: _repair_run(m.group(), m.string[max(0, m.start() - 1):m.start()],
                                                    m.string[m.end():m.end() + 2]), value)
        if fixed == value:
            return value
        value = fixed


def garbled(value: str) -> bool:
    """Whether :func:`repair` changes ``value``: it holds mojibake that is certain (what validate reports and
    fix repairs, by this one definition)."""
    return repair(value) != value
