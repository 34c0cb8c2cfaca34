"""The one mapping from domain errors to HTTP responses.

Every error body is ``{"message": "..."}`` (422 adds ``errors``); a 401 carries
``WWW-Authenticate: Basic`` so that pip, uv and twine retry with stored credentials. The
message also goes into the reason phrase-friendly body that twine prints with --verbose.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Match

from packyard.core import errors

log = logging.getLogger(__name__)

# Looked up along the error's class hierarchy, nearest class first: a subclass without a
# row answers as its parent does, and the order of the rows does not matter.
STATUS_BY_ERROR: dict[type[errors.PackyardError], int] = {
    errors.InvalidRequest: 400,
    errors.Unauthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.NotAcceptable: 406,
    errors.RequestTimeout: 408,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.ValidationFailed: 422,
    errors.RateLimited: 429,
    errors.HeadersTooLarge: 431,
    errors.UpstreamError: 502,
    errors.ServiceUnavailable: 503,
    errors.InsufficientStorage: 507,
}

AUTHENTICATE_HEADERS = {"WWW-Authenticate": 'Basic realm="packyard"'}


def status_for(error: errors.PackyardError) -> int:
    for error_type in type(error).__mro__:
        status = STATUS_BY_ERROR.get(error_type)
        if status is not None:
            return status
    return 500


def _headers_for(error: errors.PackyardError, status: int) -> dict[str, str] | None:
    if status == 401:
        return AUTHENTICATE_HEADERS
    if status in (408, 413, 431):
        # The client may still be sending; closing saves both sides the rest of the request.
        return {"Connection": "close"}
    if status == 406:
        return {"Vary": "Accept"}
    if isinstance(error, errors.ServiceUnavailable | errors.RateLimited):
        return {"Retry-After": str(error.retry_after)}
    return None


def error_response(error: errors.PackyardError) -> Response:
    status = status_for(error)
    body: dict[str, object] = {"message": error.message}
    if isinstance(error, errors.TokenExchangeFailed):
        body["errors"] = [{"code": error.code, "description": error.description}]
    elif isinstance(error, errors.ValidationFailed):
        body["errors"] = error.errors
    return JSONResponse(body, status_code=status, headers=_headers_for(error, status))


def plain_error_response(error: errors.PackyardError) -> Response:
    """The same status and headers, with the message alone as text/plain: the upload tools
    print an error body as it is (uv always, twine with --verbose, poetry and pdm)."""
    status = status_for(error)
    return PlainTextResponse(error.message, status_code=status, headers=_headers_for(error, status))


async def _on_domain_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, errors.PackyardError)
    return error_response(error)


async def _on_validation_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = [
        f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
        for e in error.errors()
    ]
    return JSONResponse({"message": "Validation failed", "errors": problems}, status_code=422)


async def _on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    message = error.detail if isinstance(error.detail, str) else "Request failed"
    headers = getattr(error, "headers", None)
    if error.status_code == 404:
        message = "Not found"
    elif error.status_code == 405:
        message = "Method not allowed"
        headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
    return JSONResponse({"message": message}, status_code=error.status_code, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path: Starlette's own 405 names only those
    of the first route whose path matched. Each method is tried against the routes (an
    included router has no ``methods`` of its own to read)."""
    return [
        method
        for method in KNOWN_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.routes
        )
    ]


KNOWN_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


DATABASE_RETRY_AFTER_SECONDS = 2


async def _on_database_error(request: Request, error: Exception) -> Response:
    """A database that is busy, restarting or unreachable is a moment's outage, not a bug:
    503 with Retry-After. Other database errors are bugs, answered 500 and logged."""
    assert isinstance(error, DBAPIError)
    if not (isinstance(error, OperationalError) or error.connection_invalidated):
        return await _on_unexpected_error(request, error)
    # The message of a driver error can hold a connection URL; it is not logged or shown.
    log.warning("Database unavailable (%s); answered 503", type(error.orig).__name__)
    unavailable = errors.ServiceUnavailable(
        "The database is busy or unreachable; try again in a moment",
        DATABASE_RETRY_AFTER_SECONDS,
    )
    return error_response(unavailable)


async def unexpected_error_response(request: Request, error: Exception) -> Response:
    """What the application's handlers answer for an error that is not a domain error,
    for a route answered below the framework: a database outage 503, anything else 500
    (logged)."""
    if isinstance(error, DBAPIError):
        return await _on_database_error(request, error)
    return await _on_unexpected_error(request, error)


async def _on_unexpected_error(_request: Request, error: Exception) -> Response:
    log.exception("Unhandled error", exc_info=error)
    return JSONResponse({"message": "Internal server error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.PackyardError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(Exception, _on_unexpected_error)
