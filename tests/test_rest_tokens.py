"""Registry tokens through the REST API (create, list, get, update, delete) and the
caller's own token (``/v2/access-token``)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.support.driver import Api, Organization
from tests.support.server import PackyardServer

_names = itertools.count()


def create_token(admin: Api, registry: str, description: str = "CI") -> dict[str, Any]:
    body: dict[str, Any] = admin.call(
        "POST", f"/registries/{registry}/tokens", json={"description": description}
    ).json()
    return body


def test_created_token_carries_its_secret_once(admin: Api, registry: str) -> None:
    created = create_token(admin, registry, "Usher")
    assert created["token"].startswith("pky_")
    assert created["description"] == "Usher"
    assert created["url"] == f"{admin.base}/registries/{registry}/tokens/{created['id']}"
    assert created["registry"]["slug"] == registry
    assert created["organization"]["slug"] == admin.organization
    assert created["last_used_at"] is None
    creator = admin.call("GET", "/v2/access-token").json()["uuid"]
    assert created["created_by"] == {"id": creator}
    shown = admin.call("GET", f"/registries/{registry}/tokens/{created['id']}").json()
    assert "token" not in shown
    assert shown == {key: value for key, value in created.items() if key != "token"}


def test_registry_token_reads_its_registry_and_nothing_else(admin: Api, registry: str) -> None:
    secret = create_token(admin, registry)["token"]
    index = admin.registry(registry)
    assert index.get("", secret).status_code == 200
    reader = Api(admin.yard, admin.organization, secret)
    reader.call("GET", f"/registries/{registry}/packages")
    other = admin.create_registry(f"Other {next(_names)}")["slug"]
    assert admin.registry(other).get("", secret).status_code == 403
    reader.call("GET", f"/registries/{other}/packages", expect=404)


def test_list_shows_the_registrys_tokens_oldest_first_without_secrets(
    admin: Api, registry: str
) -> None:
    first, second = create_token(admin, registry, "one"), create_token(admin, registry, "two")
    listed = admin.call("GET", f"/registries/{registry}/tokens").json()
    assert [token["id"] for token in listed] == [first["id"], second["id"]]
    assert all("token" not in token for token in listed)
    other = admin.create_registry(f"Empty {next(_names)}")["slug"]
    assert admin.call("GET", f"/registries/{other}/tokens").json() == []


@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_update_changes_the_description(admin: Api, registry: str, method: str) -> None:
    created = create_token(admin, registry, "before")
    path = f"/registries/{registry}/tokens/{created['id']}"
    assert admin.call(method, path, json={"description": "after"}).json()["description"] == "after"
    assert admin.call("GET", path).json()["description"] == "after"
    admin.call(method, path, json={"description": "x" * 1001}, expect=422)
    admin.call(method, path, json={}, expect=422)


def test_deleted_token_stops_working_at_once(admin: Api, registry: str) -> None:
    created = create_token(admin, registry)
    index = admin.registry(registry)
    assert index.get("", created["token"]).status_code == 200
    deleted = admin.call("DELETE", f"/registries/{registry}/tokens/{created['id']}").json()
    assert deleted == {"id": created["id"], "deleted": True}
    assert index.get("", created["token"]).status_code == 401
    admin.call("GET", f"/registries/{registry}/tokens/{created['id']}", expect=404)
    admin.call("DELETE", f"/registries/{registry}/tokens/{created['id']}", expect=404)


def test_last_used_at_is_recorded_when_the_token_is_used(admin: Api, registry: str) -> None:
    created = create_token(admin, registry)
    path = f"/registries/{registry}/tokens/{created['id']}"
    assert admin.call("GET", path).json()["last_used_at"] is None
    for _ in range(3):
        assert admin.registry(registry).get("", created["token"]).status_code == 200
    used = admin.call("GET", path).json()["last_used_at"]
    assert used is not None
    assert used >= created["created_at"]


def test_unknown_token_or_one_of_another_registry_is_404(admin: Api, registry: str) -> None:
    other = admin.create_registry(f"Elsewhere {next(_names)}")["slug"]
    foreign = create_token(admin, other)
    for token_id in (foreign["id"], "00000000-0000-0000-0000-000000000000"):
        path = f"/registries/{registry}/tokens/{token_id}"
        admin.call("GET", path, expect=404)
        admin.call("PATCH", path, json={"description": "x"}, expect=404)
        admin.call("DELETE", path, expect=404)
    admin.call("POST", "/registries/unknown/tokens", json={}, expect=404)


def test_access_token_describes_the_callers_token(organization: Organization) -> None:
    secret = organization.token("read_packages", "write_registries")
    body = Api(organization.yard, organization.slug, secret).call("GET", "/v2/access-token").json()
    assert body["scopes"] == ["read_packages", "write_registries"]
    assert set(body) == {"uuid", "scopes", "description", "created_at", "acts_for", "user_id"}
    assert (body["acts_for"], body["user_id"]) == ("organization", None)


def test_access_token_of_a_registry_token_has_no_scopes(admin: Api, registry: str) -> None:
    created = create_token(admin, registry, "reader")
    reader = Api(admin.yard, admin.organization, created["token"])
    body = reader.call("GET", "/v2/access-token").json()
    assert (body["uuid"], body["scopes"], body["description"]) == (created["id"], [], "reader")


def test_revoking_the_access_token_stops_it_at_once(organization: Organization) -> None:
    caller = Api(organization.yard, organization.slug, organization.token("read_registries"))
    caller.call("GET", "/registries")
    response = caller.call("DELETE", "/v2/access-token", expect=204)
    assert response.content == b""
    caller.call("GET", "/registries", expect=401)
    caller.call("GET", "/v2/access-token", expect=401)


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_access_token_without_a_credential_is_401(yard: PackyardServer, method: str) -> None:
    anonymous = Api(yard, "any", None)
    response = anonymous.call(method, "/v2/access-token", expect=401)
    assert response.json()["message"]
    Api(yard, "any", "pky_unknown").call(method, "/v2/access-token", expect=401)
