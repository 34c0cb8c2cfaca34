"""Absolute URLs cannot be steered by the Host header, cookies are Secure behind TLS, and
every response carries the headers that keep caches and browsers honest (security probe
F6, F7, F11, F17)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.builders import Dist, write_sdist
from tests.support.driver import Organization, api, new_organization
from tests.support.server import PackyardServer

PUBLIC_NAME = "packages.example.com"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[PackyardServer]:
    """A server behind a TLS-terminating proxy at 127.0.0.1, answering to PUBLIC_NAME."""
    env = {"PACKYARD_TRUSTED_PROXIES": "127.0.0.1", "PACKYARD_ALLOWED_HOSTS": PUBLIC_NAME}
    server = backend.new_server(tmp_path_factory.mktemp("proxied"), env)
    server.start()
    yield server
    server.stop()


def test_a_foreign_host_answers_400_and_steers_no_url(
    yard: PackyardServer, org: Organization
) -> None:
    org.registry("Open", public=True)
    token = org.token("read_registries")
    rest = f"{yard.base_url}/v2/packages/organizations/{org.slug}/registries"
    page = f"{yard.base_url}/organizations/{org.slug}/packages/registries/open"
    for url, headers in [(rest, {"Authorization": f"Bearer {token}"}), (page, {})]:
        refused = httpx.get(url, headers={**headers, "Host": "attacker.example"})
        assert refused.status_code == 400
        assert "PACKYARD_ALLOWED_HOSTS" in refused.json()["message"]
        assert "attacker.example" not in refused.headers.get("location", "")
    listed = httpx.get(rest, headers={"Authorization": f"Bearer {token}", "Host": "localhost"})
    assert listed.status_code == 200
    assert listed.json()[0]["url"].startswith("http://localhost/")


def test_allowed_hosts_replace_the_defaults(proxied: PackyardServer) -> None:
    org = new_organization(proxied)
    org.registry("Open", public=True)
    token = org.token("read_registries")
    rest = f"{proxied.base_url}/v2/packages/organizations/{org.slug}/registries"
    auth = {"Authorization": f"Bearer {token}"}
    named = httpx.get(rest, headers={**auth, "Host": PUBLIC_NAME, "X-Forwarded-Proto": "https"})
    assert named.status_code == 200
    assert named.json()[0]["url"].startswith(f"https://{PUBLIC_NAME}/")
    assert httpx.get(rest, headers={**auth, "Host": "localhost"}).status_code == 400


def test_cookies_are_secure_behind_a_trusted_tls_proxy(
    proxied: PackyardServer, yard: PackyardServer
) -> None:
    https = {"Host": PUBLIC_NAME, "X-Forwarded-Proto": "https"}
    behind_tls = httpx.get(f"{proxied.base_url}/sign-in", headers=https)
    assert "secure" in behind_tls.headers["set-cookie"].lower()
    untrusted = httpx.get(f"{yard.base_url}/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in untrusted.headers["set-cookie"].lower()


def test_every_response_says_nosniff_and_rest_is_not_stored(
    yard: PackyardServer, org: Organization, tmp_path: Path
) -> None:
    public = org.registry("Public files", public=True)
    private = org.registry("Private files")
    writer = org.token("read_packages", "write_packages", "write_registries")
    sdist = write_sdist(Dist("sniffed", "1.0"), tmp_path)
    public.publish(sdist, writer)
    private.publish(sdist, writer)
    created = api(org, writer).call(
        "POST", f"/registries/{private.slug}/tokens", json={"description": "ci"}
    )
    responses = {
        "token": created,
        "public file": public.get(f"../files/{sdist.name}"),
        "private index": private.get("", writer),
        "private file": private.get(f"../files/{sdist.name}", writer),
        "static": httpx.get(f"{yard.base_url}/static/ui.js"),
        "missing": httpx.get(f"{yard.base_url}/nothing-here"),
    }
    for name, response in responses.items():
        assert response.headers.get("x-content-type-options") == "nosniff", name
    assert created.headers["cache-control"] == "no-store"
    assert responses["private index"].headers["cache-control"] == "private, no-cache"
    assert responses["private file"].headers["cache-control"].startswith("private")
    shared = responses["public file"].headers["cache-control"]
    assert "s-maxage=300" in shared
    assert responses["public file"].headers["content-type"] == "application/gzip"
