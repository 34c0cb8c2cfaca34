"""Trusted publishing, two phases (PyPI's way): unmodified ``uv publish`` exchanges a
GitHub Actions OIDC token for a 15-minute upload token at /_/oidc/mint-token, over HTTPS
with a CA this test makes, and burns it afterwards. Refusals use Warehouse's codes."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.builders import Dist, write_wheel
from tests.support.clients import CLIENT_TIMEOUT_SECONDS, isolated_env, uv_executable
from tests.support.driver import Organization, Registry, api
from tests.support.oidc_issuer import REQUEST_TOKEN, OidcIssuer, registry_with_policy
from tests.support.server import PackyardServer
from tests.support.tls import TlsFiles, make_tls

GITHUB_CLAIMS = {
    "repository": "acme/app",
    "workflow_ref": "acme/app/.github/workflows/release.yml@refs/tags/v1.2.0",
    "ref": "refs/tags/v1.2.0",
    "sub": "repo:acme/app:ref:refs/tags/v1.2.0",
}


def github_policy(issuer: str, scopes: str = "[write_packages]") -> str:
    return f"""
- iss: {issuer}
  scopes: {scopes}
  claims:
    repository: acme/app
    workflow_ref:
      matches: "acme/app/.github/workflows/release.yml@*"
"""


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def issuer() -> Iterator[OidcIssuer]:
    with OidcIssuer(job_claims=dict(GITHUB_CLAIMS)) as running:
        yield running


@pytest.fixture(scope="module")
def yard(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend, issuer: OidcIssuer, tls: TlsFiles
) -> Iterator[PackyardServer]:
    server = backend.new_server(
        tmp_path_factory.mktemp("yard"), extra_env={"PACKYARD_OIDC_ISSUERS": issuer.url}
    )
    server.tls = (tls.certificate, tls.key)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(tls.ca))  # httpx in this process trusts the CA
        server.start()
        yield server
    server.stop()


@pytest.fixture
def client(tls: TlsFiles) -> Iterator[httpx.Client]:
    with httpx.Client(verify=ssl.create_default_context(cafile=tls.ca), timeout=30) as made:
        yield made


def trusting_registry(org: Organization, issuer: OidcIssuer, name: str, **kw: str) -> Registry:
    return registry_with_policy(org, name, github_policy(issuer.url, **kw))


def mint(client: httpx.Client, yard: PackyardServer, token: str) -> httpx.Response:
    return client.post(f"{yard.base_url}/_/oidc/mint-token", json={"token": token})


def test_uv_publishes_with_trusted_publishing_from_github_actions(
    yard: PackyardServer, org: Organization, issuer: OidcIssuer, tls: TlsFiles, tmp_path: Path
) -> None:
    admin = api(org, org.token("write_registries", "read_registries"))
    created = admin.create_registry("Released", public=True, oidc_policy=github_policy(issuer.url))
    registry = admin.registry(created["slug"])
    wheel = write_wheel(Dist("tp-uv", "1.2.0"), tmp_path)
    env = isolated_env(
        {
            "SSL_CERT_FILE": str(tls.ca),
            "GITHUB_ACTIONS": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": issuer.actions_request_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
        }
    )
    publish_url = f"{yard.base_url}/{org.slug}/{registry.slug}/pypi/legacy/"
    run = subprocess.run(
        [
            *(uv_executable(), "publish", "--trusted-publishing", "always"),
            *("--publish-url", publish_url, str(wheel)),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT_SECONDS,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    reader = org.token("read_packages")
    page = httpx.get(f"{registry.simple_url}tp-uv/", auth=("x", reader), timeout=30)
    assert "tp_uv-1.2.0-py3-none-any.whl" in page.text
    listed = httpx.get(registry.publish_url, headers={"Authorization": f"Bearer {reader}"})
    package_id = listed.json()["items"][0]["id"]
    described = f"GitHub Actions ({issuer.url}): acme/app, release.yml @ refs/tags/v1.2.0"
    details = httpx.get(
        f"{registry.publish_url}/{package_id}", headers={"Authorization": f"Bearer {reader}"}
    )
    assert details.json()["published_by"]["description"] == described
    ui = httpx.get(
        f"{yard.base_url}/organizations/{org.slug}/packages/registries/{registry.slug}"
        f"/packages/{package_id}"
    )
    assert described in ui.text


def test_the_audience_is_the_host_name(yard: PackyardServer, client: httpx.Client) -> None:
    answer = client.get(f"{yard.base_url}/_/oidc/audience")
    assert answer.json() == {"audience": "localhost"}


def test_a_minted_token_publishes_once_per_jti_and_burns(
    yard: PackyardServer, org: Organization, issuer: OidcIssuer, client: httpx.Client
) -> None:
    registry = trusting_registry(org, issuer, "Minted")
    jwt = issuer.token("localhost", GITHUB_CLAIMS)
    minted = mint(client, yard, jwt)
    assert minted.status_code == 200, minted.text
    body: dict[str, Any] = minted.json()
    assert body["success"] is True
    listing = f"{registry.publish_url}"
    headers = {"Authorization": f"Bearer {body['token']}"}
    # write_packages only: reading the list is refused, naming the scope.
    assert "read_packages" in client.get(listing, headers=headers).text

    reused = mint(client, yard, jwt)
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["code"] == "invalid-reuse-token"

    burned = client.post(f"{yard.base_url}/_/oidc/burn-token", json={"token": body["token"]})
    assert burned.status_code == 200
    after = client.get(listing, headers=headers)
    assert after.status_code == 401
    assert "burned" in after.text


def test_refused_exchanges_answer_warehouse_codes(
    yard: PackyardServer, org: Organization, issuer: OidcIssuer, client: httpx.Client
) -> None:
    trusting_registry(org, issuer, "Strict")
    cases = {
        "invalid-payload": client.post(f"{yard.base_url}/_/oidc/mint-token", content=b"{"),
        "invalid-token": mint(client, yard, issuer.token("elsewhere", GITHUB_CLAIMS)),
        "invalid-publisher": mint(
            client, yard, issuer.token("localhost", {**GITHUB_CLAIMS, "repository": "x/y"})
        ),
    }
    for code, answer in cases.items():
        assert answer.status_code == 422, (code, answer.text)
        body = answer.json()
        assert body["message"] == "Token request failed"
        assert body["errors"][0]["code"] == code, body
    legacy = client.post(
        f"{yard.base_url}/_/oidc/github/mint-token",
        json={"token": issuer.token("localhost", GITHUB_CLAIMS)},
    )
    assert legacy.status_code == 200, legacy.text
