"""Waiting for something that happens in another process: ``eventually(condition, timeout,
message)`` polls until the condition holds and fails loudly when it never does, so no
test falls through a deadline silently. ``answers(url)`` is the usual condition for a
server coming up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import httpx

T = TypeVar("T")
POLL_SECONDS = 0.05


def eventually(condition: Callable[[], T], timeout: float, message: str | Callable[[], str]) -> T:
    """Call ``condition`` until it answers something true, and return that; raise
    ``AssertionError`` with ``message`` (called then, if callable, to read a log at the
    moment of failure) once ``timeout`` seconds pass. Exceptions from ``condition``
    propagate: raise one to give up early (a process that exited, say)."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(POLL_SECONDS)


def answers(url: str, status: int | None = 200) -> bool:
    """Whether ``url`` answers ``status`` (any status when None); a refused or timed-out
    connection is a no."""
    try:
        response = httpx.get(url, timeout=1)
    except httpx.TransportError:
        return False
    return status is None or response.status_code == status
