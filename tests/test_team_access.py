"""Teams and access levels, as docs/security.md's table "Teams and access levels" states:
every REST, upload, index and file route x every kind of caller (people of each standing
through tokens acting for them, an organization token, a registry token, no credential)
x teams on and off. A private registry a caller may not reach answers exactly as one that
does not exist (404; 401 without a credential)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.builders import Dist, write_wheel
from tests.support.driver import Api, api, new_organization
from tests.support.server import PackyardServer
from tests.support.teams import People, org_call, people, user_token
from tests.support.uploads import form_for

CALLERS = (
    "admin",
    "maintainer",
    "full",
    "read_and_write",
    "read_only",
    "no_team_access",
    "organization_token",
    "registry_token",
    "anonymous",
)
_unique = itertools.count()


@dataclass
class World:
    yard: PackyardServer
    on: People
    off: People
    files: Path
    registry_tokens: dict[bool, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[World]:
    yard = backend.new_server(tmp_path_factory.mktemp("teams"))
    yard.start()
    files = tmp_path_factory.mktemp("team-files")
    on = people(new_organization(yard, "teams-on"), "Private", teams_enabled=True)
    off = people(new_organization(yard, "teams-off"), "Private", teams_enabled=False)
    for side in (on, off):
        side.root.publish(side.registry.slug, write_wheel(Dist("present", "1.0"), files))
        org_call(side.root, "POST", "/teams", expect=201, json={"name": "spare"})
    tokens = {True: on.registry.token(), False: off.registry.token()}
    yield World(yard, on, off, files, tokens)
    yard.stop()


def _caller(world: World, side: People, caller: str) -> Api:
    if caller == "organization_token":
        return side.root
    if caller == "registry_token":
        return api(side.organization, world.registry_tokens[side is world.on])
    if caller == "anonymous":
        return api(side.organization, None)
    return side.as_person(caller)


Route = Callable[[World, People, Api], int]


def _fresh_wheel(world: World) -> Path:
    return write_wheel(Dist(f"fresh-{next(_unique)}", "1.0"), world.files)


def _rest(method: str, path: str, **kwargs: Any) -> Route:
    def call(world: World, side: People, caller: Api) -> int:
        url = path.format(registry=side.registry.slug, spare="spare", org=side.organization.slug)
        return caller.call(method, url, expect=None, **kwargs).status_code

    return call


def _listed(world: World, side: People, caller: Api) -> int:
    """200 when the registry is in the caller's list, 404 when it is left out."""
    response = caller.call("GET", "/registries", expect=None)
    if response.status_code != 200:
        return response.status_code
    slugs = {r["slug"] for r in response.json()}
    return 200 if side.registry.slug in slugs else 404


def _found_by_search(world: World, side: People, caller: Api) -> int:
    """200 when search finds the registry's project, 404 when it leaves it out."""
    response = caller.call("GET", "/search", expect=None, params={"q": "present"})
    if response.status_code != 200:
        return response.status_code
    registries = {r["registry"] for r in response.json()}
    return 200 if side.registry.slug in registries else 404


def _publish(world: World, side: People, caller: Api) -> int:
    path = _fresh_wheel(world)
    files = {"file": (path.name, path.read_bytes())}
    url = f"/registries/{side.registry.slug}/packages"
    return caller.call("POST", url, expect=None, files=files).status_code


def _upload(world: World, side: People, caller: Api) -> int:
    path = _fresh_wheel(world)
    name = path.name.split("-")[0]
    auth = ("__token__", caller.token) if caller.token else None
    response = httpx.post(
        f"{side.registry.yard.base_url}/{side.organization.slug}/{side.registry.slug}/pypi/",
        data=dict(form_for(path, name, "1.0")),
        files={"content": (path.name, path.read_bytes())},
        auth=auth,
        timeout=60,
    )
    return response.status_code


def _create_registry(world: World, side: People, caller: Api) -> int:
    body = {"name": f"made {next(_unique)}", "ecosystem": "python"}
    return caller.call("POST", "/registries", expect=None, json=body).status_code


def _delete_package(world: World, side: People, caller: Api) -> int:
    package_id = side.root.publish(side.registry.slug, _fresh_wheel(world)).json()["id"]
    url = f"/registries/{side.registry.slug}/packages/{package_id}"
    return caller.call("DELETE", url, expect=None).status_code


