"""Every scope against every REST endpoint: allowed (200) or 403, from one table. A token
of another organization gets 404 everywhere (existence does not leak), no credential 401,
and a registry token reads its own registry's packages and nothing more."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.builders import Dist, write_wheel
from tests.support.driver import Api, api, new_organization
from tests.support.rest import ALL_SCOPES
from tests.support.server import PackyardServer

_unique = itertools.count()


@dataclass
class World:
    admin: Api
    callers: dict[str, Api]
    registry: str
    destination: str
    package_id: str
    token_id: str
    files: Path

    def fresh_registry(self) -> str:
        slug: str = self.admin.create_registry(f"Fresh {next(_unique)}")["slug"]
        return slug

    def fresh_wheel(self) -> Path:
        return write_wheel(Dist(f"fresh-{next(_unique)}", "1.0"), self.files)

    def fresh_package(self) -> str:
        package_id: str = self.admin.publish(self.registry, self.fresh_wheel()).json()["id"]
        return package_id

    def fresh_token(self) -> str:
        token_id: str = self.admin.call(
            "POST", f"/registries/{self.registry}/tokens", json={"description": "fresh"}
        ).json()["id"]
        return token_id


@pytest.fixture(scope="module")
def world(yard: PackyardServer, tmp_path_factory: pytest.TempPathFactory) -> World:
    organization = new_organization(yard, "scopes")
    admin = api(organization, organization.token(*ALL_SCOPES))
    files = tmp_path_factory.mktemp("scope-files")
    registry = admin.create_registry("Main")["slug"]
    destination = admin.create_registry("Destination")["slug"]
    package_id = admin.publish(registry, write_wheel(Dist("scoped", "1.0"), files)).json()["id"]
    created = admin.call("POST", f"/registries/{registry}/tokens", json={}).json()
    callers = {scope: api(organization, organization.token(scope)) for scope in ALL_SCOPES}
    callers["read_packages+write_packages"] = api(
        organization, organization.token("read_packages", "write_packages")
    )
    callers["registry token"] = api(organization, created["token"])
    stranger = new_organization(yard, "stranger")
    callers["other organization"] = Api(yard, organization.slug, stranger.token(*ALL_SCOPES))
    callers["no credential"] = Api(yard, organization.slug, None)
    return World(admin, callers, registry, destination, package_id, created["id"], files)


Call = Callable[[World, Api], httpx.Response]


def _registry_update(method: str) -> Call:
    return lambda w, c: c.call(
        method, f"/registries/{w.registry}", json={"description": "changed"}, expect=None
    )


def _token_update(method: str) -> Call:
    return lambda w, c: c.call(
        method,
        f"/registries/{w.registry}/tokens/{w.token_id}",
        json={"description": "changed"},
        expect=None,
    )


def _send_publish(w: World, c: Api) -> httpx.Response:
    wheel = w.fresh_wheel()
    with wheel.open("rb") as handle:
        return c.call(
            "POST",
            f"/registries/{w.registry}/packages",
            files={"file": (wheel.name, handle)},
            expect=None,
        )


# endpoint -> (scopes it needs, whether a registry token may call it, the call)
ENDPOINTS: dict[str, tuple[frozenset[str], bool, Call]] = {
    "create registry": (
        frozenset({"write_registries"}),
        False,
        lambda w, c: c.call(
            "POST",
            "/registries",
            json={"name": f"Created {next(_unique)}", "ecosystem": "python"},
            expect=None,
        ),
    ),
    "list registries": (
        frozenset({"read_registries"}),
        False,
        lambda w, c: c.call("GET", "/registries", expect=None),
    ),
    "get registry": (
        frozenset({"read_registries"}),
        False,
        lambda w, c: c.call("GET", f"/registries/{w.registry}", expect=None),
    ),
    "update registry (PATCH)": (frozenset({"write_registries"}), False, _registry_update("PATCH")),
    "update registry (POST)": (frozenset({"write_registries"}), False, _registry_update("POST")),
    "delete registry": (
        frozenset({"delete_registries"}),
        False,
        lambda w, c: c.call("DELETE", f"/registries/{w.fresh_registry()}", expect=None),
    ),
    "publish package": (frozenset({"write_packages"}), False, _send_publish),
    "list packages": (
        frozenset({"read_packages"}),
        True,
        lambda w, c: c.call("GET", f"/registries/{w.registry}/packages", expect=None),
    ),
    "get package": (
        frozenset({"read_packages"}),
        True,
        lambda w, c: c.call(
            "GET", f"/registries/{w.registry}/packages/{w.package_id}", expect=None
        ),
    ),
    "delete package": (
        frozenset({"delete_packages"}),
        False,
        lambda w, c: c.call(
            "DELETE", f"/registries/{w.registry}/packages/{w.fresh_package()}", expect=None
        ),
    ),
    "copy package": (
        frozenset({"read_packages", "write_packages"}),
        False,
        lambda w, c: c.call(
            "POST",
            f"/registries/{w.registry}/packages/{w.package_id}/copy?to={w.destination}",
            expect=None,
        ),
    ),
    "create registry token": (
        frozenset({"write_registries"}),
        False,
        lambda w, c: c.call("POST", f"/registries/{w.registry}/tokens", json={}, expect=None),
    ),
    "list registry tokens": (
        frozenset({"write_registries"}),
        False,
        lambda w, c: c.call("GET", f"/registries/{w.registry}/tokens", expect=None),
    ),
    "get registry token": (
        frozenset({"write_registries"}),
        False,
        lambda w, c: c.call("GET", f"/registries/{w.registry}/tokens/{w.token_id}", expect=None),
    ),
    "update registry token (PATCH)": (
        frozenset({"write_registries"}),
        False,
        _token_update("PATCH"),
    ),
    "update registry token (POST)": (frozenset({"write_registries"}), False, _token_update("POST")),
    "delete registry token": (
        frozenset({"write_registries"}),
        False,
        lambda w, c: c.call(
            "DELETE", f"/registries/{w.registry}/tokens/{w.fresh_token()}", expect=None
        ),
    ),
}

# Endpoints whose call also names a registry other than the registry token's own.
_OTHER_REGISTRY = frozenset({"delete registry", "copy package"})
CALLERS = [*ALL_SCOPES, "read_packages+write_packages", "registry token"]


def _expected(caller: str, endpoint: str) -> int:
    needed, registry_token_may, _ = ENDPOINTS[endpoint]
    if caller == "registry token":
        if endpoint in _OTHER_REGISTRY:
            return 404  # registries other than its own are invisible to it
        return 200 if registry_token_may else 403
    return 200 if needed <= set(caller.split("+")) else 403


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("caller", CALLERS)
def test_scope_allows_or_forbids_endpoint(world: World, caller: str, endpoint: str) -> None:
    response = ENDPOINTS[endpoint][2](world, world.callers[caller])
    assert response.status_code == _expected(caller, endpoint), response.text
    if response.status_code == 403:
        assert "scope" in response.json()["message"] or "read-only" in response.json()["message"]


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_token_of_another_organization_gets_404(world: World, endpoint: str) -> None:
    response = ENDPOINTS[endpoint][2](world, world.callers["other organization"])
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_no_credential_gets_401(world: World, endpoint: str) -> None:
    response = ENDPOINTS[endpoint][2](world, world.callers["no credential"])
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"]


def test_other_organization_and_unknown_names_answer_alike(world: World) -> None:
    stranger = world.callers["other organization"]
    real = stranger.call("GET", f"/registries/{world.registry}", expect=404).json()
    made_up = stranger.call("GET", "/registries/made-up", expect=404).json()
    assert real["message"].replace(world.registry, "X") == made_up["message"].replace(
        "made-up", "X"
    )
    own_org = stranger.call("GET", "/v2/access-token").json()
    assert own_org["uuid"]


@pytest.mark.parametrize("caller", CALLERS)
def test_every_token_may_read_itself(world: World, caller: str) -> None:
    world.callers[caller].call("GET", "/v2/access-token")
