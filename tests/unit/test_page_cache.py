"""The rendered-page cache: bounded by bytes and by pages, least recently used out first,
the page just stored always kept, a body stored twice keeping its first ETag."""

from __future__ import annotations

import pytest

from packyard.web.simple.cache import ENTRY_OVERHEAD_BYTES, RenderedPageCache

pytestmark = pytest.mark.backend_independent

PAGE = 1_000
COST = PAGE + ENTRY_OVERHEAD_BYTES


def _key(project: str) -> tuple[str, int, str, str, str]:
    return ("registry-id", 1, project, "text/html", "http://127.0.0.1")


def _body(project: str, size: int = PAGE) -> bytes:
    return project.encode().ljust(size, b".")


def test_pages_past_the_byte_budget_go_least_recently_used_first() -> None:
    cache = RenderedPageCache(max_bytes=3 * COST)
    for project in ("a", "b", "c"):
        cache.put(_key(project), _body(project))
    assert cache.get(_key("a")) is not None  # "a" is now the most recently used
    cache.put(_key("d"), _body("d"))
    assert cache.get(_key("b")) is None
    assert [cache.get(_key(p)) is not None for p in ("a", "c", "d")] == [True] * 3
    assert cache.size_bytes == 3 * COST


def test_a_page_larger_than_the_budget_is_kept_alone() -> None:
    cache = RenderedPageCache(max_bytes=3 * COST)
    cache.put(_key("a"), _body("a"))
    root = cache.put(_key(""), _body("root", 10 * PAGE))
    assert cache.get(_key("")) is root
    assert cache.get(_key("a")) is None


def test_the_page_count_is_bounded_too() -> None:
    cache = RenderedPageCache(max_entries=2)
    for project in ("a", "b", "c"):
        cache.put(_key(project), _body(project))
    assert [cache.get(_key(p)) is not None for p in ("a", "b", "c")] == [False, True, True]


def test_a_body_stored_again_keeps_the_page_and_its_etag() -> None:
    cache = RenderedPageCache()
    first = cache.put(_key("a"), _body("a"))
    again = cache.put(_key("a"), _body("a"))  # equal bytes, another object
    assert again is first
    assert cache.size_bytes == COST


def test_a_new_body_under_the_same_key_replaces_the_page() -> None:
    cache = RenderedPageCache()
    first = cache.put(_key("a"), _body("a"))
    second = cache.put(_key("a"), _body("a", 2 * PAGE))
    assert second.etag != first.etag
    assert cache.get(_key("a")) is second
    assert cache.size_bytes == 2 * PAGE + ENTRY_OVERHEAD_BYTES
