"""Sending a body already whole in memory in pieces: ``send_whole_body``.

granian copies each body message into a buffer of its own until the socket has taken it,
and its allocator (jemalloc) keeps freed memory for seconds. So 64 clients reading the
4.3 MiB root page of a registry of 100,000 projects kept up to 64 whole copies of it (issue
8's memory row: 247 MiB idle, 382-401 MiB right after that load). In pieces, an answer in
flight holds the few pieces granian has queued (four per response), whatever its size.

The pieces are copies (``bytes`` slices): granian takes ``bytes`` at once, while a
``memoryview`` costs it a conversion byte by byte (a 4.5 MB body in 40 ms instead of 3).
"""

from __future__ import annotations

from starlette.types import Send

# A do-nothing app on two granian workers answering 64 readers of a 4.5 MB body (this
# machine, same run): the tree grew by 18-24 MiB in 64 KiB pieces, 21-45 MiB in 128 KiB
# pieces, 86-91 MiB in 1 MiB pieces, 107-117 MiB whole; the bodies a second the same
# within their noise. Packyard's 100,000-project root page: see docs/deployment.md.
PIECE_BYTES = 128 * 1024


async def send_whole_body(send: Send, body: bytes) -> None:
    """Send ``body`` as a response's whole body: one message when it fits in a piece, else
    one per PIECE_BYTES."""
    size = len(body)
    if size <= PIECE_BYTES:
        await send({"type": "http.response.body", "body": body})
        return
    for start in range(0, size, PIECE_BYTES):
        end = start + PIECE_BYTES
        await send({"type": "http.response.body", "body": body[start:end], "more_body": end < size})
