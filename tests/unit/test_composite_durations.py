"""How a composite's durations (minimum release age) are read: seconds or words."""

from __future__ import annotations

import pytest

from packyard.core.composite import parse_duration
from packyard.core.errors import ValidationFailed


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        (0, 0),
        (3600, 3600),
        ("3600", 3600),
        ("7 days", 604800),
        ("1 day", 86400),
        ("12 hours", 43200),
        ("90 minutes", 5400),
        ("30s", 30),
        ("2 weeks", 1209600),
        ("  5 Days ", 432000),
    ],
)
def test_durations_are_read_as_seconds(value: int | str | None, seconds: int | None) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["soon", "7 fortnights", "-1", -5, "1.5 days", ""])
def test_unreadable_durations_are_refused(value: int | str) -> None:
    with pytest.raises(ValidationFailed):
        parse_duration(value)
