"""Helpers for the uploader's tests: split folders made by hand, a fake clock, an uploader on a sandbox."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

import httpx

from cgformat.manifest import load_manifest
from cgformat.uploader import CgClient, Credentials, Journal, RetryPolicy, Uploader
from cgformat.uploader.client import STATISTICS_PATHS

API_KEY = "test-key-5ecret-0000"
HEADER = "CustomerNumber,Email,SMS_Telephone,FirstName,LastName,Country,OrderDate"


def write_split(folder: Path, *, parts: int, records: int = 3, record_type: str = "transactional",
                stem: str = "export", bad_records: dict[int, int] | None = None, interval_s: int = 600) -> Path:
    """A split folder: ``parts`` CSV files of ``records`` records each, and its manifest.json.

    ``bad_records`` maps a part number to how many of its records get an invalid email.
    """
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    n = 0
    for p in range(1, parts + 1):
        lines = [HEADER]
        first = n + 1
        for r in range(records):
            n += 1
            bad = bad_records is not None and r < bad_records.get(p, 0)
            email = f"user{n} example.com" if bad else f"user{n}@example.com"
            lines.append(f"{n:05d},{email},3161234{n:04d},Anna,de Vries,NL,2025-03-01 10:00:00")
        data = ("\n".join(lines) + "\n").encode()
        name = f"{stem}-abc123-{p:04d}-of-{parts:04d}.csv"
        (folder / name).write_bytes(data)
        entries.append({"file": name, "records": records, "bytes": len(data),
                        "sha256": hashlib.sha256(data).hexdigest(), "first_record": first, "last_record": n})
    manifest = {"cgformat_manifest": 1, "source": f"{stem}.csv", "source_sha256": "0" * 64, "type": record_type,
                "format": "csv", "profile": {"name": "api", "max_records": 2000, "max_bytes": 2_000_000,
                                             "interval_s": interval_s},
                "records": n, "rejected": 0, "parts": entries}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder


class FakeClock:
    """Time that moves only when slept: ``clock()`` reads it, ``sleep(s)`` advances it."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01 00:00:00 UTC
        self.t = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def make_uploader(folder: Path, base_url: str, *, clock: FakeClock, interval_s: float = 0.0,
                  http: httpx.Client | None = None, credentials: Credentials | None = None,
                  write: Callable[[Path, bytes], None] | None = None, max_attempts: int = 8,
                  timeout: float = 5.0, **kw: object) -> Uploader:
    """An uploader for a split folder (journal opened or resumed) with a fake clock and seeded jitter."""
    manifest = load_manifest(folder)
    extra = {"write": write} if write is not None else {}
    journal = Journal.open(folder / "upload-journal.json", manifest=manifest, type=manifest.type or "transactional",
                           base_url=base_url, auth_url=None, upload_path="/v4.1/file/transactional.json",
                           statistics_path=STATISTICS_PATHS["transactional"], clock=clock, **extra)
    client = CgClient(http or httpx.Client(timeout=timeout, trust_env=False), base_url=base_url,
                      credentials=credentials or Credentials(api_key=API_KEY), clock=clock)
    return Uploader(client=client, journal=journal, interval_s=interval_s, clock=clock, sleep=clock.sleep,
                    rng=random.Random(7), retry=RetryPolicy(max_attempts=max_attempts), **kw)  # type: ignore[arg-type]


class HookTransport(httpx.BaseTransport):
    """A real transport with hooks around each request (``before`` / ``after`` get the request)."""

    def __init__(self, *, before: Callable[[httpx.Request], None] | None = None,
                 after: Callable[[httpx.Request], None] | None = None) -> None:
        self.inner = httpx.HTTPTransport()
        self.before, self.after = before, after

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.before is not None:
            self.before(request)
        response = self.inner.handle_request(request)
        response.read()
        if self.after is not None:
            self.after(request)
        return response

    def close(self) -> None:
        self.inner.close()


def upload_filename(request: httpx.Request) -> str | None:
    """The file name an upload request carries (None for other requests)."""
    if request.method != "POST" or "/oauth2/" in request.url.path:
        return None
    m = re.search(rb'filename="([^"]+)"', request.read())
    return m.group(1).decode() if m else None
