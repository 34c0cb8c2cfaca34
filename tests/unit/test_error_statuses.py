"""The one table from domain errors to HTTP statuses: every error has a status, a subclass
without a row of its own answers as its parent does, and the headers a client needs
(Retry-After, Vary, WWW-Authenticate) come with them."""

from __future__ import annotations

import pytest

from packyard.core import errors
from packyard.web.errors import error_response, status_for


def _every_error() -> list[type[errors.PackyardError]]:
    found: list[type[errors.PackyardError]] = []
    pending = [errors.PackyardError]
    while pending:
        for subclass in pending.pop().__subclasses__():
            found.append(subclass)
            pending.append(subclass)
    return found


def _instance(error_type: type[errors.PackyardError]) -> errors.PackyardError:
    if issubclass(error_type, errors.RateLimited | errors.ServiceUnavailable):
        return error_type("Try again later", 7)
    if issubclass(error_type, errors.TokenExchangeFailed):
        return error_type("invalid-token", "OIDC token refused: it has expired")
    return error_type("What went wrong")


@pytest.mark.parametrize(
    ("error_type", "status"),
    [
        (errors.InvalidRequest, 400),
        (errors.InvalidDistribution, 400),
        (errors.Unauthenticated, 401),
        (errors.PermissionDenied, 403),
        (errors.NotFound, 404),
        (errors.NotAcceptable, 406),
        (errors.RequestTimeout, 408),
        (errors.Conflict, 409),
        (errors.TooLarge, 413),
        (errors.ValidationFailed, 422),
        (errors.RateLimited, 429),
        (errors.HeadersTooLarge, 431),
        (errors.UpstreamError, 502),
        (errors.ServiceUnavailable, 503),
        (errors.InsufficientStorage, 507),
    ],
)
def test_each_error_answers_its_status(error_type: type[errors.PackyardError], status: int) -> None:
    assert status_for(_instance(error_type)) == status


def test_no_domain_error_answers_500() -> None:
    assert all(status_for(_instance(error_type)) != 500 for error_type in _every_error())


def test_a_subclass_without_a_row_answers_as_its_parent() -> None:
    class StaleUpload(errors.RequestTimeout):
        pass

    assert status_for(StaleUpload("The upload went quiet")) == 408


def test_rate_limited_answers_say_when_to_retry() -> None:
    response = error_response(errors.RateLimited("Too many failed sign-ins", 90))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "90"


def test_not_acceptable_answers_vary_by_accept() -> None:
    response = error_response(errors.NotAcceptable("Offered: text/html"))
    assert response.status_code == 406
    assert response.headers["vary"] == "Accept"
    assert response.body == b'{"message":"Offered: text/html"}'
