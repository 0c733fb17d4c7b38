"""Run the CLI on a file in a child process: exit code, output, wall time and peak memory (RSS)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

COMMANDS = ("validate", "convert", "split")


@dataclass(frozen=True, slots=True)
class Run:
    """What one CLI run did."""

    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    timed_out: bool


def argv(command: str, src: Path, out: Path) -> list[str]:
    """The command line used for ``command`` on ``src``, writing under ``out``."""
    if command == "validate":
        return ["validate", str(src), "--type", "transactional", "--clean", str(out / "clean.csv"),
                "--rejects", str(out / "rejects.csv")]
    if command == "convert":
        return ["convert", str(src), str(out / "converted.csv")]
    if command == "split":
        return ["split", str(src), "--out", str(out / "parts"), "--type", "transactional"]
    raise ValueError(command)


def _limit_memory(limit_mb: int | None) -> None:
    if limit_mb:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit_mb << 20, limit_mb << 20))


def run_cli(args: list[str], *, timeout: float = 120.0, env: dict[str, str] | None = None,
            limit_mb: int | None = None) -> Run:
    """Run ``python -m cgformat ARGS``; on time-out the process group is killed and ``timed_out`` set.

    ``limit_mb`` caps the child's address space, so a memory blow-up fails fast instead of taking the
    machine down.
    """
    full_env = {**os.environ, "PYTHONFAULTHANDLER": "1", **(env or {})}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cgformat", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=full_env, start_new_session=True,
                            preexec_fn=lambda: _limit_memory(limit_mb))  # noqa: PLW1509
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [threading.Thread(target=lambda: out.append(proc.stdout.read() if proc.stdout else b"")),
               threading.Thread(target=lambda: err.append(proc.stderr.read() if proc.stderr else b""))]
    for t in readers:
        t.start()
    timed_out = False
    deadline = started + timeout
    status = 0
    usage = None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    peak_mb = usage.ru_maxrss / 1024 if usage is not None else 0.0
    return Run(code=proc.returncode, stdout=b"".join(out).decode("utf-8", "replace"),
               stderr=b"".join(err).decode("utf-8", "replace"), seconds=seconds, peak_mb=peak_mb,
               timed_out=timed_out)


class Listener:
    """A TCP socket on 127.0.0.1 that records every connection made to it (none should be)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@contextlib.contextmanager
def listener() -> Iterator[Listener]:
    """A :class:`Listener` for the duration of a block."""
    lst = Listener()
    try:
        yield lst
    finally:
        lst.close()
