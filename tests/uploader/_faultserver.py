"""A fault server on 127.0.0.1: each request is answered by the next scripted reply, byte for byte.

A reply is raw HTTP (status line, headers, body) written as it is, optionally a byte at a time with a pause
between bytes (an answer that drips), or ``None`` to close the connection without a word.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reply:
    """Raw bytes to answer with; ``drip_s`` pauses between single bytes."""

    raw: bytes | None
    drip_s: float = 0.0


def http(status: int, body: bytes = b"", *, headers: dict[str, str] | None = None, reason: str = "X") -> bytes:
    """A raw HTTP/1.1 answer with Content-Length."""
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class FaultServer:
    """Answers each connection's request with the next :class:`Reply`; records what each request carried."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[bytes] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            self.requests.append(head + b"\r\n\r\n" + body)
            reply = self.replies.popleft() if self.replies else Reply(http(500))
            if reply.raw is None:
                return
            if reply.drip_s:
                for i in range(len(reply.raw)):
                    if self._stop.is_set():
                        return
                    conn.sendall(reply.raw[i:i + 1])
                    time.sleep(reply.drip_s)
            else:
                conn.sendall(reply.raw)
        except OSError:
            return
        finally:
            conn.close()

    def close(self) -> None:
        """Stop serving."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()
