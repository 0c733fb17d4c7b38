"""A local stand-in for CG's File API: its own HTTP server, state and injected faults (``cgformat sandbox``).

It validates what it receives with cgformat's own checks, as CG's statistics would report them, so it may
use the data layer; the uploader (:mod:`cgformat.uploader`) never imports it.
"""

from __future__ import annotations

from ._wire import CODE_BAD_PARAMETER, CODE_FILE_TOO_LARGE, CODE_TOO_MANY_RECORDS, CODE_TOO_SOON
from .checks import FileCheck, Validator, cgformat_validator
from .faults import Fault, parse_fault
from .server import Sandbox

__all__ = [
    "CODE_BAD_PARAMETER",
    "CODE_FILE_TOO_LARGE",
    "CODE_TOO_MANY_RECORDS",
    "CODE_TOO_SOON",
    "Fault",
    "FileCheck",
    "Sandbox",
    "Validator",
    "cgformat_validator",
    "parse_fault",
]
