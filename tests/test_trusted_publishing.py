"""Trusted publishing, one phase (Buildkite's way): a CI job's OIDC token, checked against
the registry's policy, publishes and reads with no long-lived secret. The issuer is a
loopback one with keys made here (tests/support/oidc_issuer.py). Policies are set over
REST, with the CLI and on the Settings tab in the browser."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from tests.support.backends import Backend
from tests.support.browser import PASSWORD, browser, create_user, new_page, screenshot, sign_in
from tests.support.builders import Dist, write_wheel
from tests.support.driver import Organization, Registry, api, new_organization
from tests.support.oidc_issuer import OidcIssuer, registry_with_policy, rsa_key, server_trusting
from tests.support.server import PackyardServer

__all__ = ["browser"]  # the fixture, imported for this module

BUILDKITE_CLAIMS = {
    "organization_slug": "acme",
    "pipeline_slug": "app",
    "build_branch": "main",
    "build_number": 42,
    "sub": "organization:acme:pipeline:app:ref:refs/heads/main",
}


def policy(issuer: str, scopes: str = "[read_packages, write_packages]") -> str:
    return f"""
- iss: {issuer}
  scopes: {scopes}
  claims:
    organization_slug: acme
    pipeline_slug:
      in: [app, tools]
    build_branch:
      matches: "ma*"
