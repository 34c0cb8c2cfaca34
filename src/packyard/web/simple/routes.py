"""Routes of the simple index and the files it links to, under ``/{org}/{registry}/pypi``.

Each route authenticates, asks a service, and shapes the answer: negotiated media type,
cached rendering keyed by serial, ETag and 304, and ``Cache-Control: no-cache`` so that a
new upload is seen at once by pip and uv.

A composite's pages are keyed by the version its service computes; when this process
already knows that version (``CompositeIndexService.cached_version``) and has the page
rendered, it is answered on the event loop without a query, like a source registry's.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from packyard.core.errors import NotAcceptable
from packyard.core.models import Registry, RegistryType
from packyard.core.names import normalize_project
from packyard.services.composite_index import CompositeIndexService
from packyard.services.downloads import Download
from packyard.web.auth import credential_from_header, failed_authentications_limited
from packyard.web.deps import services_of
from packyard.web.errors import error_response
from packyard.web.negotiation import SUPPORTED, choose_media_type
from packyard.web.simple.cache import INDEX_HEADERS, RenderedPage, RenderedPageCache
from packyard.web.simple.composite import composite_download
from packyard.web.simple.files import ServedFile, file_response
from packyard.web.simple.render import render_project_list, render_project_page

router = APIRouter(include_in_schema=False)


async def _readable_registry(request: Request, organization: str, registry: str) -> Registry:
    """The registry the caller may read. A cached answer (validated by the database's
    change counter, no query) is taken on the event loop; otherwise one query runs in the
    thread pool."""
    access = services_of(request).access
    with failed_authentications_limited(request):
        secret = credential_from_header(request.headers.get("authorization"))
        found = access.cached(secret, organization, registry)
        if found is not None:
            return found
        return await run_in_threadpool(access.readable_registry, secret, organization, registry)


def _negotiate(request: Request) -> str | None:
    return choose_media_type(request.headers.get("accept"))


def _not_acceptable() -> Response:
    offered = ", ".join(SUPPORTED)
    message = f"None of the requested media types is available; offered: {offered}"
    return error_response(NotAcceptable(message))


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


async def _composite_response(
    request: Request, registry: Registry, project_key: str, media_type: str
) -> Response:
    """A composite's project page, or with ``project_key=""`` its project list."""
    cache: RenderedPageCache = request.app.state.page_cache
    composite = services_of(request).composite_index
    version = composite.cached_version(registry, project_key)
    page = None
    if version is not None:
        page = cache.get((registry.id, version, project_key, media_type))
    if page is None:
        page = await run_in_threadpool(
            _composite_page, cache, composite, registry, project_key, media_type
        )
    return _conditional(request, page, media_type)


def _composite_page(
    cache: RenderedPageCache,
    composite: CompositeIndexService,
    registry: Registry,
    project_key: str,
    media_type: str,
) -> RenderedPage:
    """Resolve (queries) and, unless already cached under its version, render: one hop."""
    if project_key:
        page, version = composite.project_page(registry, project_key)
        key = (registry.id, version, project_key, media_type)
        return cache.get(key) or cache.put(key, render_project_page(page, media_type))
    listing, version = composite.project_list(registry)
    key = (registry.id, version, project_key, media_type)
    return cache.get(key) or cache.put(key, render_project_list(listing, media_type))


def _conditional(request: Request, page: RenderedPage, media_type: str) -> Response:
    headers = {**INDEX_HEADERS, "ETag": page.etag}
    if page.matches(request.headers.get("if-none-match")):
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
    if target.type is RegistryType.COMPOSITE:
        return await _composite_response(request, target, "", media_type)
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
    if target.type is RegistryType.COMPOSITE:
        return await _composite_response(request, target, project, media_type)
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
    if target.type is RegistryType.COMPOSITE:
        located = await run_in_threadpool(
            services_of(request).composite_index.locate, target, filename
        )
        if not isinstance(located, Download):
            return await composite_download(request, downloads, located)
        download = located
    else:
        cached = downloads.cached(target, filename)
        download = (
            cached
            if cached is not None
            else await run_in_threadpool(downloads.locate, target, filename)
        )
    if request.method == "GET" and not download.is_metadata and "range" not in request.headers:
        downloads.counter.count(download.package.id)
    served = ServedFile(
        download.blob_key,
        filename,
        download.is_metadata,
        None if download.is_metadata else download.package.size,
    )
    return await file_response(request, downloads, served, public=target.public)
