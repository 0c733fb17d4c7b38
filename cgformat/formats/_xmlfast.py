"""A vectorised reader for uniform record XML; anything else is left to lxml.

lxml's ``iterparse`` makes a Python object of every element, and the records' fields are then gathered
by a Python loop (benchmark case ``xml-csv``). Most record files are uniform: every record has the same
tags in the same order, as cgformat and most exporters write them. For those, this module tokenises with
polars' CSV reader (separator ``<``, line end ``>``: each row is then *the text before a tag* and *the
tag*), checks that the tags repeat with the period of the first record, and takes each field's column
with ``gather_every``.

It accepts only this subset of XML::

    [BOM] [<?xml version="1.0" [encoding="utf-8"] [standalone=".."]?>] <root>
      (<rec> (<F>text</F> | <F/>)+ </rec>)*      every record with the first record's exact tags
    </root>

with whitespace between tags and nothing else: no attributes, comments, processing instructions, CDATA,
DOCTYPE, namespace prefixes; UTF-8; no raw ``>`` in text (writers escape it). Inside the subset the
result is exactly lxml's. At anything else the scan raises :class:`Bail` (before yielding the chunk
concerned) and the caller reads with lxml, which explains errors with their lines.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import polars as pl

from ._xmlnames import NAME_RE

__all__ = ["Bail", "Chunk", "Prolog", "Shape", "chunks", "read_prolog"]

_PROLOG = re.compile(
    rb"(?:\xef\xbb\xbf)?"
    rb"(?:<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:\"1\.0\"|'1\.0')"
    rb"(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:\"([A-Za-z0-9._-]+)\"|'([A-Za-z0-9._-]+)'))?"
    rb"(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:\"(?:yes|no)\"|'(?:yes|no)'))?"
    rb"[ \t\r\n]*\?>)?"
    rb"[ \t\r\n]*<([^ \t\r\n<>/!?=\"':]+)[ \t\r\n]*>")
_UTF8 = {b"utf-8", b"utf8"}
_MAX_PROLOG = 1 << 16
# Text XML 1.0 does not allow (after line-end normalisation there is no \r left).
_BAD_TEXT = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]|\]\]>"
_REFS = r"&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);"
_REF_RE = re.compile(_REFS)
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


class Bail(Exception):
    """The document leaves the fast subset: read it with lxml instead."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Prolog:
    """Where the body starts: the root element's name, the byte offset after its start tag and its line."""

    root: str
    offset: int
    line: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Shape:
    """The tags of the first record: ``markup`` as written (without ``<``/``>``) and its field names.

    ``value_at[i]`` is the position in ``markup`` whose preceding text is field ``i``'s value, or -1 for a
    field written as an empty element (``<F/>``).
    """

    markup: tuple[str, ...]
    names: tuple[str, ...]
    value_at: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Chunk:
    """Records of one chunk: ``frame`` (one String column per shape name, or none) and their lines."""

    frame: pl.DataFrame | None
    lines: pl.Series | None
    count: int


def read_prolog(head: bytes) -> Prolog:
    """Parse the XML declaration and the root start tag at the start of ``head`` (or :class:`Bail`)."""
    match = _PROLOG.match(head[:_MAX_PROLOG])
    if match is None:
        raise Bail
    encoding = match.group(1) or match.group(2)
    if encoding is not None and encoding.lower() not in _UTF8:
        raise Bail
    try:
        root = match.group(3).decode("utf-8")
    except UnicodeDecodeError:
        raise Bail from None
    if NAME_RE.fullmatch(root) is None:
        raise Bail
    consumed = head[:match.end()]
    line = 1 + consumed.count(b"\n") + consumed.count(b"\r") - consumed.count(b"\r\n")
    return Prolog(root=root, offset=match.end(), line=line)


def _shape(markup: pl.Series, rtag: str) -> Shape:
    """The first record's tags (or :class:`Bail` when they are not ``<rec>`` + plain fields + ``</rec>``)."""
    marks: list[str] = []
    for mark in markup:
        marks.append(mark)
        if mark.startswith("/") and mark[1:].rstrip(" \t\n") == rtag:
            break
        if len(marks) > 100_000:
            raise Bail
    else:
        raise Bail
    if marks[0].rstrip(" \t\n") != rtag or len(marks) < 3:
        raise Bail
    names: list[str] = []
    value_at: list[int] = []
    i = 1
    while i < len(marks) - 1:
        mark = marks[i]
        if mark.endswith("/"):
            name = mark[:-1].rstrip(" \t\n")
            value_at.append(-1)
            i += 1
        else:
            name = mark.rstrip(" \t\n")
            if i + 1 >= len(marks) - 1 or marks[i + 1][1:].rstrip(" \t\n") != name \
                    or not marks[i + 1].startswith("/") or marks[i + 1].endswith("/"):
                raise Bail
            value_at.append(i + 1)
            i += 2
        if NAME_RE.fullmatch(name) is None or name == rtag or name in names:
            raise Bail
        names.append(name)
    if any("\n" in m or "/" in m.strip("/") for m in marks):
        raise Bail
    return Shape(markup=tuple(marks), names=tuple(names), value_at=tuple(value_at))


def _decode_refs(value: str) -> str:
    def one(match: re.Match[str]) -> str:
        ref = match.group(0)[1:-1]
        if not ref.startswith("#"):
            return _NAMED[ref]
        code = int(ref[2:], 16) if ref[1] == "x" else int(ref[1:])
        if not (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
                or 0x10000 <= code <= 0x10FFFF):
            raise Bail
        return chr(code)

    return _REF_RE.sub(one, value)