def _index(path: str) -> Route:
    def call(world: World, side: People, caller: Api) -> int:
        return side.registry.get(path, caller.token).status_code

    return call


def _create_team(world: World, side: People, caller: Api) -> int:
    url = f"/v2/organizations/{side.organization.slug}/teams"
    body = {"name": f"made {next(_unique)}"}
    return caller.call("POST", url, expect=None, json=body).status_code


ORG = "/v2/organizations/{org}"
# route -> the answers for CALLERS in order, with teams on and with teams off.
# (Read it as docs/security.md's table; "-" answers are 404: not visible.)
TABLE: dict[str, tuple[Route, str, str]] = {
    "GET registry": (
        _rest("GET", "/registries/{registry}"),
        "200 200 200 200 200 404 200 403 401",
        "200 200 200 200 200 200 200 403 401",
    ),
    "GET registries lists it": (
        _listed,
        "200 200 200 200 200 404 200 403 401",
        "200 200 200 200 200 200 200 403 401",
    ),
    "PATCH registry": (
        _rest("PATCH", "/registries/{registry}", json={"description": "changed"}),
        "200 403 200 403 403 404 200 403 401",
        "200 403 403 403 403 403 200 403 401",
    ),
    "GET registry tokens": (
        _rest("GET", "/registries/{registry}/tokens"),
        "200 403 200 403 403 404 200 403 401",
        "200 403 403 403 403 403 200 403 401",
    ),
    "publish (REST)": (
        _publish,
        "200 403 200 200 403 404 200 403 401",
        "200 200 200 200 200 200 200 403 401",
    ),
    "upload (upload API)": (
        _upload,
        "200 403 200 200 403 404 200 403 401",
        "200 200 200 200 200 200 200 403 401",
    ),
    "search finds its project": (
        _found_by_search,
        "200 200 200 200 200 404 200 200 401",
        "200 200 200 200 200 200 200 200 401",
    ),
    "GET packages": (
        _rest("GET", "/registries/{registry}/packages"),
        "200 200 200 200 200 404 200 200 401",
        "200 200 200 200 200 200 200 200 401",
    ),
    "DELETE package": (
        _delete_package,
        "200 403 200 403 403 404 200 403 401",
        "200 403 403 403 403 403 200 403 401",
    ),
    "index root": (
        _index(""),
        "200 200 200 200 200 404 200 200 401",
        "200 200 200 200 200 200 200 200 401",
    ),
    "index project": (
        _index("present/"),
        "200 200 200 200 200 404 200 200 401",
        "200 200 200 200 200 200 200 200 401",
    ),
    "file download": (
        _index("../files/present-1.0-py3-none-any.whl"),
        "200 200 200 200 200 404 200 200 401",
        "200 200 200 200 200 200 200 200 401",
    ),
    "GET registry webhooks": (
        _rest("GET", "/registries/{registry}/webhooks"),
        "200 403 200 403 403 404 200 403 401",
        "200 403 403 403 403 403 200 403 401",
    ),
    "GET organization webhooks": (
        _rest("GET", ORG + "/webhooks"),
        "200 403 403 403 403 403 200 403 401",
        "200 403 403 403 403 403 200 403 401",
    ),
    "GET registry teams": (
        _rest("GET", "/registries/{registry}/teams"),
        "200 200 200 200 200 404 200 403 401",
        "200 200 200 200 200 200 200 403 401",
    ),
    "PUT registry team (grant)": (
        _rest("PUT", "/registries/{registry}/teams/{spare}", json={"access_level": "read_only"}),
        "200 403 403 403 403 404 200 403 401",
        "200 403 403 403 403 403 200 403 401",
    ),
    "GET teams": (
        _rest("GET", ORG + "/teams"),
        "200 200 200 200 200 200 200 403 401",
        "200 200 200 200 200 200 200 403 401",
    ),
    "POST team": (
        _create_team,
        "201 403 403 403 403 403 201 403 401",
        "201 403 403 403 403 403 201 403 401",
    ),
    "PATCH team (readers)": (
        _rest("PATCH", ORG + "/teams/readers", json={"description": "read only"}),
        "200 200 403 403 403 403 200 403 401",
        "200 200 403 403 403 403 200 403 401",
    ),
    "GET organization users": (
        _rest("GET", ORG + "/users"),
        "200 403 403 403 403 403 200 403 401",
        "200 403 403 403 403 403 200 403 401",
    ),
    "PATCH organization": (
        _rest("PATCH", ORG, json={"members_can_create_registries": True}),
        "200 403 403 403 403 403 200 403 401",
        "200 403 403 403 403 403 200 403 401",
    ),
    "POST registry": (
        _create_registry,
        "200 200 200 200 200 200 200 403 401",
        "200 200 200 200 200 200 200 403 401",
    ),
}


