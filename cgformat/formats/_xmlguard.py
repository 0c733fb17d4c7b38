"""The hardened lxml parser: its settings, entities refused before it runs, its errors as cgformat's."""

from __future__ import annotations

import re
from typing import Any, BinaryIO

from lxml import etree

from ..errors import LimitExceeded, ReadError

__all__ = ["DOCTYPE_LIMIT", "LXML_TEXT_LIMIT", "PARSER_OPTIONS", "refuse_entities", "syntax_error"]

LXML_TEXT_LIMIT = 10_000_000
"""lxml refuses a text node longer than this unless its huge-tree mode is on (see ``ReadOptions``)."""


def syntax_error(source: str, error: etree.XMLSyntaxError) -> ReadError:
    """lxml's syntax error as cgformat's: a one-line :class:`ReadError` (or :class:`LimitExceeded`) with its line."""
    line, column = error.position if error.position else (error.lineno, error.offset)
    message = error.msg or str(error)
    if "Text node too long" in message or "huge text node" in message:
        return LimitExceeded(f"{source}: line {line}: a text longer than {LXML_TEXT_LIMIT:,} bytes, over the limit "
                             f"max_field_bytes=; raise it above {LXML_TEXT_LIMIT:,} to read it anyway",
                             options=("max_field_bytes",))
    if "Excessive depth" in message:
        return ReadError(f"{source}: line {line}, column {column}: elements nested more than 256 levels deep; "
                         f"a record is <record><Field>text</Field>...</record>")
    return ReadError(f"{source}: not well-formed XML at line {line}, column {column}: {message}")


_PROLOG_TOKEN = re.compile(rb"<!--.*?-->|<\?.*?\?>|<!DOCTYPE|<[^!?]", re.S)
_DOCTYPE_TOKEN = re.compile(rb'"[^"]*"|\'[^\']*\'|<!--.*?-->|<\?.*?\?>|<!ENTITY|\]\s*>|\[|>', re.S)
DOCTYPE_LIMIT = 1 << 20
"""The most bytes of prolog (declaration, comments, DOCTYPE) read to decide on entities before parsing."""


def _ascii_view(head: bytes) -> bytes:
    """``head`` as ASCII-compatible bytes: UTF-16 (by its BOM or its ``<`` and NUL pattern) decoded first."""
    for marks, codec in (((b"\xff\xfe", b"<\x00"), "utf-16-le"), ((b"\xfe\xff", b"\x00<"), "utf-16-be")):
        if head.startswith(marks):
            return head.decode(codec, errors="replace").encode("utf-8")
    return head


def refuse_entities(stream: BinaryIO, *, start: int, source: str) -> None:
    """Raise :class:`ReadError` when the prolog holds a DOCTYPE that declares entities.

    Decided on the bytes, before any parser sees them, so the answer and its message do not depend on the
    installed libxml2 (whose own amplification limits vary by release). Quoted literals, comments and
    processing instructions are skipped, so an ``<!ENTITY`` cannot hide behind them; a DOCTYPE still open
    after :data:`DOCTYPE_LIMIT` bytes is refused too.
    """
    stream.seek(start)
    head = _ascii_view(stream.read(DOCTYPE_LIMIT + 1))
    stream.seek(start)
    refusal = (f"{source}: the DOCTYPE declares entities; cgformat never expands entities (they can read "
               f"local files or explode in size): remove the DOCTYPE")
    found = None
    for match in _PROLOG_TOKEN.finditer(head):
        if match.group() == b"<!DOCTYPE":
            found = match
            break
        if not match.group().startswith((b"<!--", b"<?")):
            return  # the root element starts: no DOCTYPE
    if found is None:
        return
    in_subset = False
    for match in _DOCTYPE_TOKEN.finditer(head, found.end()):
        token = match.group()
        if token == b"<!ENTITY":
            raise ReadError(refusal)
        if token == b"[":
            in_subset = True
        elif token.startswith(b"]") or (token == b">" and not in_subset):
            return  # the DOCTYPE ends
    if len(head) > DOCTYPE_LIMIT:
        raise ReadError(f"{source}: the DOCTYPE runs past its first {DOCTYPE_LIMIT:,} bytes; an export needs "
                        f"no DOCTYPE: remove it")


PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False,
    "remove_comments": True, "remove_pis": True,
}
