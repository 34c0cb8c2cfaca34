"""Work shared by requests that arrive together: SingleFlight's callers of one key share
one call, its result or its error, and run it again once it returned (``IndexPages``
renders a registry's project list once this way, however many requests ask for it)."""

from __future__ import annotations

import threading

import pytest

from packyard.services.single_flight import SingleFlight
from tests.support.waiting import eventually

pytestmark = pytest.mark.backend_independent

FOLLOWERS = 5


class _Blocked:
    """A call that counts its runs and returns only once released."""

    def __init__(self, result: object = None, error: Exception | None = None) -> None:
        self.runs = 0
        self.release = threading.Event()
        self._result = result
        self._error = error

    def __call__(self) -> object:
        self.runs += 1
        self.release.wait()
        if self._error is not None:
            raise self._error
        return self._result


def _callers(flight: SingleFlight[str, object], call: _Blocked) -> list[object]:
    """Start a leader and FOLLOWERS callers of "key"; once all share the flight, release
    it; returns what each got (a result or the exception raised)."""
    outcomes: list[object] = []
    lock = threading.Lock()

    def caller() -> None:
        try:
            outcome = flight.run("key", call)
        except Exception as error:
            outcome = error
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=caller) for _ in range(1 + FOLLOWERS)]
    for thread in threads:
        thread.start()
    eventually(
        lambda: flight.callers("key") == 1 + FOLLOWERS, 10, "the followers never joined the flight"
    )
    call.release.set()
    for thread in threads:
        thread.join()
    return outcomes


def test_callers_at_the_same_time_share_one_call_and_its_result() -> None:
    answer = object()
    call = _Blocked(result=answer)
    outcomes = _callers(SingleFlight(), call)
    assert call.runs == 1
    assert outcomes == [answer] * (1 + FOLLOWERS)
    assert all(outcome is answer for outcome in outcomes)


def test_the_calls_error_is_raised_in_every_caller() -> None:
    error = LookupError("the database is away")
    call = _Blocked(error=error)
    outcomes = _callers(SingleFlight(), call)
    assert call.runs == 1
    assert all(outcome is error for outcome in outcomes)


def test_a_call_after_the_flight_landed_runs_again() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    runs = iter(range(10))
    assert flight.run("key", lambda: next(runs)) == 0
    assert flight.run("key", lambda: next(runs)) == 1
    assert flight.callers("key") == 0


def test_different_keys_fly_apart() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    inner = flight.run("outer", lambda: flight.run("inner", lambda: "inner ran"))
    assert inner == "inner ran"
