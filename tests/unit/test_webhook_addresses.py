"""A webhook is sent to the address that was checked, not to what its name resolves to a
moment later (DNS rebinding), with the name kept for the Host header and TLS."""

from __future__ import annotations

import socket

import pytest

from packyard.services.webhook_addresses import RefusedDestination, destination


def _addresses(name: str) -> list[str]:
    infos = socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def test_a_name_is_pinned_to_each_address_it_resolved_to() -> None:
    found = destination("http://hooks:s3cret@localhost:8025/path/x?y=1#frag", allow_private=True)
    expected = [
        f"http://hooks:s3cret@{f'[{a}]' if ':' in a else a}:8025/path/x?y=1"
        for a in _addresses("localhost")
    ]
    assert list(found.urls) == expected
    assert found.host_header == "localhost:8025"
    assert found.server_name == "localhost"


def test_an_address_literal_is_its_own_destination() -> None:
    found = destination("https://[::1]/hook", allow_private=True)
    assert found.urls == ("https://[::1]/hook",)
    assert (found.host_header, found.server_name) == ("[::1]", "::1")


@pytest.mark.parametrize(
    "url", ["http://localhost:9/hook", "http://127.0.0.1/hook", "http://169.254.169.254/"]
)
def test_private_destinations_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(RefusedDestination, match="public addresses only"):
        destination(url, allow_private=False)
    assert destination(url, allow_private=True).urls


def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(RefusedDestination, match="does not resolve"):
        destination("http://no-such-host.invalid/hook", allow_private=True)
