"""A request's headers read once: the first value of each name (as Starlette's
``headers.get`` gives it) and their total size, for the front door (``web.front``) and the
fast paths, which would otherwise each walk the list again."""

from __future__ import annotations

from starlette.types import Scope

# The first value of each request header, by lower-case name (ASGI servers lower-case them).
HeadMap = dict[bytes, bytes]


def read_head(scope: Scope) -> tuple[HeadMap, int]:
    """(first value of each header, total bytes of names and values)."""
    first: HeadMap = {}
    size = 0
    for name, value in scope["headers"]:
        size += len(name) + len(value)
        if name not in first:
            first[name] = value
    return first, size


def first_headers(scope: Scope) -> HeadMap:
    """The first value of each request header."""
    return read_head(scope)[0]
