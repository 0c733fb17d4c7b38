"""A local stand-in for CG's File API (v4.1), to rehearse an upload without sending a single survey email.

It serves, on a loopback address by default:

- ``POST /v4.1/file/{transactional|contact|historical|anonymous}.{json|xml}`` and
  ``POST /v4.1/company/revenue_file_automate.{json|xml}``: multipart field ``file``;
- ``GET /v4.1/file/{type}.{json|xml}``: statistics, with ``id``, ``date_range_from``, ``date_range_to``,
  ``start`` and ``limit``;
- ``DELETE /v4.1/file.{json|xml}?id=N``;
- ``POST /oauth2/token``: OAuth2 client credentials, bearer tokens valid ``token_ttl_s``.

Both auth schemes, both envelopes, CG's codes (200000, 300000-300004, 400103, 400200) and the limits
(bytes and records per profile, one upload per interval) behave as spec §4 describes. Where CG documents
nothing the sandbox picks something and says so (codes marked *sandbox* below). Each received file is
read and validated with cgformat's own checks, so its statistics show successful and unsuccessful records
with logs. Faults can be injected (5xx, 429 + Retry-After, a time-out, a connection dropped after the file
was stored) to rehearse the uploader's recovery.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..limits import PROFILES, LimitProfile, get_profile
from ..uploader.client import CODE_ALREADY_PROCESSED, CODE_FILE_NOT_FOUND, CODE_INVALID_KEY
from ._store import StoredUpload, load_state, save_state, stored_name
from ._wire import (
    CODE_BAD_DATE_FROM,
    CODE_BAD_DATE_TO,
    CODE_BAD_ID,
    CODE_BAD_PAGING,
    CODE_BAD_PARAMETER,
    CODE_FILE_TOO_LARGE,
    CODE_TOO_MANY_RECORDS,
    CODE_TOO_SOON,
    FILE_TYPES,
    MAX_BODY,
    ROUTE,
    Reply,
    Request,
    multipart_file,
    to_xml,
)
from .checks import Validator, cgformat_validator
from .faults import Fault

__all__ = ["Sandbox"]

log = logging.getLogger("cgformat.sandbox")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    sandbox: Sandbox


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once: no delayed-ACK stall per request
    wbufsize = -1
    server_version = "cgformat-sandbox"
    sys_version = ""

    def do_GET(self) -> None:
        self.server.sandbox._handle(self, "GET")

    def do_POST(self) -> None:
        self.server.sandbox._handle(self, "POST")

    def do_DELETE(self) -> None:
        self.server.sandbox._handle(self, "DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class Sandbox:
    """CG's File API on ``host:port`` (port 0: any free one), served from a thread: ``start()`` / ``stop()``.

    ``api_keys`` and ``clients`` (id -> secret) are the credentials it accepts; ``None`` accepts any
    non-empty one. ``interval_s`` is the one-upload-per-interval rule: CG's 600 s unless told (0: off; a
    rehearsal shortens it and the uploader's ``--interval`` together). ``data_dir`` keeps the
    received files and the sandbox's state across restarts. ``received`` lists the uploads stored, in order.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, data_dir: str | Path | None = None,
                 api_keys: Collection[str] | None = None, clients: Mapping[str, str] | None = None,
                 interval_s: float = float(PROFILES["api"].interval_s),
                 profiles: Mapping[str, LimitProfile] | None = None,
                 token_ttl_s: int = 3600, validator: Validator | None = None,
                 clock: Callable[[], float] = time.time, statistics_lag_s: float = 0.0) -> None:
        self.host, self.port = host, port
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.api_keys = set(api_keys) if api_keys is not None else None
        self.clients = dict(clients) if clients is not None else None
        self.interval_s = interval_s
        self.statistics_lag_s = statistics_lag_s   # an upload shows in the statistics this long after it arrived
        self.profiles = {"api": get_profile("api"), "revenue": get_profile("revenue"), **(profiles or {})}
        self.token_ttl_s = token_ttl_s
        self.validator: Validator = validator or cgformat_validator
        self.clock = clock
        self._lock = threading.RLock()
        self._uploads: list[StoredUpload] = []
        self._tokens: dict[str, float] = {}
        self._last_upload_at: float | None = None
        self._faults_next: deque[Fault] = deque()
        self._faults_at: dict[int, Fault] = {}
        self.upload_requests = 0
        self.requests: list[tuple[str, str, int, int | None]] = []   # method, path, HTTP status, CG code
        self.faults_applied: list[tuple[int, str, str | None]] = []  # upload request number, kind, file name
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._load()

    # --- life -------------------------------------------------------------------------------------------
    def bind(self) -> Sandbox:
        """Open the listening socket (``port`` 0 becomes the free port chosen); returns self."""
        if self._server is None:
            server = _Server((self.host, self.port), _Handler)
            server.sandbox = self
            self._server = server
            self.port = server.server_address[1]
        return self

    def start(self) -> Sandbox:
        """Listen and serve from a daemon thread; returns self."""
        server = self.bind()._server
        assert server is not None
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="cgformat-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI's ``cgformat sandbox``)."""
        server = self.bind()._server
        assert server is not None
        try:
            server.serve_forever()
        finally:
            server.server_close()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to point ``--base-url`` at."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def token_url(self) -> str:
        """The OAuth2 token endpoint."""
        return self.url + "/oauth2/token"

    # --- faults and inspection (tests) ------------------------------------------------------------------
    def inject(self, fault: Fault, *, times: int = 1, at: Collection[int] = ()) -> None:
        """Apply ``fault`` to the next ``times`` upload requests, or to the upload requests numbered ``at``
        (1-based, counted since start or :meth:`reset`)."""
        with self._lock:
            if at:
                for n in at:
                    self._faults_at[n] = fault
            else:
                self._faults_next.extend([fault] * times)

    def fail_next(self, times: int = 1, *, status: int = 503) -> None:
        """Answer the next uploads with an HTTP error, storing nothing."""
        self.inject(Fault(kind="status", status=status), times=times)

    def throttle_next(self, times: int = 1, *, retry_after: int = 1) -> None:
        """Answer the next uploads with 429 and a Retry-After."""
        self.inject(Fault(kind="throttle", retry_after=retry_after), times=times)

    def timeout_next(self, times: int = 1, *, seconds: float = 0.5) -> None:
        """Hold the next uploads for ``seconds``, then drop them unprocessed."""
        self.inject(Fault(kind="timeout", seconds=seconds), times=times)

    def drop_next(self, times: int = 1) -> None:
        """Store the next uploads, then close the connection without answering."""
        self.inject(Fault(kind="drop"), times=times)

    def late_next(self, times: int = 1, *, seconds: float = 0.5) -> None:
        """Store the next uploads, then answer only after ``seconds``."""
        self.inject(Fault(kind="late", seconds=seconds), times=times)

    def reset(self) -> None:
        """Forget every upload, token, fault and counter."""
        with self._lock:
            self._uploads.clear()
            self._tokens.clear()
            self._faults_next.clear()
            self._faults_at.clear()
            self._last_upload_at = None
            self.upload_requests = 0
            self.requests.clear()
            self.faults_applied.clear()
            self._save()

    @property
    def received(self) -> list[str]:
        """File names of the uploads stored, in the order they arrived (deleted ones included)."""
        with self._lock:
            return [u.source_filename for u in self._uploads]

    def uploads(self, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """The stored uploads as statistics rows (plus ``type`` and ``deleted``)."""
        with self._lock:
            return [u.row() | {"type": u.type, "deleted": u.deleted} for u in self._uploads
                    if include_deleted or not u.deleted]

    # --- persistence ------------------------------------------------------------------------------------
    def _state_path(self) -> Path | None:
        return None if self.data_dir is None else self.data_dir / "sandbox-state.json"

    def _load(self) -> None:
        path = self._state_path()
        if path is not None:
            self._uploads, self._last_upload_at = load_state(path)

    def _save(self) -> None:
        path = self._state_path()
        if path is not None:
            save_state(path, self._uploads, self._last_upload_at)

    # --- HTTP -------------------------------------------------------------------------------------------
    def _handle(self, handler: _Handler, method: str) -> None:
        split = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        fmt = "xml" if split.path.endswith(".xml") else "json"
        try:
            length = int(handler.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            handler.close_connection = True
            self._answer(handler, method, split.path, fmt,
                         Reply(413, code=CODE_BAD_PARAMETER, message="Request body too large"))
            return
        body = handler.rfile.read(length) if length else b""
        req = Request(query=query, headers=handler.headers, body=body)
        fault: Fault | None = None
        try:
            if method == "POST" and split.path == "/oauth2/token":
                self._token(handler, req)
                return
            m = ROUTE.match(split.path)
            if m is None:
                raise Reply(404, code=CODE_BAD_PARAMETER, message=f"Unknown endpoint {split.path}")
            record_type = "revenue" if m["revenue"] else m["type"]
            if method == "POST" and record_type is not None:
                with self._lock:
                    self.upload_requests += 1
                    fault = self._faults_at.pop(self.upload_requests, None) or (
                        self._faults_next.popleft() if self._faults_next else None)
                    if fault is not None:
                        part = multipart_file(req.headers.get("Content-Type", ""), req.body)
                        self.faults_applied.append((self.upload_requests, fault.kind, part[0] if part else None))
                reply = self._upload(req, record_type, fault)
            else:
                self._authorize(req)
                if method == "GET" and record_type in FILE_TYPES:
                    reply = Reply(200, data=self._statistics(req, record_type))
                elif method == "DELETE" and m["delete"]:
                    reply = Reply(200, data=self._delete(req))
                else:
                    raise Reply(405, code=CODE_BAD_PARAMETER, message=f"{method} is not allowed on {split.path}")
        except Reply as r:
            reply = r
        except Exception:  # a sandbox bug must not look like a network fault: answer it as CG's 500
            log.exception("sandbox error on %s %s", method, split.path)
            reply = Reply(500, code=CODE_BAD_PARAMETER, message="Internal sandbox error")
        if fault is not None and fault.kind == "drop":
            handler.close_connection = True  # stored; the client never hears back
            self._record(method, split.path, 0, None)
            return
        if fault is not None and fault.kind == "late":
            time.sleep(fault.seconds)
        self._answer(handler, method, split.path, fmt, reply)

    def _record(self, method: str, path: str, status: int, code: int | None) -> None:
        with self._lock:
            self.requests.append((method, path, status, code))

    def _answer(self, handler: _Handler, method: str, path: str, fmt: str, reply: Reply) -> None:
        self._record(method, path, reply.status, reply.code)
        payload: Any = ({"Error": {"Message": reply.message, "Code": reply.code}} if reply.code is not None
                        else {"Data": reply.data})
        if fmt == "xml":
            key = next(iter(payload))
            body = ("<?xml version='1.0' encoding='utf-8'?>\n" + to_xml(key, payload[key])).encode("utf-8")
            ctype = "application/xml; charset=utf-8"
        else:
            body = json.dumps(payload).encode("utf-8")
            ctype = "application/json"
        self._write(handler, reply.status, body, ctype, reply.headers)

    @staticmethod
    def _write(handler: _Handler, status: int, body: bytes, ctype: str, headers: Mapping[str, str]) -> None:
        with contextlib.suppress(OSError):  # the client may be gone (a time-out, a killed process)
            handler.send_response(status)
            handler.send_header("Content-Type", ctype)
            handler.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                handler.send_header(k, v)
            handler.end_headers()
            handler.wfile.write(body)

    # --- auth -------------------------------------------------------------------------------------------
    def _authorize(self, req: Request) -> None:
        value = req.headers.get("Authorization", "")
        scheme, _, credential = value.partition(" ")
        credential = credential.strip()
        ok = False
        if scheme.lower() == "api_key" and credential:
            ok = self.api_keys is None or credential in self.api_keys
        elif scheme.lower() == "bearer" and credential:
            with self._lock:
                expires = self._tokens.get(credential)
            ok = expires is not None and self.clock() < expires
        if not ok:
            raise Reply(401, code=CODE_INVALID_KEY, message="Invalid API Key")

    def _token(self, handler: _Handler, req: Request) -> None:
        form = {k: v[-1] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
        doc: dict[str, Any]
        if form.get("grant_type") != "client_credentials":
            status, doc = 400, {"error": "unsupported_grant_type"}
        else:
            cid, secret = form.get("client_id", ""), form.get("client_secret", "")
            known = self.clients is None or (cid in self.clients and secrets.compare_digest(self.clients[cid], secret))
            if not (cid and secret and known):
                status, doc = 401, {"error": "invalid_client"}
            else:
                token = secrets.token_urlsafe(24)
                with self._lock:
                    self._tokens[token] = self.clock() + self.token_ttl_s
                status = 200
                doc = {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl_s}
        self._record("POST", "/oauth2/token", status, None)
        self._write(handler, status, json.dumps(doc).encode("utf-8"), "application/json", {})

    # --- endpoints --------------------------------------------------------------------------------------
    def _upload(self, req: Request, record_type: str, fault: Fault | None) -> Reply:
        if fault is not None and fault.kind == "timeout":
            time.sleep(fault.seconds)
            return Reply(504, code=None, message="timed out")  # the client has given up by now
        if fault is not None and fault.kind == "status":
            return Reply(fault.status, code=None, data=None, message="Service unavailable")
        if fault is not None and fault.kind == "throttle":
            return Reply(429, code=CODE_TOO_SOON, message="Too many requests",
                          headers={"Retry-After": str(fault.retry_after)})
        if record_type not in (*FILE_TYPES, "revenue"):
            raise Reply(404, code=CODE_BAD_PARAMETER, message=f"Unknown record type {record_type}")
        self._authorize(req)
        part = multipart_file(req.headers.get("Content-Type", ""), req.body)
        if part is None:
            raise Reply(400, code=CODE_BAD_PARAMETER, message="Parameter 'file' is required (multipart/form-data)")
        filename, content = part
        now = self.clock()  # the interval runs between arrivals, whatever the time spent validating
        digest = hashlib.sha256(content).hexdigest()
        profile = self.profiles["revenue" if record_type == "revenue" else "api"]
        with self._lock:
            if any(u.sha256 == digest and u.type == record_type and not u.deleted for u in self._uploads):
                raise Reply(400, code=CODE_ALREADY_PROCESSED, message="This upload has already been processed")
            if len(content) > profile.max_bytes:
                raise Reply(400, code=CODE_FILE_TOO_LARGE,
                             message=f"File is {len(content)} bytes; the limit is {profile.max_bytes} bytes")
            if self.interval_s and self._last_upload_at is not None and now - self._last_upload_at < self.interval_s:
                wait = self.interval_s - (now - self._last_upload_at)
                raise Reply(429, code=CODE_TOO_SOON,
                             message=f"One upload every {self.interval_s:g} seconds; retry in {wait:.0f} s",
                             headers={"Retry-After": str(max(1, round(wait + 0.5)))})
        check = self.validator(content, filename, record_type)
        if check.total > profile.max_records:
            raise Reply(400, code=CODE_TOO_MANY_RECORDS,
                         message=f"File has {check.total} records; the limit is {profile.max_records}")
        with self._lock:
            # checked again under the lock: another request may have stored the same file meanwhile
            if any(u.sha256 == digest and u.type == record_type and not u.deleted for u in self._uploads):
                raise Reply(400, code=CODE_ALREADY_PROCESSED, message="This upload has already been processed")
            upload = StoredUpload(id=max((u.id for u in self._uploads), default=1000) + 1, type=record_type,
                             source_filename=filename, sha256=digest, bytes=len(content), received_at=now,
                             check=check)
            # the file first, then the state: a request that fails on the way (a name the file system
            # refuses, a full disk) answers 500 and leaves nothing behind
            kept: Path | None = None
            if self.data_dir is not None:
                files = self.data_dir / "files"
                files.mkdir(parents=True, exist_ok=True)
                kept = files / stored_name(upload.id, filename)
                kept.write_bytes(content)
            previous = (list(self._uploads), self._last_upload_at)
            self._uploads.append(upload)
            self._last_upload_at = max(now, self._last_upload_at or now)
            try:
                self._save()
            except BaseException:
                self._uploads, self._last_upload_at = previous
                if kept is not None:
                    kept.unlink(missing_ok=True)
                raise
        log.info("stored upload %s: %s (%s, %d records)", upload.id, filename, record_type, check.total)
        if record_type == "revenue":
            return Reply(200, data={"data": 1} if check.status != "Failed" else False)
        return Reply(200, data=True)  # what CG's upload POST returns is undocumented (spec §4)

    def _statistics(self, req: Request, record_type: str) -> list[dict[str, Any]]:
        q = req.query
        uid = self._int_param(q, "id", CODE_BAD_ID) if "id" in q else None
        start = self._int_param(q, "start", CODE_BAD_PAGING) if "start" in q else 0
        limit = self._int_param(q, "limit", CODE_BAD_PAGING) if "limit" in q else 1000
        if start < 0 or not 1 <= limit <= 1000:
            raise Reply(400, code=CODE_BAD_PAGING, message="start must be >= 0 and limit between 1 and 1000")
        date_from = self._date_param(q, "date_range_from", CODE_BAD_DATE_FROM)
        date_to = self._date_param(q, "date_range_to", CODE_BAD_DATE_TO)
        with self._lock:
            listed_before = self.clock() - self.statistics_lag_s
            rows = [u for u in self._uploads if u.type == record_type and not u.deleted
                    and (uid is None or u.id == uid) and u.received_at <= listed_before]
        out = []
        for u in rows:
            day = datetime.fromtimestamp(u.received_at, UTC).date()
            if (date_from is None or day >= date_from) and (date_to is None or day <= date_to):
                out.append(u.row())
        return out[start:start + limit]

    @staticmethod
    def _int_param(q: Mapping[str, str], name: str, code: int) -> int:
        try:
            return int(q[name])
        except ValueError:
            raise Reply(400, code=code, message=f"Invalid parameter {name}: {q[name]!r}") from None

    @staticmethod
    def _date_param(q: Mapping[str, str], name: str, code: int) -> date | None:
        if name not in q:
            return None
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", q[name]):
                raise ValueError(q[name])
            return date.fromisoformat(q[name])
        except ValueError:
            raise Reply(400, code=code, message=f"Invalid parameter {name}: {q[name]!r} (YYYY-MM-DD)") from None

    def _delete(self, req: Request) -> bool:
        if "id" not in req.query:
            raise Reply(400, code=CODE_BAD_ID, message="Parameter id is required")
        uid = self._int_param(req.query, "id", CODE_BAD_ID)
        with self._lock:
            for i, u in enumerate(self._uploads):
                if u.id == uid and not u.deleted:
                    # CG removes the records; the sandbox keeps the row (hidden) and forgets the file's hash
                    self._uploads[i] = replace(u, deleted=True)
                    self._save()
                    log.info("deleted upload %s", uid)
                    return True
        raise Reply(400, code=CODE_FILE_NOT_FOUND, message="File not found")
