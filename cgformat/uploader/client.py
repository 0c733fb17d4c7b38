"""A client for CustomerGauge's File API (v4.1) over an injected :class:`httpx.Client`.

It knows CG's hosts, both authentication schemes, and which failures are worth retrying; CG's envelope
in JSON and XML is read by :mod:`.answer`. It sends bytes it is given and never reads data files,
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
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

import httpx

from .._naming import in_cli, option
from ..errors import ApiError, TransportError, UsageError
from ._exchange import Exchanged, exchange, is_loopback
from .answer import Answer, int_or_none, parse_answer, retry_after_seconds

__all__ = [
    "ANSWER_CAP",
    "AUTH_URLS",
    "CODE_ALREADY_PROCESSED",
    "CODE_FILE_NOT_FOUND",
    "CODE_INVALID_KEY",
    "DEFAULT_UPLOAD_PATHS",
    "DELETE_PATH",
    "REGIONS",
    "STATISTICS_CAP",
    "STATISTICS_PATHS",
    "UPLOAD_TYPES",
    "Answer",
    "CgClient",
    "Credentials",
    "RetryableError",
    "check_url",
    "content_type_for",
    "is_cg_host",
    "origin",
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
_TOKEN_MARGIN_S = 300.0
ANSWER_CAP = 1 << 20              # CG's answers to an upload, a delete or a token request are a few bytes
STATISTICS_CAP = 32 << 20         # a page of 1,000 statistics rows with their logs


def content_type_for(filename: str) -> str:
    """The media type a part file is sent with, by its extension."""
    return _CONTENT_TYPES.get(PurePath(filename).suffix.lower(), "application/octet-stream")


def check_url(url: str, what: str) -> str:
    """``url`` without a trailing slash, or :class:`UsageError`: not http(s), user info or a query in it,
    or plain http to a host that is not this machine."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise UsageError(f"{what} {url!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(f"{what} {url!r} is not an http(s) URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        # never echo it: the user info may hold a password
        raise UsageError(f"the {what} holds a user name or password (user:pw@host): give the host alone; "
                         "credentials come from the environment only")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise UsageError(f"{what} {url!r} has a query string or fragment: give scheme, host and path only")
    if parts.scheme == "http" and not is_loopback(host):
        # Keys travel in a header: plain http is only for a local sandbox.
        raise UsageError(f"{what} {url!r} uses plain http to another machine: use https "
                         "(plain http is allowed for 127.0.0.1 / localhost only, e.g. 'cgformat sandbox')")
    return url.rstrip("/")


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL: the party its requests reach."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def is_cg_host(url: str) -> bool:
    """True for CG's own API and OAuth2 hosts (https, the regions' hosts)."""
    return origin(url) in {origin(u) for u in (*REGIONS.values(), *AUTH_URLS.values())}


def resolve_base_url(*, region: str | None = None, base_url: str | None = None) -> str:
    """CG's API host for a region (``eu``, ``us``, ``au``), or an explicit base URL (which wins)."""
    if base_url:
        return check_url(base_url, "base URL")
    if region is None:
        raise UsageError(f"say where to send: {option('region', tuple(REGIONS))}, or {option('base_url', 'URL')} "
                         "(e.g. a 'cgformat sandbox')")
    try:
        return REGIONS[region.lower()]
    except KeyError:
        raise UsageError(f"unknown region {region!r}; choose one of: {', '.join(REGIONS)}") from None


def resolve_auth_url(*, region: str | None = None, base_url: str | None = None,
                     auth_url: str | None = None) -> str:
    """The OAuth2 token endpoint: explicit, else ``{base_url}/oauth2/token``, else the region's."""
    if auth_url:
        return check_url(auth_url, "auth URL")
    if base_url:
        return check_url(base_url, "base URL") + TOKEN_PATH
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
                             + ("in the environment (keys are never taken on the command line)" if in_cli() else
                                "in the environment, or give credentials=Credentials(api_key=...)"))
        for name, value in (("CG_API_KEY", self.api_key), ("CG_CLIENT_ID", self.client_id),
                            ("CG_CLIENT_SECRET", self.client_secret)):
            bad = next((i for i, ch in enumerate(value or "", start=1) if not "!" <= ch <= "~"), None)
            if bad is not None:
                # the value is never shown: only where the stray character is
                raise UsageError(f"{name} holds a character that cannot travel in an HTTP header (character {bad} "
                                 f"of {len(value or '')}: a space, a typographic quote or another non-ASCII "
                                 "character pasted with it?): set it again, exactly as CG issued it")

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


class RetryableError(TransportError):
    """A fault worth another attempt: ``ambiguous`` when the server may have acted on the request."""

    def __init__(self, message: str, *, ambiguous: bool, status: int | None = None,
                 retry_after: float | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous
        self.status = status
        self.retry_after = retry_after
        self.code = code


def _no_proof(status: int, got: Exchanged, answer: Answer) -> str:
    if 300 <= status < 400:
        where = got.headers.get("Location", "")[:200]
        return (f"HTTP {status}, a redirect" + (f" to {where!r}" if where else "")
                + " (not followed; check the base URL): no proof CG acted on it")
    if status != 200:
        return f"HTTP {status}, which is no proof CG acted on it"
    return f"{answer.message or 'an answer without CG envelope'}: no proof CG acted on it"


def _with_format(path: str, fmt: str) -> str:
    if not path.startswith("/"):
        path = "/" + path
    for suffix in (".json", ".xml"):
        if path.endswith(suffix):
            return path[: -len(suffix)] + "." + fmt
    return path


class CgClient:
    """Speaks CG's File API through the ``httpx.Client`` it is given; ``clock`` times the OAuth2 token.

    ``timeout`` bounds each whole exchange (connect, send, the full answer); answers are read up to a cap.
    """

    def __init__(self, http: httpx.Client, *, base_url: str, credentials: Credentials,
                 auth_url: str | None = None, clock: Callable[[], float] = time.time,
                 response_format: str = "json", timeout: float | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if response_format not in ("json", "xml"):
            raise UsageError(f"response format must be json or xml, got {response_format!r}")
        self._http = http
        self.base_url = check_url(base_url, "base URL")
        self.auth_url = check_url(auth_url, "auth URL") if auth_url else self.base_url + TOKEN_PATH
        self._credentials = credentials
        self._clock = clock
        self._monotonic = monotonic
        self.timeout = timeout
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
            got = exchange(self._http, "POST", self.auth_url, timeout=self.timeout, cap=ANSWER_CAP,
                           monotonic=self._monotonic,
                           data={"grant_type": "client_credentials", "client_id": creds.client_id or "",
                                 "client_secret": creds.client_secret or ""},
                           headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise RetryableError(f"cannot reach the OAuth2 token endpoint {self.auth_url}: "
                                 f"{type(exc).__name__}", ambiguous=False) from None
        if got.status == 429 or got.status >= 500:
            raise RetryableError(f"the OAuth2 token endpoint answered HTTP {got.status}", ambiguous=False,
                                 status=got.status, retry_after=retry_after_seconds(got.headers.get("Retry-After")))
        try:
            doc = json.loads(got.body) if got.body is not None else None
        except (ValueError, RecursionError):
            doc = None
        token = doc.get("access_token") if isinstance(doc, dict) else None
        usable = isinstance(token, str) and 0 < len(token) <= 8192 and all("!" <= ch <= "~" for ch in token)
        if got.status != 200 or not usable:
            error = doc.get("error") if isinstance(doc, dict) else None
            detail = f" ({self.scrub(error[:200])})" if isinstance(error, str) else ""
            if got.status == 200:
                detail = " (its answer holds no usable access_token)"
            raise ApiError(f"the OAuth2 token endpoint refused the client credentials (HTTP {got.status})"
                           f"{detail}: check CG_CLIENT_ID and CG_CLIENT_SECRET", status=got.status)
        assert isinstance(token, str)
        assert isinstance(doc, dict)
        expires_in = int_or_none(doc.get("expires_in"))
        lifetime = float(expires_in) if expires_in and 0 < expires_in < 10 ** 7 else 3600.0
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
                 files: Mapping[str, tuple[str, bytes, str]] | None = None, cap: int = ANSWER_CAP) -> Answer:
        """One request; returns only an answer that proves success (HTTP 200, CG's ``Data`` envelope).

        ApiError: CG refused (its error envelope, a 4xx, ``Data: false``). RetryableError: a fault, with
        ``ambiguous`` set whenever the request may have reached CG and been acted on.
        """
        url = self.base_url + _with_format(path, self.response_format)
        for renewed in (False, True):
            headers = {"Authorization": self._authorization(),
                       "Accept": "application/xml" if self.response_format == "xml" else "application/json"}
            try:
                got = exchange(self._http, method, url, timeout=self.timeout, cap=cap, monotonic=self._monotonic,
                               params=params, files=files, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                raise RetryableError(f"{what}: cannot connect to {self.base_url} ({type(exc).__name__})",
                                     ambiguous=False) from None
            except httpx.TimeoutException as exc:
                raise RetryableError(f"{what}: no whole answer in time ({type(exc).__name__})",
                                     ambiguous=True) from None
            except httpx.HTTPError as exc:
                raise RetryableError(f"{what}: connection lost ({type(exc).__name__})", ambiguous=True) from None
            answer = parse_answer(got)
            status = got.status
            if status == 401 and self._credentials.scheme == "oauth2" and not renewed:
                self._token = None  # revoked or expired early: fetch a fresh token once
                continue
            cg = f" ({answer.code} {self.scrub(answer.message or '')})" if answer.code is not None else ""
            if status == 429:   # CG's throttle: the request was turned away
                raise RetryableError(f"{what}: HTTP 429{cg}", ambiguous=False, status=status,
                                     retry_after=answer.retry_after, code=answer.code)
            if status >= 500:   # the server may have acted before it failed
                raise RetryableError(f"{what}: HTTP {status}{cg}", ambiguous=True, status=status,
                                     retry_after=answer.retry_after, code=answer.code)
            if answer.proof:
                return answer
            refused = (400 <= status < 500 or (status == 200 and answer.envelope == "error")
                       or (status == 200 and answer.envelope == "data"))   # the last: Data: false
            if refused:
                message = self.scrub(answer.message or "")
                if answer.envelope == "data":
                    message = "it answered Data: false"
                code = f"{answer.code} " if answer.code is not None else ""
                raise ApiError(f"CG refused {what} (HTTP {status}): {code}{message}".rstrip(": "),
                               code=answer.code, api_message=message or None, status=status)
            raise RetryableError(f"{what}: {_no_proof(status, got, answer)}", ambiguous=True, status=status,
                                 retry_after=answer.retry_after)
        raise AssertionError("unreachable")  # pragma: no cover

    def upload(self, path: str, *, filename: str, content: bytes, content_type: str | None = None) -> Answer:
        """POST one file (multipart field ``file``); ``Data: false`` (revenue's failure) is a failure too."""
        return self._request("POST", path, what=f"the upload of {filename}",
                             files={"file": (filename, content, content_type or content_type_for(filename))})

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
        answer = self._request("GET", path, what="the statistics request", params=params, cap=STATISTICS_CAP)
        data = answer.data
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            return []
        return [row for row in data if isinstance(row, dict)]

    def delete(self, upload_id: int) -> Answer:
        """DELETE one upload and every record it created (CG answers 400200 for an unknown id)."""
        return self._request("DELETE", DELETE_PATH, what=f"the deletion of upload {upload_id}",
                             params={"id": upload_id})
