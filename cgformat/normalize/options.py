"""The user's choices for ``cgformat fix`` and CG's date formats."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UsageError

__all__ = ["CG_DATE", "CG_DATETIME", "NormalizeOptions"]

CG_DATETIME = "%Y-%m-%d %H:%M:%S"
"""CG's date and time format."""
CG_DATE = "%Y-%m-%d"
"""CG's date format."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalizeOptions:
    """Choices the user makes for ``fix``: a default country code for national phone numbers, and the
    format of dates that are not already ``YYYY-MM-DD HH:MM:SS`` (else only unambiguous ones are read)."""

    default_country: str | None = None
    date_format: str | None = None

    def __post_init__(self) -> None:
        if self.default_country is not None and not re.fullmatch(r"[1-9][0-9]{0,2}", self.default_country):
            raise UsageError(f"default_country= must be a calling code of 1-3 digits (31, 1, 57), "
                             f"got {self.default_country!r}", options=("default_country",))
