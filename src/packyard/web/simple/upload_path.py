"""Uploads answered below the framework: a ``POST`` to an upload path goes straight to the
upload route's function (``web.simple.upload.upload``), without the framework's routing
and middleware.

twine sends one file after another, so what those layers cost each request (about a
tenth of a publish's CPU in issue 20's profile) is time every upload waits. Errors the
route does not answer itself are answered as the framework's handlers answer them
(``route_call.py``). Anything else (another method or path, a mounted root path) goes on to
the application unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from packyard.web.simple.route_call import answer_with_route
from packyard.web.simple.upload import UPLOAD_PATHS, upload


class UploadFastPath:
    """``POST`` to an upload path, answered as the route does without the framework's
    routing and middleware; anything else goes on to ``app`` (the framework) unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app  # also the route's ``request.app``, whose state it reads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = _upload_path(scope) if scope["type"] == "http" else None
        if matched is None:
            await self.app(scope, receive, send)
            return
        template, organization, registry = matched
        await answer_with_route(
            scope, receive, send, self.app, template, upload, (organization, registry)
        )


def _upload_path(scope: Scope) -> tuple[str, str, str] | None:
    """(route template, organization, registry) of a ``POST`` to an upload path."""
    if scope["method"] != "POST" or scope.get("root_path"):
        return None
    parts = scope["path"].split("/")
    # "", organization, registry, "pypi", then nothing, "", "legacy" or "legacy", "".
    if len(parts) < 4 or parts[3] != "pypi" or not parts[1] or not parts[2]:
        return None
    template = "/".join(("/{organization}/{registry}/pypi", *parts[4:]))
    if template not in UPLOAD_PATHS:
        return None
    return template, parts[1], parts[2]
