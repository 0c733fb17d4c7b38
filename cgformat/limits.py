"""CG's upload limits as named profiles (spec §1): ``api`` (default), ``revenue``, ``inapp``, ``sftp``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .errors import UsageError

__all__ = ["DEFAULT_PROFILE", "PROFILES", "LimitProfile", "get_profile"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitProfile:
    """What CG accepts in one file on one channel, and how often."""

    name: str
    max_records: int
    max_bytes: int
    interval_s: int

    def with_overrides(self, *, max_records: int | None = None, max_bytes: int | None = None,
                       interval_s: int | None = None) -> LimitProfile:
        """Return a copy with the given limits replaced (``None`` keeps the profile's value)."""
        for label, value in (("max_records", max_records), ("max_bytes", max_bytes)):
            if value is not None and value < 1:
                raise UsageError(f"{label}={value}: must be at least 1", options=(label,))
        for label, value, limit in (("max_records", max_records, self.max_records),
                                    ("max_bytes", max_bytes, self.max_bytes)):
            if value is not None and value > limit:
                # CG refuses or garbles larger files on this channel: a part over the limit is never planned
                raise UsageError(f"{label}={value} is over the {self.name} profile's {limit:,}, CG's limit on "
                                 f"that channel; lower it, or choose the profile of the channel you use "
                                 f"(profile={'|'.join(p for p in PROFILES if p != self.name)})",
                                 options=(label, "profile"))
        if interval_s is not None and interval_s < 0:
            raise UsageError(f"interval_s={interval_s}: must not be negative", options=("interval_s",))
        return replace(
            self,
            max_records=self.max_records if max_records is None else max_records,
            max_bytes=self.max_bytes if max_bytes is None else max_bytes,
            interval_s=self.interval_s if interval_s is None else interval_s,
        )

    def to_dict(self) -> dict[str, Any]:
        """The profile as it appears in a manifest."""
        return {"name": self.name, "max_records": self.max_records, "max_bytes": self.max_bytes,
                "interval_s": self.interval_s}


# "2 MB" is not defined by CG: 2,000,000 bytes is the stricter reading (spec §1).
PROFILES: dict[str, LimitProfile] = {
    "api": LimitProfile(name="api", max_records=2_000, max_bytes=2_000_000, interval_s=600),
    "revenue": LimitProfile(name="revenue", max_records=1_000, max_bytes=2_000_000, interval_s=600),
    "inapp": LimitProfile(name="inapp", max_records=5_000, max_bytes=15_000_000, interval_s=0),
    "sftp": LimitProfile(name="sftp", max_records=5_000, max_bytes=20_000_000, interval_s=3_600),
}
DEFAULT_PROFILE = "api"


def get_profile(name: str | LimitProfile | None = None) -> LimitProfile:
    """Look up a limit profile by name (``None`` gives the default, ``api``)."""
    if isinstance(name, LimitProfile):
        return name
    key = DEFAULT_PROFILE if name is None else name.lower()
    try:
        return PROFILES[key]
    except KeyError:
        raise UsageError(f"unknown limit profile {name!r}; choose one of: {', '.join(PROFILES)}") from None
