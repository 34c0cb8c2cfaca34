"""The failure limiter and the sign-in throttle, on a test clock: valid use is never
limited, a drained address stays drained whatever other addresses do (probe F20), and
sign-in delays grow per address and email without telling which emails exist (F4)."""

from __future__ import annotations

import pytest

from packyard.core.errors import RateLimited
from packyard.web.auth_limits import (
    FREE_SIGN_IN_FAILURES,
    MAX_TRACKED_CLIENTS,
    FailedAuthLimiter,
    SignInThrottle,
    client_key,
)

pytestmark = pytest.mark.backend_independent


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_drained_address_is_not_reset_by_many_other_addresses() -> None:
    limiter = FailedAuthLimiter(2, Clock())
    limiter.failed("198.51.100.7")
    limiter.failed("198.51.100.7")
    for n in range(MAX_TRACKED_CLIENTS + 10):
        limiter.failed(f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}")
    with pytest.raises(RateLimited):
        limiter.check("198.51.100.7")


def test_failures_past_the_budget_answer_429_until_it_refills() -> None:
    clock = Clock()
    limiter = FailedAuthLimiter(60, clock)  # one a second
    for _ in range(60):
        limiter.failed("192.0.2.1")
    with pytest.raises(RateLimited) as refused:
        limiter.failed("192.0.2.1")
    assert refused.value.retry_after >= 1
    limiter.check("192.0.2.2")  # another address is not affected
    clock.now += 3
    limiter.check("192.0.2.1")


def test_ipv6_addresses_share_their_64_block() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2")
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"


def test_sign_in_delays_grow_per_address_and_email() -> None:
    clock = Clock()
    throttle = SignInThrottle(clock)
    for _ in range(FREE_SIGN_IN_FAILURES):
        throttle.check("192.0.2.1", "ann@example.com")
        throttle.failed("192.0.2.1", "ann@example.com")
    waits = []
    for _ in range(4):
        with pytest.raises(RateLimited) as refused:
            throttle.check("192.0.2.1", "ann@example.com")
        waits.append(refused.value.retry_after)
        clock.now += refused.value.retry_after
        throttle.check("192.0.2.1", "ann@example.com")
        throttle.failed("192.0.2.1", "ann@example.com")
    assert waits == [1, 2, 4, 8]
    throttle.check("192.0.2.2", "ann@example.com")  # ann, from elsewhere: no wait
    throttle.check("192.0.2.1", "bob@example.com")  # another account: no wait
    throttle.succeeded("192.0.2.1", "ann@example.com")
    throttle.check("192.0.2.1", "ann@example.com")
