"""Routes of the simple index and the files it links to, under ``/{org}/{registry}/pypi``.

Each route authenticates, asks one thing, and shapes the answer. Index pages go through
``IndexPages`` (``pages.py``): the cached page when its version is known without a query
(answered on the event loop), else one hop to the thread pool to ask the service, render
and store; then the conditional answer (ETag or 304, ``Cache-Control: no-cache`` so that a
new upload is seen at once by pip and uv). Cached reads usually never get here: the plain
ASGI layer (``cached_reads.py``) answers them through the same ``IndexPages``.

Files go through ``DownloadService``, which answers for source and composite registries
alike and decides what counts as a download; ``files.py`` sends the bytes. A file of a
source registry already located is usually answered by the plain ASGI layer
(``cached_files.py``), through the same ``DownloadService`` and ``files.py``.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from packyard.core.errors import NotAcceptable
from packyard.core.models import Registry
from packyard.core.names import normalize_project
from packyard.core.simple_api import INTEGRITY_V1
from packyard.web.auth import credential_from_header, failed_authentications_limited
from packyard.web.deps import base_url, services_of
from packyard.web.errors import error_response
from packyard.web.negotiation import SUPPORTED, accepts
from packyard.web.simple.files import file_response
from packyard.web.simple.pages import IndexPages

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
        return await run_in_threadpool(
            access.readable_registry, secret, organization, registry, base_url(request)
        )


def _not_acceptable() -> Response:
    offered = ", ".join(SUPPORTED)
    message = f"None of the requested media types is available; offered: {offered}"
    return error_response(NotAcceptable(message))


async def _index_page(request: Request, organization: str, registry: str, project: str) -> Response:
    """The project list (``project=""``) or a project's page, as ``IndexPages`` answers."""
    target = await _readable_registry(request, organization, registry)
    pages: IndexPages = request.app.state.index_pages
    media_type = pages.media_type(request.headers.get("accept"))
    if media_type is None:
        return _not_acceptable()
    normalized = normalize_project(project)
    if normalized != project:
        location = f"/{organization}/{registry}/pypi/simple/{quote(normalized)}/"
        return RedirectResponse(location, status_code=301)
    base = base_url(request)
    page = pages.cached(target, project, media_type, base)
    if page is None:
        page = await run_in_threadpool(pages.render, target, project, media_type, base)
    status, headers, body = pages.answer(page, media_type, request.headers.get("if-none-match"))
    response = Response(body, status_code=status)
    response.raw_headers = headers
    return response


@router.get("/{organization}/{registry}/pypi/simple")
async def simple_root_without_slash(organization: str, registry: str) -> Response:
    return RedirectResponse(f"/{organization}/{registry}/pypi/simple/", status_code=301)


@router.api_route("/{organization}/{registry}/pypi/simple/", methods=["GET", "HEAD"])
async def simple_root(request: Request, organization: str, registry: str) -> Response:
    return await _index_page(request, organization, registry, "")


@router.get("/{organization}/{registry}/pypi/simple/{project}")
async def project_without_slash(organization: str, registry: str, project: str) -> Response:
    return RedirectResponse(
        f"/{organization}/{registry}/pypi/simple/{quote(project, safe='')}/", status_code=301
    )


@router.api_route("/{organization}/{registry}/pypi/simple/{project}/", methods=["GET", "HEAD"])
async def project_page(
    request: Request, organization: str, registry: str, project: str
) -> Response:
    return await _index_page(request, organization, registry, project)


@router.api_route("/{organization}/{registry}/pypi/files/{filename}", methods=["GET", "HEAD"])
async def download_file(
    request: Request, organization: str, registry: str, filename: str
) -> Response:
    target = await _readable_registry(request, organization, registry)
    downloads = services_of(request).downloads
    download = downloads.cached(target, filename)
    if download is None:
        download = await run_in_threadpool(downloads.locate, target, filename)
    downloads.count(download, method=request.method, ranged="range" in request.headers)
    small = request.app.state.small_files
    return await file_response(request, downloads, download, public=target.public, small=small)


@router.get("/{organization}/{registry}/pypi/integrity/{project}/{version}/{filename}/provenance")
async def provenance(
    request: Request, organization: str, registry: str, project: str, version: str, filename: str
) -> Response:
    """PEP 740's Integrity API: the provenance of a file published with attestations."""
    if not accepts(request.headers.get("accept"), INTEGRITY_V1):
        return error_response(NotAcceptable(f"The provenance is served as {INTEGRITY_V1} only"))
    target = await _readable_registry(request, organization, registry)
    body = await run_in_threadpool(
        services_of(request).provenance.provenance, target, project, version, filename
    )
    return Response(body, media_type=INTEGRITY_V1, headers={"Cache-Control": "no-cache"})
