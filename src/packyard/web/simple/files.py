"""Answering a file download from whichever blob store holds it.

A local store is served with ``FileResponse`` (sendfile, ranges). A remote store either
redirects to a short-lived presigned URL (clients drop credentials on cross-origin
redirects; the URL needs none) or is streamed through, with single-range support so pip
and uv can read just the part of a wheel they need.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from packyard.core.errors import NotFound
from packyard.services.downloads import DownloadService

CONTENT_TYPES = {
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".tar.gz": "application/gzip",
    ".metadata": "application/octet-stream",
}
PUBLIC_SHARED_SECONDS = 300
_SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _media_type(filename: str) -> str:
    return next(
        (kind for suffix, kind in CONTENT_TYPES.items() if filename.endswith(suffix)),
        "application/octet-stream",
    )


@dataclass(frozen=True, slots=True)
class ServedFile:
    """What a download answers with: a blob of the store, under a file name."""

    blob_key: str
    filename: str
    is_metadata: bool
    size: int | None = None  # known from the database for distributions


async def file_response(
    request: Request, downloads: DownloadService, served: ServedFile, *, public: bool
) -> Response:
    # A file's bytes never change, but it can be deleted or its registry made private:
    # shared caches keep a public file PUBLIC_SHARED_SECONDS at most (clients a year).
    visibility = f"public, s-maxage={PUBLIC_SHARED_SECONDS}" if public else "private"
    headers = {
        "ETag": f'"{served.blob_key}"',
        "Cache-Control": f"{visibility}, max-age=31536000, immutable",
    }
    if not served.is_metadata:
        headers["Content-Disposition"] = f'attachment; filename="{served.filename}"'
    path = downloads.local_path(served.blob_key)
    if path is not None:
        try:
            # One stat here, handed on: FileResponse would otherwise stat in a thread.
            stat = path.stat()
        except FileNotFoundError:
            raise _missing(served.filename) from None
        return FileResponse(
            path, media_type=_media_type(served.filename), headers=headers, stat_result=stat
        )
    redirect = await run_in_threadpool(downloads.redirect_url, served.blob_key, served.filename)
    if redirect is not None:
        return RedirectResponse(redirect, status_code=302, headers={"Cache-Control": "no-store"})
    size = served.size
    if size is None:
        size = await run_in_threadpool(downloads.blob_size, served.blob_key)
    if size is None:
        raise _missing(served.filename)
    return _streamed(request, downloads, served, size, headers)


def _streamed(
    request: Request,
    downloads: DownloadService,
    served: ServedFile,
    size: int,
    headers: dict[str, str],
) -> Response:
    filename = served.filename
    headers = {**headers, "Accept-Ranges": "bytes"}
    start, end, status = 0, size, 200
    try:
        requested = _single_range(request.headers.get("range"), size)
    except _Unsatisfiable:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    if requested is not None:
        start, end = requested
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=_media_type(filename))
    chunks = iterate_in_threadpool(downloads.stream(served.blob_key, start, end))
    return StreamingResponse(
        chunks, status_code=status, headers=headers, media_type=_media_type(filename)
    )


class _Unsatisfiable(Exception):
    """The range lies outside the file (416)."""


def _single_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end-exclusive) of a single ``bytes=`` range; None to send the whole file
    (no header, or a form we do not serve partially, such as several ranges)."""
    if not header:
        return None
    match = _SINGLE_RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = min(int(last), size)
        if not length:
            raise _Unsatisfiable
        return size - length, size
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if start >= size or end <= start:
        raise _Unsatisfiable
    return start, end


def _missing(filename: str) -> NotFound:
    return NotFound(f"The stored bytes of {filename!r} are missing; ask an administrator")