def _unescape(value: pl.Series) -> pl.Series:
    has_amp = value.str.contains("&", literal=True)
    if not has_amp.any():
        return value
    amp = value.filter(has_amp)
    if amp.str.replace_all(_REFS, "").str.contains("&", literal=True).any():
        raise Bail
    named = value.str.replace_many(["&lt;", "&gt;", "&quot;", "&apos;", "&amp;"], ["<", ">", '"', "'", "&"])
    out = pl.select(pl.when(has_amp).then(named).otherwise(value)).to_series()
    numeric = value.str.contains("&#", literal=True)
    if numeric.any():
        index = numeric.arg_true()
        decoded = pl.Series([_decode_refs(v) for v in value.gather(index)], dtype=pl.String)
        out = out.scatter(index, decoded)
    return out.alias(value.name)


def _count_bytes(data: bytes, *values: int) -> list[int]:
    """How often each byte value occurs in ``data`` (numpy: one pass per value, at C speed)."""
    import numpy as np

    array = np.frombuffer(data, dtype=np.uint8)
    return [int(np.count_nonzero(array == value)) for value in values]


def _tokens(chunk: bytes, *, markup_only: bool = False) -> pl.DataFrame:
    # Equal counts and one row per ">" make the split exact: no raw ">" in text, no row dropped. Comments,
    # CDATA and processing instructions need no test of their own: their tags never match the shape.
    closes, opens = _count_bytes(chunk, b">"[0], b"<"[0])
    if opens != closes:
        raise Bail
    try:
        frame = pl.read_csv(io.BytesIO(chunk), separator="<", eol_char=">", quote_char=None, has_header=False,
                            infer_schema=False, encoding="utf8", raise_if_empty=False,
                            columns=[1] if markup_only else [0, 1])
    except Exception:  # noqa: BLE001 - any tokenising trouble means: let lxml read it and explain
        raise Bail from None
    frame.columns = ["markup"] if markup_only else ["text", "markup"]
    if frame.height != closes or frame["markup"].null_count():
        raise Bail
    return frame


def _scan(chunk: bytes, *, shape: Shape | None, rtag: str, line: int,
          values: bool) -> tuple[Chunk, Shape, int]:
    """One chunk of whole records. Without ``values`` only the tags are checked (the text is read,
    and checked, by the second pass; a problem there makes it hand over to lxml)."""
    toks = _tokens(chunk, markup_only=not values)
    markup = toks["markup"]
    if shape is None:
        shape = _shape(markup, rtag)
    period = len(shape.markup)
    if toks.height % period:
        raise Bail
    count = toks.height // period
    expected = pl.Series(shape.markup, dtype=pl.String).gather(pl.int_range(0, toks.height, eager=True) % period)
    if not (markup == expected).all():
        raise Bail
    if not values:
        # the shape has no line feed in a tag, so every line feed is in text
        return Chunk(frame=None, lines=None, count=count), shape, line + _count_bytes(chunk, 10)[0]
    text = toks["text"]
    fields = set(shape.value_at)
    for position in range(period):
        if position in fields:
            continue
        between = text.gather_every(period, position)
        if between.null_count() < count and between.str.contains(r"[^ \t\n]").any():
            raise Bail
    columns: dict[str, pl.Series] = {}
    for name, at in zip(shape.names, shape.value_at, strict=True):
        if at < 0:
            columns[name] = pl.Series(name, [""] * count, dtype=pl.String)
            continue
        value = text.gather_every(period, at).fill_null("").alias(name)
        if value.str.contains(_BAD_TEXT).any():
            raise Bail
        columns[name] = _unescape(value)
    running = line + text.str.count_matches("\n", literal=True).fill_null(0).cast(pl.Int64).cum_sum()
    lines = running.gather_every(period, 0).alias("line")
    end = int(running[-1]) if running.len() else line
    return Chunk(frame=pl.DataFrame(columns), lines=lines, count=count), shape, end


def _normalise(data: bytes) -> bytes:
    # XML end-of-line handling: \r\n and a lone \r become \n before anything else is looked at.
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data


def chunks(stream: BinaryIO, *, prolog: Prolog, rtag: str, values: bool, shape: Shape | None = None,
           chunk_bytes: int = 8 << 20, max_record_bytes: int = 64 << 20) -> Iterator[tuple[Chunk, Shape]]:
    """Scan the body after the prolog in chunks of whole records (or raise :class:`Bail`).

    ``stream`` is positioned at the document's first byte. ``values`` False only checks the structure
    and counts records and lines (the first pass); ``shape`` is the first pass's, if known.
    """
    data = stream.read(prolog.offset)
    if len(data) != prolog.offset:
        raise Bail
    needle = b"</" + rtag.encode("utf-8")
    closing = re.compile(re.escape(needle) + b"[ \t\r\n]*>")
    tail_re = re.compile(b"[ \t\n]*</" + re.escape(prolog.root.encode("utf-8")) + b"[ \t\n]*>[ \t\n]*")
    carry = b""
    line = prolog.line
    eof = False
    while not eof:
        block = stream.read(chunk_bytes)
        eof = not block
        carry += block
        cut = _last_close(carry, needle, closing)
        if cut < 0:
            if len(carry) > max_record_bytes:
                raise Bail
            continue
        body = _normalise(carry[:cut])
        carry = carry[cut:]
        chunk, shape, line = _scan(body, shape=shape, rtag=rtag, line=line, values=values)
        yield chunk, shape
    if tail_re.fullmatch(_normalise(carry)) is None:
        raise Bail


def _last_close(data: bytes, needle: bytes, closing: re.Pattern[bytes]) -> int:
    end = len(data)
    while True:
        at = data.rfind(needle, 0, end)
        if at < 0:
            return -1
        match = closing.match(data, at)
        if match is not None:
            return match.end()
        end = at