"""


@pytest.fixture(scope="module")
def issuer() -> Iterator[OidcIssuer]:
    with OidcIssuer() as running:
        yield running


@pytest.fixture(scope="module")
def yard(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend, issuer: OidcIssuer
) -> Iterator[PackyardServer]:
    with server_trusting(backend, tmp_path_factory.mktemp("yard"), issuer) as server:
        yield server


def trusting_registry(org: Organization, issuer: OidcIssuer, name: str, **kw: str) -> Registry:
    return registry_with_policy(org, name, policy(issuer.url, **kw))


def audience(registry: Registry) -> str:
    return f"{registry.yard.base_url}/{registry.organization}/{registry.slug}"


def wheel(tmp_path: Path, name: str = "tp-demo") -> Path:
    return write_wheel(Dist(name, "1.0"), tmp_path)


def test_a_buildkite_token_publishes_and_reads_with_no_stored_secret(
    org: Organization, issuer: OidcIssuer, tmp_path: Path
) -> None:
    registry = trusting_registry(org, issuer, "Trusted")
    token = issuer.token(audience(registry), BUILDKITE_CLAIMS)

    published = registry.publish(wheel(tmp_path), token).json()

    page = registry.get("tp-demo/", token)
    assert page.status_code == 200
    assert "tp_demo-1.0-py3-none-any.whl" in page.text
    listed = httpx.get(registry.publish_url, headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    assert [p["name"] for p in listed.json()["items"]] == ["tp-demo"]
    details = httpx.get(
        f"{registry.publish_url}/{published['id']}",
        headers={"Authorization": f"Bearer {org.token('read_packages')}"},
    ).json()
    assert details["published_by"] == {
        "issuer": issuer.url,
        "claims": {
            "pipeline_slug": "app",
            "build_number": "42",
            "organization_slug": "acme",
            "sub": BUILDKITE_CLAIMS["sub"],
        },
        "description": f"{issuer.url}: acme/app build 42",
    }


def test_an_es256_token_with_several_audiences_is_accepted_as_the_upload_api_password(
    org: Organization, issuer: OidcIssuer, tmp_path: Path
) -> None:
    registry = trusting_registry(org, issuer, "Legacy upload")
    # aud may be a list: the URL of this registry is among them.
    audiences = ["https://elsewhere.example/acme/app", audience(registry)]
    token = issuer.token(audiences, BUILDKITE_CLAIMS, key=issuer.keys[1])
    path = wheel(tmp_path)
    with path.open("rb") as handle:
        response = httpx.post(
            f"{org.yard.base_url}/{org.slug}/{registry.slug}/pypi/legacy/",
            auth=("buildkite", token),
            data={":action": "file_upload", "protocol_version": "1"},
            files={"content": (path.name, handle)},
            timeout=60,
        )
    assert response.status_code == 200, response.text


def test_the_policy_is_shown_and_a_broken_one_is_refused_with_its_line(
    org: Organization, issuer: OidcIssuer
) -> None:
    admin = api(org, org.token("write_registries", "read_registries"))
    created = admin.create_registry("Shown", oidc_policy=policy(issuer.url))
    assert created["oidc_policy"] == policy(issuer.url)

    refused = admin.call(
        "PATCH",
        f"/registries/{created['slug']}",
        json={"oidc_policy": "- iss: x\n  scopes: &s [write_packages]\n"},
        expect=422,
    )
    assert "line 2" in refused.text
    assert "anchors" in refused.text
    shown = admin.call("GET", f"/registries/{created['slug']}").json()
    assert shown["oidc_policy"] == policy(issuer.url)


def refusal_cases(issuer: OidcIssuer, aud: str, other_aud: str) -> dict[str, tuple[str, str]]:
    """Each bad token with the words the refusal must contain."""
    now = time.time()
    stranger = rsa_key("rsa-1")  # the issuer's key id, another key: a forged signature
    return {
        "wrong audience": (issuer.token(aud + "-x", BUILDKITE_CLAIMS), "audience"),
        "expired": (issuer.token(aud, BUILDKITE_CLAIMS, issued=now - 600), "expired"),
        "not yet valid": (
            issuer.token(aud, BUILDKITE_CLAIMS, not_before=now + 600),
            "not valid yet",
        ),
        "unknown issuer": (
            issuer.token(aud, BUILDKITE_CLAIMS, issuer="https://evil.example"),
            "issuer",
        ),
        "unknown key": (issuer.token(aud, BUILDKITE_CLAIMS, key=rsa_key("nobody")), "key id"),
        "bad signature": (issuer.token(aud, BUILDKITE_CLAIMS, key=stranger), "signature"),
        "no statement matches": (
            issuer.token(aud, {**BUILDKITE_CLAIMS, "pipeline_slug": "other"}),
            "match no statement",
        ),
        "lives too long": (issuer.token(aud, BUILDKITE_CLAIMS, lifetime=3600), "5 minutes"),
        "another registry": (issuer.token(other_aud, BUILDKITE_CLAIMS), "another registry"),
    }


def test_each_bad_token_is_refused_naming_the_check_and_no_policy(
    org: Organization, issuer: OidcIssuer, tmp_path: Path
) -> None:
    registry = trusting_registry(org, issuer, "Guarded")
    other = trusting_registry(org, issuer, "Other")
    path = wheel(tmp_path)
    for case, (token, words) in refusal_cases(issuer, audience(registry), audience(other)).items():
        expect = 403 if case == "another registry" else 401
        with path.open("rb") as handle:
            response = httpx.post(
                f"{org.yard.base_url}/{org.slug}/{registry.slug}/pypi/legacy/",
                auth=("buildkite", token),
                files={"content": (path.name, handle)},
                timeout=60,
            )
        assert response.status_code == expect, (case, response.status_code, response.text)
        assert words in response.text, (case, response.text)
        assert "pipeline_slug" not in response.text, case
        assert "tools" not in response.text, case


def test_a_statement_without_write_packages_may_read_but_not_publish(
    org: Organization, issuer: OidcIssuer, tmp_path: Path
) -> None:
    registry = trusting_registry(org, issuer, "Read only", scopes="[read_packages]")
    token = issuer.token(audience(registry), BUILDKITE_CLAIMS)
    refused = registry.publish(wheel(tmp_path), token, expect=403)
    assert "write_packages" in refused.text
    assert registry.get("", token).status_code == 200


def test_a_second_organization_sees_nothing_of_the_first(
    yard: PackyardServer, org: Organization, issuer: OidcIssuer, tmp_path: Path
) -> None:
    registry = trusting_registry(org, issuer, "Private")
    token = issuer.token(audience(registry), BUILDKITE_CLAIMS)
    outsider = new_organization(yard)
    theirs = outsider.registry("Theirs")
    refused: Any = httpx.get(theirs.publish_url, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 404


def test_the_cli_sets_a_policy_on_create_and_update_and_refuses_a_broken_one(
    yard: PackyardServer, org: Organization, issuer: OidcIssuer, tmp_path: Path
) -> None:
    good = tmp_path / "policy.yml"
    good.write_text(policy(issuer.url, scopes="[read_packages]"))
    slug = yard.cli("registry", "create", org.slug, "From CLI", "--oidc-policy", str(good))
    registry = Registry(yard, org.slug, slug.stdout.strip())
    token = issuer.token(audience(registry), BUILDKITE_CLAIMS)
    registry.publish(wheel(tmp_path), token, expect=403)

    good.write_text(policy(issuer.url))
    yard.cli("registry", "update", org.slug, registry.slug, "--oidc-policy", str(good))
    registry.publish(wheel(tmp_path), token)

    broken = tmp_path / "broken.yml"
    broken.write_text("- iss: x\n  scopes: [write_packages]\n  claims: {a: *b}\n")
    refused = yard.cli(
        "registry", "update", org.slug, registry.slug, "--oidc-policy", str(broken), check=False
    )
    assert refused.returncode != 0
    assert "line 3" in refused.stderr, refused.stderr
    assert "aliases" in refused.stderr


def test_the_policy_written_on_the_settings_tab_lets_ci_publish(
    yard: PackyardServer, browser: Browser, issuer: OidcIssuer, tmp_path: Path
) -> None:
    org = new_organization(yard, "uioidc")
    registry = org.registry("Releases")
    page = new_page(browser)
    sign_in(page, yard.base_url, create_user(yard, org, admin=True), PASSWORD)
    settings = (
        f"{yard.base_url}/organizations/{org.slug}/packages/registries/{registry.slug}?tab=settings"
    )
    page.goto(settings)
    page.fill("#oidc-policy", "- iss: x\n  scopes: [write_packages]\n  claims: {a: !tag b}\n")
    page.click("#trusted-publishing button:has-text('Save policy')")
    assert "line 3" in page.content()
    screenshot(page, "trusted-publishing-refused")

    policy = (
        f"- iss: {issuer.url}\n  scopes: [write_packages]\n  claims:\n    repository: acme/app\n"
    )
    page.goto(settings)
    page.fill("#oidc-policy", policy)
    page.click("#trusted-publishing button:has-text('Save policy')")
    page.goto(settings)
    assert "repository: acme/app" in page.input_value("#oidc-policy")
    page.context.close()

    aud = f"{yard.base_url}/{org.slug}/{registry.slug}"
    token = issuer.token(aud, {"repository": "acme/app"})
    registry.publish(write_wheel(Dist("ui-trusted", "1.0"), tmp_path), token)
