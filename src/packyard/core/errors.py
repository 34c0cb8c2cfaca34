"""Domain errors raised by services and mapped to HTTP statuses once, in ``web.errors``.

The tree::

    PackyardError                 base of everything a client can be told about
    ├── Unauthenticated           no credentials, or credentials we do not recognise (401)
    ├── PermissionDenied          known credentials without the right scope (403)
    ├── RateLimited               too many failures: sign-ins or authentications (429)
    ├── NotFound                  unknown, or not visible to the caller (404)
    ├── NotAcceptable             no media type the client accepts is served (406)
    ├── InvalidRequest            the request itself is malformed (400)
    │   ├── InvalidDistribution   the uploaded file is not an acceptable distribution (400)
    │   ├── RequestTimeout        the client stopped sending the body (408)
    │   └── HeadersTooLarge       the request headers are past the limit (431)
    ├── Conflict                  clashes with what is already stored (409)
    ├── ValidationFailed          well-formed but unacceptable field values (422)
    │   └── TokenExchangeFailed   an OIDC token exchange refused, Warehouse's body (422)
    ├── TooLarge                  past a configured size limit (413)
    ├── UpstreamError             an upstream index (PyPI) failed or sent bad bytes (502)
    ├── ServiceUnavailable        the database is busy or unreachable for now (503)
    └── InsufficientStorage       the blob store has no room left (507)

To add an error, subclass the closest class here and give it a row in ``web.errors`` (a
subclass without a row of its own answers its parent's status).
"""

from __future__ import annotations


class PackyardError(Exception):
    """Base class: ``message`` is shown to the client as is, so it must help a person act."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(PackyardError):
    """The request carries no credentials, or credentials that match no live token."""


class PermissionDenied(PackyardError):
    """The caller is known but its token lacks the scope or the registry this needs."""


class RateLimited(PackyardError):
    """Too many failures (sign-ins for an account, authentications from an address);
    ``retry_after`` is in seconds, and the message says when to try again too."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotFound(PackyardError):
    """The thing does not exist, or the caller may not learn that it does."""


class NotAcceptable(PackyardError):
    """None of the media types the client's Accept header allows is served here."""


class InvalidRequest(PackyardError):
    """The request is malformed: a missing field, an unknown action, bad form data."""


class InvalidDistribution(InvalidRequest):
    """The uploaded file is not a wheel or sdist we can accept; the message names why."""


class RequestTimeout(InvalidRequest):
    """The client sent nothing for longer than the upload idle timeout."""


class HeadersTooLarge(InvalidRequest):
    """The request's headers together pass the configured limit."""


class Conflict(PackyardError):
    """The request clashes with stored state, such as a file name already taken by other bytes."""


class ValidationFailed(PackyardError):
    """Field values are unacceptable; ``errors`` lists each problem for the client."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [message]


class TokenExchangeFailed(ValidationFailed):
    """An OIDC token exchange (/_/oidc/mint-token) refused. ``code`` is Warehouse's
    (invalid-payload, invalid-token, invalid-publisher, invalid-reuse-token), so twine
    and the GitHub action print it; the body has Warehouse's shape."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__("Token request failed", [description])
        self.code = code
        self.description = description


class TooLarge(PackyardError):
    """The upload passed the configured size limit."""


class QuotaExceeded(TooLarge):
    """The file would take the registry past its storage quota (``quota_bytes``)."""


class UpstreamError(PackyardError):
    """An upstream index is unreachable with nothing cached, or sent what we refuse (such
    as bytes that do not match the hash it announced)."""


class InsufficientStorage(PackyardError):
    """The blob store or staging area ran out of space."""


class ServiceUnavailable(PackyardError):
    """A dependency (the database) is busy or unreachable; ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after
