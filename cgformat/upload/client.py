"""A client for CustomerGauge's File API (v4.1) over an injected :class:`httpx.Client`.

It knows CG's hosts, both authentication schemes, the ``{"Data": ...}`` / ``{"Error": ...}`` envelope in
JSON and XML, and which failures are worth retrying. It sends bytes it is given and never reads data files,
so it imports neither polars nor the format layer. Secrets live only in :class:`Credentials` and in the
``Authorization`` header of a request: never in a repr, a message or an answer it returns.

Failures::

    ApiError (exit 4)                 CG answered with an error: code and message are CG's (400103 included)
    RetryableError (TransportError)   connection errors, time-outs, 429 and 5xx: worth another attempt
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

import httpx
from lxml import etree

from ..errors import ApiError, TransportError, UsageError

__all__ = [
    "AUTH_URLS",
    "CODE_ALREADY_PROCESSED",
    "CODE_FILE_NOT_FOUND",
    "CODE_INVALID_KEY",
    "DEFAULT_UPLOAD_PATHS",
    "DELETE_PATH",
    "REGIONS",
    "STATISTICS_PATHS",
    "UPLOAD_TYPES",
    "Answer",
    "CgClient",
    "Credentials",
    "RetryableError",
    "content_type_for",
    "parse_answer",
    "resolve_auth_url",
    "resolve_base_url",
]

REGIONS: dict[str, str] = {
    "eu": "https://api.eu.customergauge.com",
    "us": "https://api.us.customergauge.com",
    "au": "https://api.au.customergauge.com",
}
AUTH_URLS: dict[str, str] = {
    "eu": "https://auth.eu.customergauge.com/oauth2/token",
    "us": "https://auth.us.customergauge.com/oauth2/token",
    "au": "https://auth.au.customergauge.com/oauth2/token",
}
UPLOAD_TYPES = ("transactional", "contact", "historical", "anonymous", "revenue")

# Fallback upload paths, used when the record type's schema names none (its "cgformat" "upload_path" wins).
# transactional / historical are assumed from the matching GETs, anonymous is unknown (spec §4): configurable.
DEFAULT_UPLOAD_PATHS: dict[str, str] = {
    "transactional": "/v4.1/file/transactional.json",
    "contact": "/v4.1/file/contact.json",
    "historical": "/v4.1/file/historical.json",
    "anonymous": "/v4.1/file/anonymous.json",
    "revenue": "/v4.1/company/revenue_file_automate.json",
}
# Statistics GETs: documented for transactional and historical, assumed for contact and anonymous;
# CG documents none for revenue, so revenue uploads are never looked up.
STATISTICS_PATHS: dict[str, str | None] = {
    "transactional": "/v4.1/file/transactional.json",
    "contact": "/v4.1/file/contact.json",
    "historical": "/v4.1/file/historical.json",
    "anonymous": "/v4.1/file/anonymous.json",
    "revenue": None,
}
DELETE_PATH = "/v4.1/file.json"
TOKEN_PATH = "/oauth2/token"  # noqa: S105  (a path, not a password)

CODE_INVALID_KEY = 200000
CODE_ALREADY_PROCESSED = 400103
CODE_FILE_NOT_FOUND = 400200

_CONTENT_TYPES = {
    ".csv": "text/csv",
    ".txt": "text/csv",
    ".xml": "application/xml",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_TOKEN_MARGIN_S = 300.0
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def content_type_for(filename: str) -> str:
    """The media type a part file is sent with, by its extension."""
    return _CONTENT_TYPES.get(PurePath(filename).suffix.lower(), "application/octet-stream")


def _check_url(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{what} {url!r} is not an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        # Keys travel in a header: plain http is only for a local sandbox.
        raise UsageError(f"{what} {url!r} uses plain http to another machine: use https "
                         "(plain http is allowed for 127.0.0.1 / localhost only, e.g. 'cgformat sandbox')")
    return url.rstrip("/")


def resolve_base_url(*, region: str | None = None, base_url: str | None = None) -> str:
    """CG's API host for a region (``eu``, ``us``, ``au``), or an explicit base URL (which wins)."""
    if base_url:
        return _check_url(base_url, "base URL")
    if region is None:
        raise UsageError("say where to send: --region eu|us|au, or --base-url URL (e.g. a 'cgformat sandbox')")
    try:
        return REGIONS[region.lower()]
    except KeyError:
        raise UsageError(f"unknown region {region!r}; choose one of: {', '.join(REGIONS)}") from None


