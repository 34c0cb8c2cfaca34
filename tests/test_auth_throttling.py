"""Failure limits an attacker cannot turn against users (security probe F3, F4, F5):
valid credentials are never refused, the limit keys on the real client address behind a
trusted proxy (and only a trusted one), sign-in failures are throttled per address and
per address and email with growing delays instead of an account lockout, an unknown email
is answered exactly as a real one, and sign-in failures spend the same per-address budget
as token failures."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.browser import PASSWORD, create_user
from tests.support.driver import Organization, new_organization
from tests.support.server import PackyardServer

BUDGET = 5  # failures per minute and address on the servers of this module


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[PackyardServer]:
    """A server allowing BUDGET failures a minute per address, trusting 127.0.0.1 as its
    proxy (as behind deploy/nginx.conf)."""
    env = {
        "PACKYARD_AUTH_FAILURES_PER_MINUTE": str(BUDGET),
        "PACKYARD_TRUSTED_PROXIES": "127.0.0.1",
    }
    server = backend.new_server(tmp_path_factory.mktemp("limited"), env)
    server.start()
    yield server
    server.stop()


def _forwarded(client: str) -> dict[str, str]:
    return {"X-Forwarded-For": client}


def _drain(url: str, headers: dict[str, str]) -> list[int]:
    return [
        httpx.get(url, auth=("x", f"pky_wrong{n}"), headers=headers).status_code
        for n in range(BUDGET + 2)
    ]


def test_valid_credentials_are_served_while_the_address_is_limited(
    limited: PackyardServer,
) -> None:
    org = new_organization(limited)
    registry = org.registry("Private")
    reader = org.token("read_packages", "read_registries")
    client = _forwarded("198.51.100.10")
    assert _drain(registry.simple_url, client)[-1] == 429
    assert httpx.get(registry.simple_url, auth=("x", reader), headers=client).status_code == 200
    rest = f"{limited.base_url}/v2/packages/organizations/{org.slug}/registries"
    bearer = {**client, "Authorization": f"Bearer {reader}"}
    assert httpx.get(rest, headers=bearer).status_code == 200
    wrong = httpx.get(registry.simple_url, auth=("x", "pky_wrong"), headers=client)
    assert wrong.status_code == 429
    assert int(wrong.headers["retry-after"]) >= 1


def test_the_limit_keys_on_the_address_a_trusted_proxy_forwards(
    limited: PackyardServer,
) -> None:
    registry = new_organization(limited).registry("Forwarded")
    assert _drain(registry.simple_url, _forwarded("198.51.100.20"))[-1] == 429
    other = httpx.get(
        registry.simple_url, auth=("x", "pky_wrong"), headers=_forwarded("198.51.100.21")
    )
    assert other.status_code == 401


def test_forwarded_addresses_are_ignored_from_untrusted_peers(
    yard: PackyardServer, org: Organization
) -> None:
    """The default server trusts no proxy: X-Forwarded-For cannot buy a fresh budget."""
    registry = org.registry("Untrusted")
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.9")) as client:
        statuses = [
            client.get(
                registry.simple_url, auth=("x", "pky_wrong"), headers=_forwarded(f"192.0.2.{n}")
            ).status_code
            for n in range(130)
        ]
    assert statuses[-1] == 429


def _csrf(client: httpx.Client, base: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"{base}/sign-in").text)
    assert found is not None
    return found.group(1)


def _attempts(base: str, email: str, passwords: list[str], client_address: str) -> list[str]:
    """Status and message of each sign-in attempt, from ``client_address``."""
    answers = []
    with httpx.Client(headers=_forwarded(client_address), timeout=60) as client:
        token = _csrf(client, base)
        for password in passwords:
            form = {"csrf_token": token, "email": email, "password": password, "next": "/"}
            response = client.post(f"{base}/sign-in", data=form)
            message = re.search(r'id="sign-in-error">([^<]*)<', response.text)
            answers.append(f"{response.status_code} {message.group(1) if message else ''}")
    return answers


def test_an_unknown_email_is_answered_as_a_real_one_at_every_attempt(
    yard: PackyardServer, org: Organization
) -> None:
    real = create_user(yard, org, admin=True, name="real")
    wrong = [f"wrong-{n}" for n in range(8)]
    for_real = _attempts(yard.base_url, real, wrong, "127.0.0.1")
    for_ghost = _attempts(yard.base_url, f"ghost@{org.slug}.example.com", wrong, "127.0.0.1")
    assert for_real == for_ghost
    assert for_real[0].startswith("401 ")
    assert for_real[-1].startswith("429 Too many failed sign-ins from this address")


def test_failed_sign_ins_never_lock_the_account_out_for_others(
    limited: PackyardServer,
) -> None:
    org = new_organization(limited)
    victim = create_user(limited, org, admin=True, name="victim")
    attacker = _attempts(limited.base_url, victim, ["wrong"] * 7, "203.0.113.66")
    assert attacker[-1].startswith("429")
    assert _attempts(limited.base_url, victim, [PASSWORD], "203.0.113.77") == ["303 "]


def test_the_delay_for_an_address_and_email_grows_and_passes(
    yard: PackyardServer, org: Organization
) -> None:
    email = create_user(yard, org, admin=False, name="patient")
    base, here = yard.base_url, "127.0.0.1"
    answers = _attempts(base, email, ["wrong"] * 6, here)
    assert answers[:5] == ["401 Wrong email or password."] * 5
    assert answers[5] == "429 Too many failed sign-ins from this address. Try again in 1 second."
    time.sleep(1.1)
    answers = _attempts(base, email, ["wrong", PASSWORD], here)
    assert answers == [
        "401 Wrong email or password.",
        "429 Too many failed sign-ins from this address. Try again in 2 seconds.",
    ]
    time.sleep(2.1)
    assert _attempts(base, email, [PASSWORD], here) == ["303 "]


def test_sign_in_failures_spend_the_address_budget_of_token_failures(
    limited: PackyardServer,
) -> None:
    org = new_organization(limited)
    registry = org.registry("Sprayed")
    address = "198.51.100.30"
    sprayed = [
        _attempts(limited.base_url, f"user{n}@spray.example", ["wrong"], address)[0]
        for n in range(BUDGET + 1)
    ]
    assert sprayed[0].startswith("401")
    assert sprayed[-1].startswith("429 Too many failed authentications from this address")
    token = httpx.get(registry.simple_url, auth=("x", "pky_wrong"), headers=_forwarded(address))
    assert token.status_code == 429
