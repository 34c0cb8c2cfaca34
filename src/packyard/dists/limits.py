"""Safety limits for reading untrusted archives. Defaults suit real-world packages: the
largest wheels on PyPI (CUDA builds) expand to a few GiB at ratios well under 20:1."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    max_members: int = 200_000
    max_expanded_bytes: int = 16 * 1024**3
    # A ratio is only suspicious once the expansion is big enough to hurt.
    max_ratio: float = 100.0
    ratio_applies_above_bytes: int = 64 * 1024**2
    max_metadata_bytes: int = 16 * 1024**2


DEFAULT_LIMITS = ArchiveLimits()
