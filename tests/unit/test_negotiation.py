from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packyard.core.simple_api import HTML_LEGACY, HTML_V1, JSON_V1
from packyard.web.negotiation import SUPPORTED, choose_media_type

pytestmark = pytest.mark.backend_independent


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("", HTML_LEGACY),
        ("application/json", None),
        (f"{JSON_V1};q=0", None),
        (f"{JSON_V1};q=0, */*;q=0.1", HTML_LEGACY),
        ("application/*", HTML_V1),
        (f"{HTML_V1}, {JSON_V1}", JSON_V1),
        (f"text/html;q=0.9, {JSON_V1};q=0.2", HTML_LEGACY),
        (f"{JSON_V1};q=nan", None),
        (f"{JSON_V1};q=2", None),
    ],
)
def test_choose_media_type(accept: str, expected: str | None) -> None:
    assert choose_media_type(accept) == expected


@given(st.text(max_size=300))
def test_any_accept_header_yields_a_supported_type_or_none(accept: str) -> None:
    assert choose_media_type(accept) in (*SUPPORTED, None)
