"""Content negotiation for the simple index (PEP 691): pick one of the three media types
from an Accept header with q-values; None means nothing acceptable (406).

Each candidate takes the quality of the most specific range that matches it (RFC 9110).
Among equals, an explicitly named type wins over a wildcard match; explicit ties go to
JSON (cheapest for clients), wildcard ties to ``text/html`` (what browsers and curl want).
"""

from __future__ import annotations

from packyard.core.simple_api import HTML_LEGACY, HTML_V1, JSON_V1

SUPPORTED = (JSON_V1, HTML_V1, HTML_LEGACY)
MAX_ACCEPT_LENGTH = 4096
MAX_ACCEPT_ITEMS = 64

_EXACT, _TYPE_WILDCARD, _ANY = 2, 1, 0


def choose_media_type(accept: str | None) -> str | None:
    if not accept or not accept.strip():
        return HTML_LEGACY
    ranges = [
        _parse_item(item) for item in accept[:MAX_ACCEPT_LENGTH].split(",")[:MAX_ACCEPT_ITEMS]
    ]
    best: str | None = None
    best_key: tuple[float, int, int] | None = None
    for preference, candidate in enumerate(SUPPORTED):
        match = _best_match(candidate, ranges)
        if match is None or match[0] <= 0:
            continue
        quality, specificity = match
        tie_break = -preference if specificity == _EXACT else preference
        key = (quality, specificity, tie_break)
        if best_key is None or key > best_key:
            best, best_key = candidate, key
    return best


def _best_match(candidate: str, ranges: list[tuple[str, float]]) -> tuple[float, int] | None:
    found: tuple[float, int] | None = None
    for media_range, quality in ranges:
        specificity = _specificity(media_range, candidate)
        if specificity is None:
            continue
        if found is None or specificity > found[1]:
            found = (quality, specificity)
    return found


def _specificity(media_range: str, candidate: str) -> int | None:
    if media_range == candidate:
        return _EXACT
    if media_range == "*/*":
        return _ANY
    kind, _, subtype = media_range.partition("/")
    if subtype == "*" and candidate.startswith(kind + "/"):
        return _TYPE_WILDCARD
    return None


def _parse_item(item: str) -> tuple[str, float]:
    parts = [p.strip() for p in item.split(";")]
    media_range = parts[0].lower()
    quality = 1.0
    for parameter in parts[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
            if not 0 <= quality <= 1:
                quality = 0.0
    return media_range, quality


def accepts(accept: str | None, media_type: str) -> bool:
    """Whether an Accept header allows ``media_type`` (no header allows anything)."""
    if not accept or not accept.strip():
        return True
    ranges = [
        _parse_item(item) for item in accept[:MAX_ACCEPT_LENGTH].split(",")[:MAX_ACCEPT_ITEMS]
    ]
    match = _best_match(media_type, ranges)
    return match is not None and match[0] > 0