def resolve_auth_url(*, region: str | None = None, base_url: str | None = None,
                     auth_url: str | None = None) -> str:
    """The OAuth2 token endpoint: explicit, else ``{base_url}/oauth2/token``, else the region's."""
    if auth_url:
        return _check_url(auth_url, "auth URL")
    if base_url:
        return _check_url(base_url, "base URL") + TOKEN_PATH
    if region is not None and region.lower() in AUTH_URLS:
        return AUTH_URLS[region.lower()]
    return resolve_base_url(region=region) + TOKEN_PATH


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """An API key, or an OAuth2 client id and secret; the repr never shows them."""

    api_key: str | None = field(default=None, repr=False)
    client_id: str | None = field(default=None, repr=False)
    client_secret: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.api_key and not (self.client_id and self.client_secret):
            raise UsageError("no credentials: set CG_API_KEY, or CG_CLIENT_ID and CG_CLIENT_SECRET, "
                             "in the environment (keys are never taken on the command line)")

    def __repr__(self) -> str:
        return f"Credentials(scheme={self.scheme!r})"

    @property
    def scheme(self) -> str:
        """``api_key`` or ``oauth2``."""
        return "api_key" if self.api_key else "oauth2"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret string held, so messages can be scrubbed of them."""
        return tuple(s for s in (self.api_key, self.client_id, self.client_secret) if s)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Credentials:
        """Read ``CG_API_KEY`` (preferred) or ``CG_CLIENT_ID`` + ``CG_CLIENT_SECRET``."""
        key = env.get("CG_API_KEY", "").strip()
        if key:
            return cls(api_key=key)
        return cls(client_id=env.get("CG_CLIENT_ID", "").strip() or None,
                   client_secret=env.get("CG_CLIENT_SECRET", "").strip() or None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """CG's answer: HTTP status, and the envelope's ``Data`` or its ``Error`` code and message.

    ``error`` is set when the body says failure, or says nothing readable: an HTTP 200 proves nothing.
    """

    status: int
    data: Any = None
    error: bool = False
    code: int | None = None
    message: str | None = None
    retry_after: float | None = None

    @property
    def failed(self) -> bool:
        """True when the status or the body says failure."""
        return self.error or self.status >= 400

    def to_dict(self) -> dict[str, Any]:
        """The answer as the journal keeps it."""
        return {"status": self.status, "data": self.data, "code": self.code, "message": self.message}


class RetryableError(TransportError):
    """A fault worth another attempt: ``ambiguous`` when the server may have acted on the request."""

    def __init__(self, message: str, *, ambiguous: bool, status: int | None = None,
                 retry_after: float | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous
        self.status = status
        self.retry_after = retry_after
        self.code = code


def _xml_value(elem: etree._Element) -> Any:
    children = list(elem)
    if not children:
        return elem.text or ""
    if all(child.tag == "item" for child in children):
        return [_xml_value(child) for child in children]
    return {str(child.tag): _xml_value(child) for child in children}


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def parse_answer(response: httpx.Response) -> Answer:
    """Read CG's envelope from a response, JSON or XML (told apart by the body's first byte)."""
    status = response.status_code
    retry_after = _retry_after(response.headers.get("Retry-After"))
    body = response.content.strip()
    if not body:
        if status == 204:
            return Answer(status=status)
        return Answer(status=status, error=True, retry_after=retry_after, message=f"empty answer (HTTP {status})")
    doc: Any
    try:
        if body.startswith(b"<"):
            root = etree.fromstring(body, parser=_XML_PARSER)
            doc = {str(root.tag): _xml_value(root)}
        else:
            doc = json.loads(body)
    except (ValueError, etree.XMLSyntaxError):
        return Answer(status=status, error=True, retry_after=retry_after,
                      message=f"unreadable answer (HTTP {status}, {len(body)} bytes)")
    if isinstance(doc, dict) and isinstance(doc.get("Error"), dict):
        err = doc["Error"]
        return Answer(status=status, error=True, code=_int_or_none(err.get("Code")),
                      message=str(err.get("Message", "")) or None, retry_after=retry_after)
    if isinstance(doc, dict) and "Data" in doc:
        return Answer(status=status, data=doc["Data"], retry_after=retry_after)
    return Answer(status=status, error=True, retry_after=retry_after,
                  message=f"answer without a Data or Error envelope (HTTP {status})")


def _with_format(path: str, fmt: str) -> str:
    if not path.startswith("/"):
        path = "/" + path
    for suffix in (".json", ".xml"):
        if path.endswith(suffix):
            return path[: -len(suffix)] + "." + fmt
    return path


class CgClient:
    """Speaks CG's File API through the ``httpx.Client`` it is given; ``clock`` times the OAuth2 token."""

    def __init__(self, http: httpx.Client, *, base_url: str, credentials: Credentials,
                 auth_url: str | None = None, clock: Callable[[], float] = time.time,
                 response_format: str = "json") -> None:
        if response_format not in ("json", "xml"):
            raise UsageError(f"response format must be json or xml, got {response_format!r}")
        self._http = http
        self.base_url = _check_url(base_url, "base URL")
        self.auth_url = _check_url(auth_url, "auth URL") if auth_url else self.base_url + TOKEN_PATH
        self._credentials = credentials
        self._clock = clock
        self.response_format = response_format
        self._token: str | None = None
        self._token_renew_at = 0.0

    def __repr__(self) -> str:
        return f"CgClient(base_url={self.base_url!r}, auth={self._credentials.scheme!r})"

    # --- messages -------------------------------------------------------------------------------------
    def scrub(self, text: str) -> str:
        """``text`` with every secret (and the current token) replaced by ``***``."""
        for secret in (*self._credentials.secrets, self._token or ""):
            if secret:
                text = text.replace(secret, "***")
        return text

    # --- authentication -------------------------------------------------------------------------------
    def _fetch_token(self) -> None:
        creds = self._credentials
        try:
            resp = self._http.post(self.auth_url, data={"grant_type": "client_credentials",
                                                        "client_id": creds.client_id or "",
                                                        "client_secret": creds.client_secret or ""},
                                   headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise RetryableError(f"cannot reach the OAuth2 token endpoint {self.auth_url}: "
                                 f"{type(exc).__name__}", ambiguous=False) from None
        if resp.status_code == 429 or resp.status_code >= 500:
            raise RetryableError(f"the OAuth2 token endpoint answered HTTP {resp.status_code}", ambiguous=False,
                                 status=resp.status_code, retry_after=_retry_after(resp.headers.get("Retry-After")))
        try:
            doc = resp.json()
        except ValueError:
            doc = None
        token = doc.get("access_token") if isinstance(doc, dict) else None
        if resp.status_code != 200 or not isinstance(token, str) or not token:
            error = doc.get("error") if isinstance(doc, dict) else None
            detail = f" ({self.scrub(str(error))})" if isinstance(error, str) else ""
            raise ApiError(f"the OAuth2 token endpoint refused the client credentials (HTTP {resp.status_code})"
                           f"{detail}: check CG_CLIENT_ID and CG_CLIENT_SECRET", status=resp.status_code)
        expires_in = _int_or_none(doc.get("expires_in")) if isinstance(doc, dict) else None
        lifetime = float(expires_in) if expires_in and expires_in > 0 else 3600.0
        # Renew before the hour runs out: 5 minutes early, or a quarter early for short-lived tokens.
        self._token = token
        self._token_renew_at = self._clock() + lifetime - min(_TOKEN_MARGIN_S, lifetime / 4)

    def _authorization(self) -> str:
        if self._credentials.api_key:
            return f"api_key {self._credentials.api_key}"
        if self._token is None or self._clock() >= self._token_renew_at:
            self._fetch_token()
        return f"Bearer {self._token}"

    # --- requests -------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, *, what: str, params: Mapping[str, str | int] | None = None,
                 files: Mapping[str, tuple[str, bytes, str]] | None = None) -> Answer:
        url = self.base_url + _with_format(path, self.response_format)
        for renewed in (False, True):
            headers = {"Authorization": self._authorization(),
                       "Accept": "application/xml" if self.response_format == "xml" else "application/json"}
            try:
                resp = self._http.request(method, url, params=params, files=files, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                raise RetryableError(f"{what}: cannot connect to {self.base_url} ({type(exc).__name__})",
                                     ambiguous=False) from None
            except httpx.TimeoutException as exc:
                raise RetryableError(f"{what}: no answer in time ({type(exc).__name__})", ambiguous=True) from None
            except httpx.TransportError as exc:
                raise RetryableError(f"{what}: connection lost ({type(exc).__name__})", ambiguous=True) from None
            answer = parse_answer(resp)
            if resp.status_code == 401 and self._credentials.scheme == "oauth2" and not renewed:
                self._token = None  # revoked or expired early: fetch a fresh token once
                continue
            if resp.status_code == 429 or resp.status_code >= 500:
                raise RetryableError(
                    f"{what}: HTTP {resp.status_code}" + (f" ({answer.code} {self.scrub(answer.message or '')})"
                                                          if answer.code is not None else ""),
                    ambiguous=resp.status_code >= 500, status=resp.status_code,
                    retry_after=answer.retry_after, code=answer.code)
            if answer.failed:
                message = self.scrub(answer.message or "")
                code = f"{answer.code} " if answer.code is not None else ""
                raise ApiError(f"CG refused {what} (HTTP {resp.status_code}): {code}{message}".rstrip(": "),
                               code=answer.code, api_message=message, status=resp.status_code)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def upload(self, path: str, *, filename: str, content: bytes, content_type: str | None = None) -> Answer:
        """POST one file (multipart field ``file``); ``Data: false`` (revenue's failure) is a failure too."""
        answer = self._request("POST", path, what=f"the upload of {filename}",
                               files={"file": (filename, content, content_type or content_type_for(filename))})
        if answer.data is False or answer.data == "false":
            raise ApiError(f"CG refused the upload of {filename} (HTTP {answer.status}): it answered Data: false",
                           status=answer.status)
        return answer

    def statistics(self, path: str, *, upload_id: int | None = None, date_from: str | None = None,
                   date_to: str | None = None, start: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """GET the statistics of uploads (CG's rows: every value a string, ``logs`` a list)."""
        params: dict[str, str | int] = {"start": start, "limit": limit}
        if upload_id is not None:
            params["id"] = upload_id
        if date_from is not None:
            params["date_range_from"] = date_from
        if date_to is not None:
            params["date_range_to"] = date_to
        answer = self._request("GET", path, what="the statistics request", params=params)
        data = answer.data
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            return []
        return [row for row in data if isinstance(row, dict)]

    def delete(self, upload_id: int) -> Answer:
        """DELETE one upload and every record it created (CG answers 400200 for an unknown id)."""
        answer = self._request("DELETE", DELETE_PATH, what=f"the deletion of upload {upload_id}",
                               params={"id": upload_id})
        if answer.data is False or answer.data == "false":
            raise ApiError(f"CG did not delete upload {upload_id}: it answered Data: false", status=answer.status)
        return answer
