"""Sending what a file URL answers (``core.index.Download``): a redirect to where the file
lives (a PyPI file a composite links to, ``pypi_files=link``), or a blob from whichever
store holds it (a PyPI file a composite caches is a blob like any other).

A local store is served with ``FileResponse`` (sendfile, ranges). A remote store either
redirects to a short-lived presigned URL (clients drop credentials on cross-origin
redirects; the URL needs none) or is streamed through, with single-range support so pip
and uv can read just the part of a wheel they need.
"""

from __future__ import annotations

import re

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from packyard.core.errors import NotFound
from packyard.core.index import Download
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


async def file_response(
    request: Request, downloads: DownloadService, download: Download, *, public: bool
) -> Response:
    if download.redirect_url is not None:
        return RedirectResponse(download.redirect_url, status_code=302)
    if download.blob_key is None:
        raise NotFound(f"The cached bytes of {download.filename!r} are missing")
    blob_key = download.blob_key
    # A file's bytes never change, but it can be deleted or its registry made private:
    # shared caches keep a public file PUBLIC_SHARED_SECONDS at most (clients a year).
    visibility = f"public, s-maxage={PUBLIC_SHARED_SECONDS}" if public else "private"
    headers = {
        "ETag": f'"{blob_key}"',
        "Cache-Control": f"{visibility}, max-age=31536000, immutable",
    }
    if not download.is_metadata:
        headers["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    path = downloads.local_path(blob_key)
    if path is not None:
        try:
            # One stat here, handed on: FileResponse would otherwise stat in a thread.
            stat = path.stat()
        except FileNotFoundError:
            raise _missing(download.filename) from None
        return FileResponse(
            path, media_type=_media_type(download.filename), headers=headers, stat_result=stat
        )
    redirect = await run_in_threadpool(downloads.redirect_url, blob_key, download.filename)
    if redirect is not None:
        return RedirectResponse(redirect, status_code=302, headers={"Cache-Control": "no-store"})
    size = download.size
    if size is None:
        size = await run_in_threadpool(downloads.blob_size, blob_key)
    if size is None:
        raise _missing(download.filename)
    return _streamed(request, downloads, blob_key, download.filename, size, headers)


def _streamed(
    request: Request,
    downloads: DownloadService,
    blob_key: str,
    filename: str,
    size: int,
    headers: dict[str, str],
) -> Response:
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
    chunks = iterate_in_threadpool(downloads.stream(blob_key, start, end))
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
