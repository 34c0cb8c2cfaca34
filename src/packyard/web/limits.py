"""Limits applied to every request's head before anything else reads it (``web.front``).

uvicorn's httptools parser accepts request headers of any size; a client sending megabytes
of headers would make every step after it copy them. Requests whose headers add up to
more than ``MAX_HEADER_BYTES`` are answered 431 before the application sees them.
"""

from __future__ import annotations

from packyard.core.errors import HeadersTooLarge

MAX_HEADER_BYTES = 64 * 1024


def check_header_size(size: int, max_bytes: int = MAX_HEADER_BYTES) -> None:
    """Raise ``HeadersTooLarge`` when the request's headers total more than allowed."""
    if size > max_bytes:
        raise HeadersTooLarge(f"Request headers are larger than {max_bytes // 1024} KiB in total")
