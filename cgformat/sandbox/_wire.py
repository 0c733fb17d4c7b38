"""The sandbox's side of CG's wire format: the routes, CG's codes, the JSON and XML envelopes of an answer,
and the multipart form a file arrives in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any
from xml.sax.saxutils import escape

CODE_BAD_PARAMETER = 300000        # CG: 300000-300004 are bad parameters; which is which is the sandbox's
CODE_BAD_ID = 300001
CODE_BAD_DATE_FROM = 300002
CODE_BAD_DATE_TO = 300003
CODE_BAD_PAGING = 300004
CODE_FILE_TOO_LARGE = 400301       # sandbox: CG documents no code for these three
CODE_TOO_MANY_RECORDS = 400302
CODE_TOO_SOON = 400429

FILE_TYPES = ("transactional", "contact", "historical", "anonymous")
ROUTE = re.compile(r"^/v4\.1/(?:file/(?P<type>[a-z]+)|company/(?P<revenue>revenue_file_automate)|(?P<delete>file))"
                   r"\.(?P<fmt>json|xml)$")
MAX_BODY = 64 * 1024 * 1024


class Reply(Exception):
    """Answer the request with this envelope (raised deep inside a handler)."""

    def __init__(self, status: int, *, code: int | None = None, message: str = "", data: Any = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data
        self.headers = dict(headers or {})


def to_xml(tag: str, value: Any) -> str:
    if isinstance(value, dict):
        return f"<{tag}>" + "".join(to_xml(str(k), v) for k, v in value.items()) + f"</{tag}>"
    if isinstance(value, list):
        return f"<{tag}>" + "".join(to_xml("item", v) for v in value) + f"</{tag}>"
    if isinstance(value, bool):
        return f"<{tag}>{'true' if value else 'false'}</{tag}>"
    return f"<{tag}>{escape('' if value is None else str(value))}</{tag}>"


def multipart_file(content_type: str, body: bytes) -> tuple[str, bytes] | None:
    """The (file name, bytes) of the form field ``file`` in a multipart/form-data body, exactly as sent."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/form-data") or m is None:
        return None
    delimiter = b"--" + m.group(1).encode("latin-1")
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, rest = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers = head.decode("utf-8", "replace")
        disposition = re.search(r'(?im)^content-disposition:\s*form-data(.*)$', headers)
        if disposition is None or not re.search(r';\s*name="?file"?(;|\s*$)', disposition.group(1)):
            continue
        name = re.search(r';\s*filename="([^"]*)"', disposition.group(1))
        content = rest[:-2] if rest.endswith(b"\r\n") else rest
        return (name.group(1) if name else "upload"), content
    return None


@dataclass(slots=True, kw_only=True)
class Request:
    """A request as the endpoints see it: query parameters (the last of each), headers, body."""

    query: dict[str, str]
    headers: Message[str, str]
    body: bytes