def _expected(row: str) -> dict[str, int]:
    return dict(zip(CALLERS, (int(s) for s in row.split()), strict=True))


@pytest.mark.parametrize("teams_enabled", [True, False], ids=["teams-on", "teams-off"])
@pytest.mark.parametrize("route", list(TABLE))
def test_every_route_answers_every_caller_as_documented(
    world: World, route: str, teams_enabled: bool
) -> None:
    call, on, off = TABLE[route]
    side = world.on if teams_enabled else world.off
    expected = _expected(on if teams_enabled else off)
    answered = {c: call(world, side, _caller(world, side, c)) for c in CALLERS}
    assert answered == expected


def test_the_matrix_size_is_reported(world: World) -> None:
    # routes x callers x (teams on, teams off): each an answer checked above.
    assert len(TABLE) * len(CALLERS) * 2 == 396


def _member_path(side: People, team: str, person: str) -> str:
    return f"/teams/{team}/members/{side.user_ids[person]}"


def test_removing_a_member_from_a_team_revokes_the_registry_through_every_token_at_once(
    world: World,
) -> None:
    side = world.on
    person = "read_and_write"
    second = user_token(side.organization, side.emails[person], "read_packages")
    tokens = [side.tokens[person], second]
    for token in tokens:
        # Twice: the second answer may come from the index's read-access cache.
        assert side.registry.get("present/", token).status_code == 200
        assert side.registry.get("present/", token).status_code == 200
    org_call(side.root, "DELETE", _member_path(side, "data", person), expect=204)
    try:
        for token in tokens:
            assert side.registry.get("present/", token).status_code == 404
            assert side.registry.get("", token).status_code == 404
            url = f"/registries/{side.registry.slug}"
            assert api(side.organization, token).call("GET", url, expect=None).status_code == 404
    finally:
        body = {"user_id": side.user_ids[person], "role": "member"}
        org_call(side.root, "POST", "/teams/data/members", expect=201, json=body)
    assert side.registry.get("present/", tokens[0]).status_code == 200


def test_a_token_may_do_at_most_what_its_scopes_and_its_owner_allow(world: World) -> None:
    side = world.on
    reader = user_token(side.organization, side.emails["full"], "read_packages")
    publish = api(side.organization, reader)
    url = f"/registries/{side.registry.slug}/packages"
    path = _fresh_wheel(world)
    denied = publish.call("POST", url, expect=403, files={"file": (path.name, path.read_bytes())})
    assert "write_packages" in denied.json()["message"]
    described = publish.call("GET", "/v2/access-token").json()
    assert (described["acts_for"], described["user_id"]) == ("user", side.user_ids["full"])
    organization = side.root.call("GET", "/v2/access-token").json()
    assert (organization["acts_for"], organization["user_id"]) == ("organization", None)


def test_switches_let_members_delete_packages_and_registries(world: World) -> None:
    side = world.on
    writer = side.as_person("read_and_write")
    package_id = side.root.publish(side.registry.slug, _fresh_wheel(world)).json()["id"]
    url = f"/registries/{side.registry.slug}/packages/{package_id}"
    refused = writer.call("DELETE", url, expect=403)
    assert "delete" in refused.json()["message"]
    org_call(side.root, "PATCH", "", json={"members_can_delete_packages": True})
    try:
        writer.call("DELETE", url, expect=200)
    finally:
        org_call(side.root, "PATCH", "", json={"members_can_delete_packages": False})
    made = writer.create_registry(f"Doomed {next(_unique)}")["slug"]  # the creator's teams
    writer.call("DELETE", f"/registries/{made}", expect=403)
    org_call(side.root, "PATCH", "", json={"members_can_delete_registries": True})
    try:
        writer.call("DELETE", f"/registries/{made}", expect=200)
    finally:
        org_call(side.root, "PATCH", "", json={"members_can_delete_registries": False})
    org_call(side.root, "PATCH", "", json={"members_can_create_registries": False})
    try:
        body = {"name": "Refused", "ecosystem": "python"}
        writer.call("POST", "/registries", expect=403, json=body)
    finally:
        org_call(side.root, "PATCH", "", json={"members_can_create_registries": True})


