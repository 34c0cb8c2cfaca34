"""Headers every response gets, whoever answered it (``web.front`` applies them to the
fast path's answers and to the application's alike).

- ``X-Content-Type-Options: nosniff`` on everything (files, index pages, JSON, static).
- ``Cache-Control: no-store`` on REST answers that set no caching of their own: they carry
  token secrets and private metadata, and a cache has no business keeping them.
- ``private`` added to a ``no-cache`` answer to a request that carried credentials (a
  private index page): no shared cache may keep it, whatever it makes of ``Authorization``.

They work on the raw ASGI header list: this runs for every response, the cached index
reads included, where building a headers object was a visible share of the cost.
"""

from __future__ import annotations

from collections.abc import Iterable

REST_PREFIX = "/v2/"
RawHeaders = list[tuple[bytes, bytes]]

_NOSNIFF = (b"x-content-type-options", b"nosniff")
_NO_STORE = (b"cache-control", b"no-store")
_SHARED_CACHE_DIRECTIVES = frozenset({b"public", b"private", b"no-store"})


def completed(
    headers: Iterable[tuple[bytes, bytes]], *, rest: bool, credentials: bool
) -> RawHeaders:
    """``headers`` with what every response gets, as a new list."""
    result = list(headers)
    cache_control = -1
    nosniff = False
    for index, (name, _) in enumerate(result):
        name = name.lower()
        if name == b"cache-control" and cache_control < 0:  # the first, as headers.get
            cache_control = index
        elif name == b"x-content-type-options":
            nosniff = True
    if not nosniff:
        result.append(_NOSNIFF)
    if cache_control < 0:
        if rest:
            result.append(_NO_STORE)
        return result
    if credentials:
        value = result[cache_control][1]
        private = _credentialed(value)
        if private is not value:
            result[cache_control] = (b"cache-control", private)
    return result


# Cache-Control values seen, with what a credentialed answer gets instead: the fast paths'
# few values each time, so the directives are parsed once (half of ``completed``'s cost
# for a private index page, issue 20). Bounded: past it, values are parsed every time.
MAX_REMEMBERED_VALUES = 256
_CREDENTIALED: dict[bytes, bytes] = {}


def _credentialed(value: bytes) -> bytes:
    """``value`` itself when it already names who may store the answer, else with
    ``private`` first."""
    known = _CREDENTIALED.get(value)
    if known is not None:
        return known
    directives = {d.strip().split(b"=", 1)[0].lower() for d in value.split(b",")}
    known = value if directives & _SHARED_CACHE_DIRECTIVES else b"private, " + value
    if len(_CREDENTIALED) < MAX_REMEMBERED_VALUES:
        _CREDENTIALED[value] = known
    return known
