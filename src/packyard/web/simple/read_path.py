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
handlers answer them (``route_call.py``); anything else (another method or path, a path to
be redirected, a mounted root path) goes on to the application unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from packyard.web.simple.cached_files import FILE_ROUTE
from packyard.web.simple.cached_reads import PROJECT_ROUTE, ROOT_ROUTE
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
    ``/org/registry/pypi/simple/project/`` or ``/org/registry/pypi/files/filename``; None
    for anything else, which the framework answers (redirects included)."""
    if scope["method"] not in ("GET", "HEAD") or scope.get("root_path"):
        return None
    parts = scope["path"].split("/")
    # "", organization, registry, "pypi", then "simple", "" / "simple", project, "" /
    # "files", filename: every segment the routes' templates name is non-empty.
    if len(parts) < 6 or parts[0] or parts[3] != "pypi" or not parts[1] or not parts[2]:
        return None
    place = (parts[1], parts[2])
    if parts[4] == "simple":
        if len(parts) == 6 and not parts[5]:
            return ROOT_ROUTE, simple_root, place
        if len(parts) == 7 and parts[5] and not parts[6]:
            return PROJECT_ROUTE, project_page, (*place, parts[5])
        return None
    if parts[4] == "files" and len(parts) == 6 and parts[5]:
        return FILE_ROUTE, download_file, (*place, parts[5])
    return None
