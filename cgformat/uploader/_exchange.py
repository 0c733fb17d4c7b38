"""One bounded HTTP exchange: a deadline over the whole of it, and an answer read up to a size cap.

httpx's time-outs bound each socket operation, not an exchange: an answer dripping one byte a second never
times out. :func:`http_client` builds a client whose sockets take every read, write and connect time-out
from the deadline of the exchange in progress (a context variable set by :func:`exchange`), so the
``--timeout`` bounds connect, send and the full answer together. :func:`exchange` also checks the deadline
between the chunks of the answer (which covers transports that never touch a socket, as the tests' mock
transports) and stops reading at the cap: CG's answers are small, and nothing is read wholly into memory.
"""

from __future__ import annotations

import contextvars
import ipaddress
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

__all__ = ["Exchanged", "exchange", "http_client", "is_loopback"]

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("cgformat_exchange_deadline", default=None)


def is_loopback(host: str | None) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the exchange ran out of time")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every operation ends by the exchange's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                     _bounded(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """The default socket backend, with the exchange's deadline on every operation."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, _bounded(timeout, httpcore.ConnectTimeout),
                                                       local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:  # pragma: no cover - unused
        return _DeadlineStream(self._inner.connect_unix_socket(path, _bounded(timeout, httpcore.ConnectTimeout),
                                                               socket_options))

    def sleep(self, seconds: float) -> None:  # pragma: no cover - httpcore's retries are off
        self._inner.sleep(seconds)


def http_client(base_url: str, timeout: float) -> httpx.Client:
    """An ``httpx.Client`` for CG (or a sandbox): the exchange deadline on its sockets, no redirects followed,
    and no proxy from the environment for a host on this machine."""
    local = is_loopback(httpx.URL(base_url).host)
    transport = httpx.HTTPTransport(trust_env=not local)
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)), transport=transport,
                        follow_redirects=False, trust_env=not local)


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchanged:
    """What came back: the status, the headers, and the body (``None`` when it could not be read whole)."""

    status: int
    headers: httpx.Headers
    body: bytes | None
    problem: str | None = None     # why body is None: over the cap, or an encoding that does not decode


@contextmanager
def _deadline(seconds: float | None, monotonic: Callable[[], float]) -> Iterator[float | None]:
    if seconds is None:
        yield None
        return
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        yield monotonic() + seconds
    finally:
        _DEADLINE.reset(token)


def _decode(raw: bytes, encoding: str, cap: int) -> tuple[bytes | None, str | None]:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw, None
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return None, f"an answer in the {encoding!r} encoding"
    wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
    try:
        inflater = zlib.decompressobj(wbits)
        out = inflater.decompress(raw, cap + 1)
    except zlib.error:
        return None, f"an answer that says {encoding} but is not"
    if len(out) > cap:
        return None, f"an answer over {cap:,} bytes once inflated"
    return out, None


def exchange(http: httpx.Client, method: str, url: str, *, timeout: float | None, cap: int,
             monotonic: Callable[[], float] = time.monotonic, params: Mapping[str, str | int] | None = None,
             files: Mapping[str, tuple[str, bytes, str]] | None = None, data: Mapping[str, str] | None = None,
             headers: Mapping[str, str] | None = None) -> Exchanged:
    """Send one request and read its answer, all within ``timeout`` seconds, reading at most ``cap`` bytes.

    Raises ``httpx.TimeoutException`` when the deadline passes (also between chunks of the answer), and the
    other ``httpx.HTTPError`` of the transport.
    """
    with _deadline(timeout, monotonic) as deadline:
        request = http.build_request(method, url, params=params, files=files, data=data,
                                     headers={**(headers or {}), "Accept-Encoding": "identity"})
        response = http.send(request, stream=True, follow_redirects=False)
        try:
            chunks: list[bytes] = []
            size = 0
            problem: str | None = None
            # a response built in memory (a mock transport) is already read: its content is its only chunk
            source = [response.content] if response.is_stream_consumed else response.iter_raw()
            for chunk in source:
                if deadline is not None and monotonic() > deadline:
                    raise httpx.ReadTimeout("the answer did not arrive in time", request=request)
                size += len(chunk)
                if size > cap:
                    problem = f"an answer over {cap:,} bytes"
                    break
                chunks.append(chunk)
            if deadline is not None and monotonic() > deadline:
                raise httpx.ReadTimeout("the answer did not arrive in time", request=request)
        finally:
            response.close()
    body: bytes | None = None
    if problem is None:
        body, problem = _decode(b"".join(chunks), response.headers.get("Content-Encoding", ""), cap)
    return Exchanged(status=response.status_code, headers=response.headers, body=body, problem=problem)
