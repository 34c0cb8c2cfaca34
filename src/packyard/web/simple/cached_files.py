"""Files of the local store answered in plain ASGI, before the framework sees the request.

pip and uv fetch a ``.metadata`` file (PEP 658) for every candidate they consider and then
the distributions they install; when the caller's access is cached (``ReadAccess``) and
the file already located at the registry's serial (``DownloadService.cached``), the answer
needs no query, and this layer sends it through ``files.local_file_response``, as the
route does (``routes.download_file``), counting the download by the same rule
(``DownloadService.count``).

A remote store's small file is answered here too once the route has answered it whole
from memory (``FileFastPath.answer``). Anything else (another path or method, a credential
that is new, wrong or rate-limited, a file not located yet, a composite's file, a PyPI
link, a remote store's file not yet in memory, a missing blob) goes on to the application
unchanged.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from packyard.core.index import Download
from packyard.core.models import Registry
from packyard.services.access import ReadAccess
from packyard.services.downloads import DownloadService
from packyard.web.observability.requests import ROUTE_KEY
from packyard.web.request_head import HeadMap, first_headers
from packyard.web.simple.cached_reads import cached_registry
from packyard.web.simple.files import local_file_response, whole_from_memory
from packyard.web.simple.pages import Answer
from packyard.web.simple.small_files import SmallFiles

# The template of the route whose answers this layer gives, for metrics and the log.
FILE_ROUTE = "/{organization}/{registry}/pypi/files/{filename}"


class FileFastPath:
    def __init__(
        self, app: ASGIApp, access: ReadAccess, downloads: DownloadService, small: SmallFiles
    ) -> None:
        self.app = app
        self._access = access
        self._downloads = downloads
        self._small = small

    def answer(self, scope: Scope, headers: HeadMap) -> Answer | None:
        """A whole GET of a small file whose answer was sent before (its bytes and headers
        in ``SmallFiles``), counted as a download; None otherwise. Called by the front door
        (``web.front``) before anything else: no ``FileResponse``, no disk."""
        if not whole_from_memory(scope, b"range" in headers):
            return None
        located = self._located(scope, headers)
        if located is None:
            return None
        registry, download, blob_key = located
        # Kept by the route's first whole answer from memory (files.py), from either store.
        found = self._small.answer((blob_key, registry.public, download.filename))
        if found is None:
            return None
        self._downloads.count(download, method="GET", ranged=False)
        scope[ROUTE_KEY] = FILE_ROUTE
        raw_headers, body = found
        return 200, raw_headers, body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            response = self._cached_response(scope)
            if response is not None:
                scope[ROUTE_KEY] = FILE_ROUTE
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _located(self, scope: Scope, headers: HeadMap) -> tuple[Registry, Download, str] | None:
        """(registry, download, blob key) of a stored file of a source registry that the
        request's credential may read, all known without a query; None otherwise."""
        path = file_path(scope)
        if path is None:
            return None
        organization, registry_slug, filename = path
        registry = cached_registry(self._access, headers, organization, registry_slug)
        if registry is None:
            return None
        download = self._downloads.cached(registry, filename)
        if download is None or download.redirect_url is not None or download.blob_key is None:
            return None
        return registry, download, download.blob_key

    def _cached_response(self, scope: Scope) -> Response | None:
        """The answer to a file read answerable without a query, or None."""
        headers = first_headers(scope)
        located = self._located(scope, headers)
        if located is None:
            return None
        registry, download, blob_key = located
        path = self._downloads.local_path(blob_key)
        if path is None:
            return None  # a remote store: redirected or streamed by the route
        response = local_file_response(download, path, registry.public, self._small)
        if response is None:
            return None  # missing bytes: the route answers the error
        self._downloads.count(download, method=scope["method"], ranged=b"range" in headers)
        return response


def file_path(scope: Scope) -> tuple[str, str, str] | None:
    """(organization, registry, filename) of ``/org/registry/pypi/files/filename``."""
    if scope.get("root_path"):
        return None
    parts = scope["path"].split("/")
    if len(parts) != 6 or parts[3] != "pypi" or parts[4] != "files":
        return None
    if not parts[1] or not parts[2] or not parts[5]:
        return None
    return parts[1], parts[2], parts[5]
