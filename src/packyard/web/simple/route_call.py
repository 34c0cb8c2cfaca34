"""Calling a route's function below the framework (``upload_path.py``, ``read_path.py``):
the request is noted as the route's for metrics and the log, and errors are answered as
the framework's handlers answer them (``web.errors``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from packyard.core.errors import PackyardError
from packyard.web.errors import error_response, unexpected_error_response
from packyard.web.observability.requests import ROUTE_KEY

Route = Callable[..., Awaitable[Response]]


async def answer_with_route(
    scope: Scope,
    receive: Receive,
    send: Send,
    framework: ASGIApp,
    template: str,
    route: Route,
    arguments: tuple[str, ...],
) -> None:
    """Answer with ``route(request, *arguments)``, the function the framework would call
    for ``template``; ``framework`` is the routes' ``request.app``, whose state they read."""
    scope[ROUTE_KEY] = template
    scope["app"] = framework
    request = Request(scope, receive)
    try:
        response = await route(request, *arguments)
    except PackyardError as error:
        response = error_response(error)
    except Exception as error:  # as the framework's handlers answer it
        response = await unexpected_error_response(request, error)
    await response(scope, receive, send)
