from __future__ import annotations

import pytest

from packyard.core.composite import edit_upstreams
from packyard.core.errors import InvalidRequest

pytestmark = pytest.mark.backend_independent


@pytest.mark.parametrize(
    ("current", "action", "slug", "expected"),
    [
        (["a", "pypi"], "add", "b", ["a", "b", "pypi"]),  # sources go before PyPI
        (["a"], "add", "pypi", ["a", "pypi"]),
        (["a", "b"], "add", "a", ["a", "b"]),
        (["a", "b", "pypi"], "remove", "pypi", ["a", "b"]),
        (["a", "b"], "up", "b", ["b", "a"]),
        (["a", "b"], "up", "a", ["a", "b"]),
        (["a", "b"], "down", "a", ["b", "a"]),
        (["a", "b"], "down", "b", ["a", "b"]),
        (["a"], "remove", "zzz", ["a"]),
    ],
)
def test_edit_upstreams(current: list[str], action: str, slug: str, expected: list[str]) -> None:
    assert edit_upstreams(current, action, slug) == expected


def test_unknown_edit_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        edit_upstreams(["a"], "shuffle", "a")
