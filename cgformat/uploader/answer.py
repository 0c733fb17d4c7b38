"""CG's answers: the ``{"Data": ...}`` / ``{"Error": {"Code", "Message"}}`` envelope, in JSON or XML, read
from a response into an :class:`Answer` that says whether it proves success."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from lxml import etree

from ._exchange import Exchanged

__all__ = ["Answer", "int_or_none", "parse_answer", "retry_after_seconds"]

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """CG's answer: HTTP status, and the envelope's ``Data`` or its ``Error`` code and message.

    ``error`` is set when the body says failure, or says nothing readable: an HTTP 200 proves nothing.
    ``envelope`` is ``data`` or ``error`` when the body is CG's envelope, ``None`` when it is not.
    """

    status: int
    data: Any = None
    error: bool = False
    code: int | None = None
    message: str | None = None
    retry_after: float | None = None
    envelope: str | None = None

    @property
    def failed(self) -> bool:
        """True when the status or the body says failure."""
        return self.error or self.status >= 400

    @property
    def proof(self) -> bool:
        """True when the answer proves success: HTTP 200 with CG's ``Data`` envelope, not ``Data: false``."""
        return (self.status == 200 and self.envelope == "data" and not self.error
                and self.data is not False and self.data != "false")

    def to_dict(self) -> dict[str, Any]:
        """The answer as the journal keeps it (a ``Data`` too large or deep to keep is described, not kept)."""
        return {"status": self.status, "data": _keepable(self.data), "code": self.code, "message": self.message}


def _keepable(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) < 2 ** 63:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, str) and len(value) <= 200:
        return value
    return f"({type(value).__name__})"


def _xml_value(elem: etree._Element) -> Any:
    children = list(elem)
    if not children:
        return elem.text or ""
    if all(child.tag == "item" for child in children):
        return [_xml_value(child) for child in children]
    return {str(child.tag): _xml_value(child) for child in children}


def int_or_none(value: Any) -> int | None:
    """An integer from CG's value (a string, an int, a whole float), else ``None``: never an overflow."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, float):
            return int(value) if math.isfinite(value) and value.is_integer() else None
        return int(str(value).strip())
    except (TypeError, ValueError, OverflowError):
        return None


def retry_after_seconds(value: str | None) -> float | None:
    """The wait a Retry-After header asks for (seconds or an HTTP date), ``None`` when absent or unreadable."""
    if value is None:
        return None
    try:
        seconds = float(value)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def _message_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value[:500] or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int_or_none(value) if int_or_none(value) is not None else "?")
    return None


def parse_answer(response: httpx.Response | Exchanged) -> Answer:
    """Read CG's envelope from a response, JSON or XML (told apart by the body's first byte); never raises."""
    status = response.status_code if isinstance(response, httpx.Response) else response.status
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    if isinstance(response, httpx.Response):
        raw: bytes | None = response.content
        problem = None
    else:
        raw, problem = response.body, response.problem
    if raw is None:
        return Answer(status=status, error=True, retry_after=retry_after,
                      message=f"unreadable answer (HTTP {status}): {problem}")
    body = raw.strip()
    if not body:
        return Answer(status=status, error=status != 204, retry_after=retry_after,
                      message=None if status == 204 else f"empty answer (HTTP {status})")
    doc: Any
    try:
        if body.startswith(b"<"):
            root = etree.fromstring(body, parser=_XML_PARSER)
            doc = {str(root.tag): _xml_value(root)}
        else:
            doc = json.loads(body)
    except (ValueError, etree.XMLSyntaxError, RecursionError, TypeError):
        return Answer(status=status, error=True, retry_after=retry_after,
                      message=f"unreadable answer (HTTP {status}, {len(body)} bytes)")
    if isinstance(doc, dict) and isinstance(doc.get("Error"), dict):
        err = doc["Error"]
        return Answer(status=status, error=True, code=int_or_none(err.get("Code")), envelope="error",
                      message=_message_text(err.get("Message")), retry_after=retry_after)
    if isinstance(doc, dict) and "Data" in doc:
        return Answer(status=status, data=doc["Data"], retry_after=retry_after, envelope="data")
    return Answer(status=status, error=True, retry_after=retry_after,
                  message=f"answer without a Data or Error envelope (HTTP {status})")
