"""Private: the CSV reader's record scanning in Python, which accepts anything, leniently, and the cuts
between pieces of input.

Everything here works on UTF-8 bytes whose line ends are ``\\n`` or ``\\r\\n``. :func:`parse_records` /
:func:`parse_slow` walk the bytes: a quote inside an unquoted field is kept as text, a field with text after
its closing quote is kept exactly as written (quotes included), and a quote that is never closed is kept as
text too. :func:`find_cut` finds where a piece may end, :func:`open_record_field` a field over the limit in
a record not ended yet, :func:`detect_delimiter` the delimiter.

Positions are 0-based here (line offsets inside a piece); the reader turns them into 1-based lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

__all__ = ["DELIMITERS", "Parsed", "RawRecord", "columns_of", "count_quotes", "detect_delimiter", "find_cut",
           "open_record_field", "parse_records", "parse_slow"]

DELIMITERS = (",", ";", "\t", "|")
_CUT_SEARCH_LINES = 1000


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


def columns_of(ncols: int) -> list[str]:
    """The names of a parsed frame's columns: c0, c1, ..."""
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
                          for name, col in zip(columns_of(ncols), columns, strict=True)})
    return Parsed(frame=frame, lines=pl.Series("line", lines, dtype=pl.Int64), blanks=blanks,
                  ragged=ragged, trailing=trailing, stray=stray), consumed


def count_quotes(buf: bytes) -> int:
    """The number of quote bytes in ``buf``."""
    return buf.count(b'"')


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
