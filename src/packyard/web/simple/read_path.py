"""Index reads and file downloads answered below the framework when nothing is cached for
them yet: a ``GET`` or ``HEAD`` of an index page or a file goes straight to the route's
function (``web.simple.routes``), without the framework's routing and middleware, as
uploads do (``upload_path.py``).

The front door answers the reads whose page, file and access are already known
(``cached_reads.py``, ``cached_files.py``); the rest are each worker's first read of a
page or file, and after any change (a publish, a download count written) the first read
with each credential. pip and uv make them on every install after a publish. Through
FastAPI they cost a worker about three times a cached read (issue 20's profile of 300
first reads: the framework's routing and middleware were two thirds of the worker's
time, the route's own work one third). Domain errors are answered as the framework's
handlers answer them (``route_call.py``); anything else (another method or path, a name
not normalised, which is redirected, a mounted root path) goes on to the application
unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from packyard.web.simple.cached_files import FILE_ROUTE, file_path
from packyard.web.simple.cached_reads import PROJECT_ROUTE, ROOT_ROUTE, index_path
from packyard.web.simple.route_call import Route, answer_with_route
from packyard.web.simple.routes import download_file, project_page, simple_root


class ReadFastPath:
    """``GET`` and ``HEAD`` of the index and its files, answered as their routes answer
    them without the framework; anything else goes on to ``app`` unchanged."""

    def __init__(self, app: ASGIApp, framework: ASGIApp) -> None:
        self.app = app
        self._framework = framework  # the routes' ``request.app``, whose state they read

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = _read_path(scope) if scope["type"] == "http" else None
        if matched is None:
            await self.app(scope, receive, send)
            return
        await answer_with_route(scope, receive, send, self._framework, *matched)


def _read_path(scope: Scope) -> tuple[str, Route, tuple[str, ...]] | None:
    """(route template, route, path arguments) of a read of ``/org/registry/pypi/simple/``,
    ``/org/registry/pypi/simple/project/`` (normalised) or ``/org/registry/pypi/files/
    filename``, recognised as the fast paths recognise them; None for anything else, which
    the framework answers (its redirects included)."""
    if scope["method"] not in ("GET", "HEAD"):
        return None
    index = index_path(scope)
    if index is not None:
        organization, registry, project = index
        if project:
            return PROJECT_ROUTE, project_page, index
        return ROOT_ROUTE, simple_root, (organization, registry)
    file = file_path(scope)
    return None if file is None else (FILE_ROUTE, download_file, file)
