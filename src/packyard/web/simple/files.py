"""Sending what a file URL answers (``core.index.Download``): a redirect to where the file
lives (a PyPI file a composite links to, ``pypi_files=link``), or a blob from whichever
store holds it (a PyPI file a composite caches is a blob like any other).

A local store is served with ``FileResponse`` (ranges; the server sends the file itself
where it offers ``http.response.pathsend``), a small file's whole-file answers from memory
on any server (``small_files.py``); the routes and the plain-ASGI layer (``cached_files.py``) answer
with the same ``local_file_response``. A remote store either
redirects to a short-lived presigned URL (clients drop credentials on cross-origin
redirects; the URL needs none) or is streamed through, with single-range support so pip
and uv can read just the part of a wheel they need; a small file's whole-file answers
come from memory there too, read from the store once per process.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from packyard.core.errors import NotFound
from packyard.core.index import Download
from packyard.services.downloads import DownloadService
from packyard.web.simple.small_files import AnswerKey, SmallFiles

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
    request: Request,
    downloads: DownloadService,
    download: Download,
    *,
    public: bool,
    small: SmallFiles,
) -> Response:
    if download.redirect_url is not None:
        return RedirectResponse(download.redirect_url, status_code=302)
    if download.blob_key is None:
        raise NotFound(f"The cached bytes of {download.filename!r} are missing")
    blob_key = download.blob_key
    path = downloads.local_path(blob_key)
    if path is not None:
        local = local_file_response(download, path, public, small)
        if local is None:
            raise _missing(download.filename)
        return local
    redirect = await run_in_threadpool(downloads.redirect_url, blob_key, download.filename)
    if redirect is not None:
        return RedirectResponse(redirect, status_code=302, headers={"Cache-Control": "no-store"})
    size = download.size
    if size is None:
        size = await run_in_threadpool(downloads.blob_size, blob_key)
    if size is None:
        raise _missing(download.filename)
    headers = {**_file_headers(download, blob_key, public), "Accept-Ranges": "bytes"}
    if small.fits(size) and whole_from_memory(request.scope, "range" in request.headers):
        key = (blob_key, public, download.filename)
        return await _remote_from_memory(downloads, key, size, headers, small)
    return _streamed(request, downloads, blob_key, download.filename, size, headers)


async def _remote_from_memory(
    downloads: DownloadService, key: AnswerKey, size: int, headers: dict[str, str],
    small: SmallFiles,
) -> Response:  # fmt: skip
    """A small file of a remote store, whole, from memory: read from the store once per
    process, then answered from memory here and, with the headers kept, by the front door
    (an S3 GET costs a round trip of milliseconds; pip and uv fetch every candidate's
    ``.metadata`` and each wheel they install)."""
    blob_key, _, filename = key

    def read() -> bytes:
        body = b"".join(downloads.stream(blob_key, 0, size))
        if len(body) != size:
            raise _missing(filename)
        return body

    body = await _remembered(small, blob_key, read)
    response = Response(body, headers=headers, media_type=_media_type(filename))
    small.keep_headers(key, response.raw_headers)
    return response


def _file_headers(download: Download, blob_key: str, public: bool) -> dict[str, str]:
    # A file's bytes never change, but it can be deleted or its registry made private:
    # shared caches keep a public file PUBLIC_SHARED_SECONDS at most (clients a year).
    visibility = f"public, s-maxage={PUBLIC_SHARED_SECONDS}" if public else "private"
    headers = {
        "ETag": f'"{blob_key}"',
        "Cache-Control": f"{visibility}, max-age=31536000, immutable",
    }
    if not download.is_metadata:
        headers["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return headers


def local_file_response(
    download: Download, path: Path, public: bool, small: SmallFiles
) -> Response | None:
    """The answer for a blob of the local store at ``path``; None when it is missing. No
    I/O but one ``stat``: safe on the event loop."""
    assert download.blob_key is not None
    try:
        # One stat here, handed on: FileResponse would otherwise stat in a thread.
        stat = path.stat()
    except FileNotFoundError:
        return None
    file = FileResponse(
        path,
        media_type=_media_type(download.filename),
        headers=_file_headers(download, download.blob_key, public),
        stat_result=stat,
    )
    if not small.fits(stat.st_size):
        return file
    return _SmallFile(file, path, (download.blob_key, public, download.filename), small)


class _SmallFile(Response):
    """A small file's ``FileResponse`` whose whole-file answers (a GET without ``Range``)
    are sent from memory, with the same status and headers; anything else is the file's."""

    def __init__(self, file: FileResponse, path: Path, key: AnswerKey, small: SmallFiles) -> None:
        # Not Response.__init__: the status and headers are the file's, as they are.
        self._file = file
        self._path = path
        self._key = key
        self._small = small
        self.status_code = file.status_code
        self.raw_headers = file.raw_headers
        self.background = None
        self.body = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not whole_from_memory(scope, _ranged(scope)):
            await self._file(scope, receive, send)
            return
        body = await _remembered(self._small, self._key[0], self._path.read_bytes)
        self._small.keep_headers(self._key, self.raw_headers)
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": body})


async def _remembered(small: SmallFiles, blob_key: str, read: Callable[[], bytes]) -> bytes:
    """A small blob's bytes from memory, or read (in a worker thread) and kept there."""
    body = small.get(blob_key)
    if body is None:
        body = await run_in_threadpool(read)
        small.put(blob_key, body)
    return body


def whole_from_memory(scope: Scope, ranged: bool) -> bool:
    """Whether a small file's answer to this request is its whole bytes from memory: a GET
    without ``Range``. Also where the server sends files itself (granian's ``pathsend``):
    for a small file the memory answer, given by the front door, costs about a third of
    the CPU of a ``FileResponse`` through the file layer (bench/server_compare.py)."""
    return scope["method"] == "GET" and not ranged


def _ranged(scope: Scope) -> bool:
    return any(name == b"range" for name, _ in scope["headers"])


def _streamed(
    request: Request,
    downloads: DownloadService,
    blob_key: str,
    filename: str,
    size: int,
    headers: dict[str, str],
) -> Response:
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
