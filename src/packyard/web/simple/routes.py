"""Routes of the simple index and the files it links to, under ``/{org}/{registry}/pypi``.

Each route authenticates, asks a service, and shapes the answer: negotiated media type,
cached rendering keyed by serial, ETag and 304, and ``Cache-Control: no-cache`` so that a
new upload is seen at once by pip and uv.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, RedirectResponse, Response

from packyard.core.errors import NotFound
from packyard.core.models import Registry
from packyard.core.names import normalize_project
from packyard.services.downloads import Download
from packyard.web.auth import credential_from_header
from packyard.web.deps import services_of
from packyard.web.negotiation import SUPPORTED, choose_media_type
from packyard.web.simple.cache import RenderedPage, RenderedPageCache
from packyard.web.simple.render import render_project_list, render_project_page

router = APIRouter(include_in_schema=False)

INDEX_HEADERS = {"Vary": "Accept, Authorization", "Cache-Control": "no-cache"}
CONTENT_TYPES = {
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".tar.gz": "application/x-tar",
    ".metadata": "application/octet-stream",
}


async def _readable_registry(request: Request, organization: str, registry: str) -> Registry:
    """The registry the caller may read. A cached answer (validated by the database's
    change counter, no query) is taken on the event loop; otherwise one query runs in the
    thread pool."""
    access = services_of(request).access
    secret = credential_from_header(request.headers.get("authorization"))
    found = access.cached(secret, organization, registry)
    if found is not None:
        return found
    return await run_in_threadpool(access.readable_registry, secret, organization, registry)


def _negotiate(request: Request) -> str | None:
    return choose_media_type(request.headers.get("accept"))


def _not_acceptable() -> Response:
    offered = ", ".join(SUPPORTED)
    return Response(
        f'{{"message": "None of the requested media types is available; offered: {offered}"}}',
        status_code=406,
        media_type="application/json",
        headers={"Vary": "Accept"},
    )


async def _page_response(
    request: Request,
    registry: Registry,
    project_key: str,
    media_type: str,
    render: Callable[[], bytes],
) -> Response:
    cache: RenderedPageCache = request.app.state.page_cache
    key = (registry.id, registry.serial, project_key, media_type)
    page = cache.get(key)
    if page is None:
        # Query and render in one hop to the thread pool; a cache hit needs neither.
        page = cache.put(key, await run_in_threadpool(render))
    return _conditional(request, page, media_type)


def _conditional(request: Request, page: RenderedPage, media_type: str) -> Response:
    headers = {**INDEX_HEADERS, "ETag": page.etag}
    if_none_match = request.headers.get("if-none-match", "")
    if page.etag in (tag.strip() for tag in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    # Set directly: Starlette would append "; charset=utf-8" to text/html, and the media
    # type must be exactly one of PEP 691's three.
    return Response(page.body, headers={**headers, "Content-Type": media_type})


@router.get("/{organization}/{registry}/pypi/simple")
async def simple_root_without_slash(organization: str, registry: str) -> Response:
    return RedirectResponse(f"/{organization}/{registry}/pypi/simple/", status_code=301)


@router.api_route("/{organization}/{registry}/pypi/simple/", methods=["GET", "HEAD"])
async def simple_root(request: Request, organization: str, registry: str) -> Response:
    target = await _readable_registry(request, organization, registry)
    media_type = _negotiate(request)
    if media_type is None:
        return _not_acceptable()
    index = services_of(request).index

    def render() -> bytes:
        return render_project_list(index.project_list(target), media_type)

    return await _page_response(request, target, "", media_type, render)


@router.get("/{organization}/{registry}/pypi/simple/{project}")
async def project_without_slash(organization: str, registry: str, project: str) -> Response:
    return RedirectResponse(
        f"/{organization}/{registry}/pypi/simple/{quote(project, safe='')}/", status_code=301
    )


@router.api_route("/{organization}/{registry}/pypi/simple/{project}/", methods=["GET", "HEAD"])
async def project_page(
    request: Request, organization: str, registry: str, project: str
) -> Response:
    target = await _readable_registry(request, organization, registry)
    media_type = _negotiate(request)
    if media_type is None:
        return _not_acceptable()
    normalized = normalize_project(project)
    if normalized != project:
        location = f"/{organization}/{registry}/pypi/simple/{quote(normalized)}/"
        return RedirectResponse(location, status_code=301)
    index = services_of(request).index

    def render() -> bytes:
        return render_project_page(index.project_page(target, project), media_type)

    return await _page_response(request, target, project, media_type, render)


@router.api_route("/{organization}/{registry}/pypi/files/{filename}", methods=["GET", "HEAD"])
async def download_file(
    request: Request, organization: str, registry: str, filename: str
) -> Response:
    target = await _readable_registry(request, organization, registry)
    downloads = services_of(request).downloads
    download = downloads.cached(target, filename)
    if download is None:
        download = await run_in_threadpool(downloads.locate, target, filename)
    try:
        # One stat here, handed to FileResponse, which would otherwise stat in a thread.
        stat = download.local_path.stat() if download.local_path is not None else None
    except FileNotFoundError:
        stat = None
    if stat is None:
        raise NotFound(f"The stored bytes of {filename!r} are missing; ask an administrator")
    if request.method == "GET" and not download.is_metadata and "range" not in request.headers:
        downloads.counter.count(download.package.id)
    return _file_response(download, filename, target.public, stat)


def _file_response(
    download: Download, filename: str, public: bool, stat: os.stat_result
) -> Response:
    media_type = next(
        (kind for suffix, kind in CONTENT_TYPES.items() if filename.endswith(suffix)),
        "application/octet-stream",
    )
    visibility = "public" if public else "private"
    assert download.local_path is not None
    return FileResponse(
        download.local_path,
        media_type=media_type,
        headers={
            "ETag": f'"{download.blob_key}"',
            "Cache-Control": f"{visibility}, max-age=31536000, immutable",
        },
        content_disposition_type="attachment",
        filename=filename if not download.is_metadata else None,
        stat_result=stat,
    )