def test_team_ids_on_create_grant_read_and_write_and_so_do_the_creators_teams(
    world: World,
) -> None:
    side = world.on
    made = side.as_person("full").create_registry(
        f"Shared {next(_unique)}", team_ids=[side.teams["readers"]]
    )
    granted = side.root.call("GET", f"/registries/{made['slug']}/teams").json()
    levels = {g["team_slug"]: g["access_level"] for g in granted}
    assert levels == {"readers": "read_and_write", "platform": "read_and_write"}
    path = write_wheel(Dist(f"shared-{next(_unique)}", "1.0"), world.files)
    side.as_person("read_only").publish(made["slug"], path, expect=200)
    bad = {"name": "Bad teams", "ecosystem": "python", "team_ids": ["not-a-team"]}
    side.root.call("POST", "/registries", expect=422, json=bad)


def test_a_secret_team_is_seen_only_by_its_members_and_admins(world: World) -> None:
    side = world.on
    created = org_call(
        side.root, "POST", "/teams", expect=201, json={"name": "hush", "privacy": "secret"}
    )
    body = {"user_id": side.user_ids["read_only"], "role": "member"}
    org_call(side.root, "POST", f"/teams/{created['id']}/members", expect=201, json=body)
    path = f"/v2/organizations/{side.organization.slug}/teams/{created['id']}"
    assert side.as_person("read_only").call("GET", path, expect=None).status_code == 200
    assert side.as_person("admin").call("GET", path, expect=None).status_code == 200
    outsider = side.as_person("full")
    assert outsider.call("GET", path, expect=None).status_code == 404
    listed = outsider.call("GET", f"/v2/organizations/{side.organization.slug}/teams").json()
    assert "hush" not in {t["slug"] for t in listed}


def test_a_composite_is_read_with_access_to_it_alone(world: World) -> None:
    side = world.on
    composite = side.organization.composite(f"Combined {next(_unique)}", side.registry.slug)
    bystander = side.tokens["no_team_access"]
    assert composite.get("present/", bystander).status_code == 404
    grant = f"/registries/{composite.slug}/teams/{side.teams['bystanders']}"
    side.root.call("PUT", grant, json={"access_level": "read_only"})
    assert composite.get("present/", bystander).status_code == 200
    # Reading the composite grants nothing on its upstream.
    assert side.registry.get("present/", bystander).status_code == 404


def test_a_member_reaches_the_composite_they_create_through_their_teams(world: World) -> None:
    side = world.on
    maker = side.as_person("read_and_write")
    made = maker.create_registry(
        f"Mine {next(_unique)}", type="composite", upstreams=[side.registry.slug]
    )
    granted = side.root.call("GET", f"/registries/{made['slug']}/teams").json()
    assert {g["team_slug"]: g["access_level"] for g in granted} == {"data": "read_and_write"}
    composite = maker.registry(made["slug"])
    assert composite.get("present/", side.tokens["read_and_write"]).status_code == 200
    assert composite.get("present/", side.tokens["no_team_access"]).status_code == 404


def test_a_member_made_maintainer_manages_the_team_until_made_member_again(
    world: World,
) -> None:
    side = world.on
    person = side.as_person("read_and_write")
    team = f"/v2/organizations/{side.organization.slug}/teams/data"
    change = {"description": "the data team"}
    assert person.call("PATCH", team, expect=None, json=change).status_code == 403
    member = f"/teams/data/members/{side.user_ids['read_and_write']}"
    promoted = org_call(side.root, "PATCH", member, json={"role": "maintainer"})
    assert promoted["role"] == "maintainer"
    try:
        assert person.call("PATCH", team, expect=None, json=change).status_code == 200
        members = person.call("GET", f"{team}/members").json()
        assert {m["email"]: m["role"] for m in members}[side.emails["read_and_write"]] == (
            "maintainer"
        )
    finally:
        org_call(side.root, "PATCH", member, json={"role": "member"})
    assert person.call("PATCH", team, expect=None, json=change).status_code == 403
