"""The faults the sandbox can be told to inject into upload requests, to rehearse the uploader's recovery."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Fault", "parse_fault"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """A fault to inject into an upload request.

    ``kind``: ``status`` (answer ``status``, e.g. 503, without storing), ``throttle`` (429 with Retry-After
    ``retry_after``), ``timeout`` (hold the request ``seconds``, then drop it unprocessed), ``drop`` (store the
    file, then close the connection without an answer), ``late`` (store, then answer after ``seconds``).
    """

    kind: str
    status: int = 503
    retry_after: int = 1
    seconds: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in ("status", "throttle", "timeout", "drop", "late"):
            raise ValueError(f"unknown fault kind {self.kind!r}")


def parse_fault(spec: str) -> tuple[Fault, list[int]]:
    """Read a fault given on the command line: ``KIND[:ARG]@N[,N...]`` (N: the Nth upload request, 1-based).

    ``503@3``, ``500@4,5`` (status), ``429:2@5`` (Retry-After 2 s), ``timeout:3@8``, ``late:3@9``, ``drop@12``.
    """
    m = re.fullmatch(r"(?P<kind>[a-z]+|\d{3})(?::(?P<arg>[0-9.]+))?@(?P<at>\d+(?:,\d+)*)", spec.strip())
    if m is None:
        raise ValueError(f"bad fault {spec!r}: use KIND[:ARG]@N, e.g. 503@3, 429:2@5, timeout:3@8, late:3@9, drop@12")
    kind, arg, at = m["kind"], m["arg"], [int(n) for n in m["at"].split(",")]
    if kind == "429":
        fault = Fault(kind="throttle", retry_after=int(float(arg)) if arg else 1)
    elif kind.isdigit():
        fault = Fault(kind="status", status=int(kind))
    elif kind in ("timeout", "late"):
        fault = Fault(kind=kind, seconds=float(arg) if arg else 5.0)
    else:
        fault = Fault(kind=kind)
    return fault, at
