"""The web UI's rows of the access table (docs/security.md, "Teams and access levels",
the UI table): every page and every state-changing form x every person who signs in
(and an anonymous visitor) x teams on and off, over HTTP with a real session.

Each person signs in once through the sign-in form; each form is the one the page renders
for someone allowed to use it (an admin), sent with the person's own session and CSRF
token, as a browser would send it if the person crafted the post. For every form the
person's own page must show it exactly when the server accepts it from them; a private
registry someone may not see answers exactly as one that does not exist."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.builders import Dist, write_wheel
from tests.support.driver import api, new_organization
from tests.support.server import PackyardServer
from tests.support.teams import (
    PASSWORD,
    PEOPLE,
    People,
    create_user,
    org_call,
    people,
    user_token,
)
from tests.support.web_forms import WebSession, form_to

PERSONS = (*PEOPLE, "anonymous")
UNKNOWN = "no-such-registry"
_unique = itertools.count()


@dataclass
class Side:
    """One organization (teams on, or off) as the UI tables need it."""

    people: People
    sessions: dict[str, WebSession]
    composite: str
    extra_email: str  # a member of no team, whom the team forms add and remove
    extra_id: str
    spare: str  # the id of a team nobody maintains

    @property
    def admin(self) -> WebSession:
        return self.sessions["admin"]

    @property
    def org(self) -> str:
        return self.people.organization.slug


@dataclass
class World:
    yard: PackyardServer
    files: Path
    sides: dict[bool, Side] = field(default_factory=dict)


def _grant_like_the_private_registry(side: People, slug: str) -> None:
    for team, level in (("platform", "read_write_and_admin"), ("data", "read_and_write")):
        url = f"/registries/{slug}/teams/{side.teams[team]}"
        side.root.call("PUT", url, json={"access_level": level})
    url = f"/registries/{slug}/teams/{side.teams['readers']}"
    side.root.call("PUT", url, json={"access_level": "read_only"})


def _side(yard: PackyardServer, files: Path, teams_enabled: bool) -> Side:
    name = "ui-teams-on" if teams_enabled else "ui-teams-off"
    found = people(new_organization(yard, name), "Private", teams_enabled=teams_enabled)
    found.root.publish(found.registry.slug, write_wheel(Dist("present", "1.0"), files))
    spare = org_call(found.root, "POST", "/teams", expect=201, json={"name": "spare"})["id"]
    composite = found.root.create_registry(
        "Combined", type="composite", upstreams=[found.registry.slug]
    )["slug"]
    _grant_like_the_private_registry(found, composite)
    extra = create_user(found.organization, "extra")
    users = {u["email"]: u["id"] for u in org_call(found.root, "GET", "/users")}
    sessions = {}
    for person, email in found.emails.items():
        sessions[person] = WebSession(yard.base_url)
        sessions[person].sign_in(email, PASSWORD, f"/organizations/{found.organization.slug}")
    sessions["anonymous"] = WebSession(yard.base_url)
    sessions["anonymous"].get("/sign-in")  # a browser's double-submit cookie and token
    return Side(found, sessions, composite, extra, users[extra], spare)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[World]:
    yard = backend.new_server(tmp_path_factory.mktemp("ui-teams"))
    yard.start()
    world = World(yard, tmp_path_factory.mktemp("ui-team-files"))
    try:
        world.sides = {on: _side(yard, world.files, on) for on in (True, False)}
        yield world
    finally:
        for side in world.sides.values():
            for session in side.sessions.values():
                session.close()
        yard.stop()


# What a route is asked about: placeholders of its paths (org, registry, package, ...),
# made fresh for each person where the form changes or removes something.
Target = dict[str, str]
Prepare = Callable[[World, Side], Target]


def _registry(world: World, side: Side) -> Target:
    return {"org": side.org, "registry": side.people.registry.slug}


def _package(world: World, side: Side) -> Target:
    wheel = write_wheel(Dist(f"fresh-{next(_unique)}", "1.0"), world.files)
    package = side.people.root.publish(side.people.registry.slug, wheel).json()["id"]
    return {**_registry(world, side), "package": package}


def _yanked_package(world: World, side: Side) -> Target:
    target = _package(world, side)
    url = f"/registries/{target['registry']}/packages/{target['package']}/yank"
    side.people.root.call("POST", url)
    return target


def _registry_token(world: World, side: Side) -> Target:
    target = _registry(world, side)
    url = f"/registries/{target['registry']}/tokens"
    made = side.people.root.call("POST", url, json={"description": "to revoke"}).json()
    return {**target, "token": made["id"]}


def _spare_granted(world: World, side: Side) -> Target:
    target = _registry(world, side)
    url = f"/registries/{target['registry']}/teams/{side.spare}"
    side.people.root.call("PUT", url, json={"access_level": "read_only"})
    return {**target, "team": side.spare}


def _doomed_registry(world: World, side: Side) -> Target:
    made = side.people.root.create_registry(f"Doomed {next(_unique)}")
    _grant_like_the_private_registry(side.people, made["slug"])
    return {"org": side.org, "registry": made["slug"], "name": made["name"]}


def _composite(world: World, side: Side) -> Target:
    return {"org": side.org, "registry": side.composite}


def _organization(world: World, side: Side) -> Target:
    return {"org": side.org, "team": side.people.teams["readers"], "user": side.extra_id}


def _extra_out_of_readers(world: World, side: Side) -> Target:
    member = f"/teams/{side.people.teams['readers']}/members/{side.extra_id}"
    org_call(side.people.root, "DELETE", member, expect=None)
    return _organization(world, side)


def _extra_in_readers(world: World, side: Side) -> Target:
    body = {"user_id": side.extra_id, "role": "member"}
    url = f"/teams/{side.people.teams['readers']}/members"
    org_call(side.people.root, "POST", url, expect=None, json=body)
    return _organization(world, side)


def _throwaway_team(world: World, side: Side) -> Target:
    body = {"name": f"throwaway {next(_unique)}"}
    made = org_call(side.people.root, "POST", "/teams", expect=201, json=body)
    return {"org": side.org, "team": made["id"]}


def _admins_api_token(world: World, side: Side) -> Target:
    """An API token the admin made (members see, and revoke, only their own)."""
    secret = user_token(side.people.organization, side.people.emails["admin"], "read_packages")
    described = api(side.people.organization, secret).call("GET", "/v2/access-token").json()
    return {"org": side.org, "token": described["uuid"]}


@dataclass(frozen=True)
class Page:
    """A page looked at: its status (200, 404 where the registry is out of reach, 303 to
    the sign-in form for a visitor)."""

    path: str
    prepare: Prepare = _registry
    listed: bool = False  # 200 when the registries page lists the registry, 404 when not
    linked_from: str | None = None  # a page that links to it for exactly those it answers


@dataclass(frozen=True)
class Action:
    """A form of ``page`` sent to ``action``; ``typed`` is what the person types into it,
    ``having`` tells it from other forms to the same action."""

    page: str
    action: str
    prepare: Prepare = _registry
    typed: Callable[[Side, Target], dict[str, str]] = lambda side, target: {}
    having: dict[str, str] = field(default_factory=dict)


ORG = "/organizations/{org}"
REG = ORG + "/packages/registries/{registry}"
PKG = REG + "/packages/{package}"
SETTINGS = REG + "?tab=settings"
RETENTION = REG + "/retention"
TEAMS = ORG + "/teams"
SAME = "200 200 200 200 200 200 303"
SEEN = ("200 200 200 200 200 404 303", SAME)  # (teams on, teams off)
FULL = ("303 403 303 403 403 404 403", "303 403 403 403 403 403 403")
ADMIN = ("303 403 403 403 403 404 403", "303 403 403 403 403 403 403")
ORG_ADMIN = ("303 403 403 403 403 403 403",) * 2
ORG_ADMIN_PAGE = ("200 403 403 403 403 403 303",) * 2
TEAM_MAINTAINER = ("303 303 403 403 403 403 403",) * 2
# route -> (the page or form, answers for PERSONS with teams on, with teams off): the rows
# of docs/security.md's UI table. Publishing has no form in the UI (n/a).
TABLE: dict[str, tuple[Page | Action, str, str]] = {
    "registry page": (Page(REG), *SEEN),
    "registries page lists it": (
        Page(ORG + "/packages", listed=True),
        "200 200 200 200 200 404 404",
        "200 200 200 200 200 200 404",
    ),
    "package page": (Page(PKG, _package), *SEEN),
    "download": (Page(PKG + "/download", _package), *SEEN),
    "teams page": (Page(TEAMS, linked_from=ORG + "/packages"), SAME, SAME),
    "audit log page": (
        Page(ORG + "/audit", linked_from=ORG + "/packages"),
        *ORG_ADMIN_PAGE,
    ),
    "organization webhooks page": (Page(ORG + "/webhooks", linked_from=TEAMS), *ORG_ADMIN_PAGE),
    "delete package": (Action(PKG, PKG + "/delete", _package), *FULL),
    "yank": (Action(PKG, PKG + "/yank", _package, lambda s, t: {"reason": "broken"}), *FULL),
    "unyank": (Action(PKG, PKG + "/unyank", _yanked_package), *FULL),
    "set project status": (
        Action(PKG, PKG + "/status", _package, lambda s, t: {"status": "deprecated"}),
        *FULL,
    ),
    "registry settings": (
        Action(SETTINGS, REG + "/settings", typed=lambda s, t: {"description": "changed"}),
        *FULL,
    ),
    "trusted publishing policy": (Action(SETTINGS, REG + "/oidc-policy"), *FULL),
    "create registry token": (
        Action(SETTINGS, REG + "/tokens", typed=lambda s, t: {"description": "ci"}),
        "200 403 200 403 403 404 403",
        "200 403 403 403 403 403 403",
    ),
    "revoke registry token": (
        Action(SETTINGS, REG + "/tokens/{token}/revoke", _registry_token),
        *FULL,
    ),
    "composite upstreams": (
        Action(REG + "?tab=upstreams", REG + "/upstreams", _composite, having={"upstream": "pypi"}),
        *FULL,
    ),
    "delete registry": (
        Action(
            SETTINGS,
            REG + "/delete",
            _doomed_registry,
            lambda s, t: {"confirm_name": t["name"]},
        ),
        *FULL,
    ),
    "webhooks page": (
        Page(REG + "/webhooks", linked_from=SETTINGS),
        "200 403 200 403 403 404 303",
        "200 403 403 403 403 403 303",
    ),
    "retention page": (
        Page(RETENTION, linked_from=SETTINGS),
        "200 403 200 403 403 404 303",
        "200 403 403 403 403 403 303",
    ),
    "retention policy": (
        Action(RETENTION, RETENTION, typed=lambda s, t: {"min_age_hours": "2"}),
        *FULL,
    ),
    "retention preview": (
        Action(RETENTION, RETENTION + "/preview"),
        "200 403 200 403 403 404 403",
        "200 403 403 403 403 403 403",
    ),
    "retention run": (
        Action(RETENTION, RETENTION + "/run", typed=lambda s, t: {"confirm": "delete"}),
        *FULL,
    ),
    "grant team": (
        Action(SETTINGS, REG + "/teams", typed=lambda s, t: {"team": s.spare}),
        *ADMIN,
    ),
    "revoke team": (Action(SETTINGS, REG + "/teams/{team}/revoke", _spare_granted), *ADMIN),
    "create registry": (
        Action(
            ORG + "/packages",
            ORG + "/packages/registries",
            _organization,
            lambda s, t: {"name": f"Made {next(_unique)}"},
        ),
        "303 303 303 303 303 303 403",
        "303 303 303 303 303 303 403",
    ),
    "organization switches": (Action(TEAMS, ORG + "/settings", _organization), *ORG_ADMIN),
    "create team": (
        Action(TEAMS, TEAMS, _organization, lambda s, t: {"name": f"made {next(_unique)}"}),
        *ORG_ADMIN,
    ),
    "delete team": (Action(TEAMS, TEAMS + "/{team}/delete", _throwaway_team), *ORG_ADMIN),
    "add team member": (
        Action(
            TEAMS,
            TEAMS + "/{team}/members",
            _extra_out_of_readers,
            lambda s, t: {"email": s.extra_email},
        ),
        *TEAM_MAINTAINER,
    ),
    "change member role": (
        Action(TEAMS, TEAMS + "/{team}/members/{user}/role", _extra_in_readers),
        *TEAM_MAINTAINER,
    ),
    "remove team member": (
        Action(TEAMS, TEAMS + "/{team}/members/{user}/remove", _extra_in_readers),
        *TEAM_MAINTAINER,
    ),
    "create API token": (
        Action(ORG + "/tokens", ORG + "/tokens", _organization),
        "200 200 200 200 200 200 403",
        "200 200 200 200 200 200 403",
    ),
    "revoke the admin's API token": (
        Action(ORG + "/tokens", ORG + "/tokens/{token}/revoke", _admins_api_token),
        "303 404 404 404 404 404 403",
        "303 404 404 404 404 404 403",
    ),
}


def _expected(row: str) -> dict[str, int]:
    return dict(zip(PERSONS, (int(s) for s in row.split()), strict=True))


def _look(side: Side, person: str, page: Page, target: Target) -> int:
    answer = side.sessions[person].get(page.path.format(**target))
    if not page.listed or answer.status_code != 200:
        return answer.status_code
    registry = REG.format(**target)
    return 200 if f'href="{registry}"' in answer.text else 404


def _send(side: Side, person: str, action: Action, target: Target) -> tuple[int, bool]:
    """The person's answer to the form, and whether their own page shows it."""
    page, to = action.page.format(**target), action.action.format(**target)
    rendered = side.admin.get(page)
    form = form_to(rendered.text, to, **action.having)
    assert form is not None, f"no form to {to} on the admin's {page}"
    session = side.sessions[person]
    shown = form_to(session.get(page).text, to, **action.having) is not None
    return session.submit(form, **action.typed(side, target)).status_code, shown


@pytest.mark.parametrize("teams_enabled", [True, False], ids=["teams-on", "teams-off"])
@pytest.mark.parametrize("route", list(TABLE))
def test_every_ui_route_answers_every_person_as_documented(
    world: World, route: str, teams_enabled: bool
) -> None:
    what, on, off = TABLE[route]
    side = world.sides[teams_enabled]
    expected = _expected(on if teams_enabled else off)
    if isinstance(what, Page):
        target = what.prepare(world, side)
        answered = {p: _look(side, p, what, target) for p in PERSONS}
        assert answered == expected
        if what.linked_from is not None:
            link = f'href="{what.path.format(**target)}"'
            source = what.linked_from.format(**target)
            linked = {p: link in side.sessions[p].get(source).text for p in PERSONS}
            assert linked == {p: status == 200 for p, status in expected.items()}
        return
    sent = {p: _send(side, p, what, what.prepare(world, side)) for p in PERSONS}
    assert {p: status for p, (status, _) in sent.items()} == expected
    # The page offers the form to exactly those whose post it accepts.
    assert {p: shown for p, (_, shown) in sent.items()} == {
        p: status < 400 for p, status in expected.items()
    }


def test_the_matrix_size_is_reported() -> None:
    # routes x persons (anonymous included) x (teams on, teams off): each answer checked,
    # and for every form also whether the person's page shows it.
    assert len(TABLE) * len(PERSONS) * 2 == 462


def _unknown(text: str, slug: str) -> str:
    """``text`` with the registry's slug written as the unknown one's."""
    return re.sub(rf"(?<![\w-]){re.escape(slug)}(?![\w-])", UNKNOWN, text)


def _answer(response: httpx.Response, slug: str) -> tuple[int, str, str]:
    location = unquote(response.headers.get("location", ""))
    return response.status_code, _unknown(location, slug), _unknown(response.text, slug)


def _hidden_and_unknown(
    side: Side, person: str, what: Page | Action, target: Target
) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    """The person's answers for the registry, and for the same route naming a registry
    that does not exist, with its slug written the same way in both."""
    slug, session = target["registry"], side.sessions[person]
    if isinstance(what, Page):
        path = what.path.format(**target)
        return _answer(session.get(path), slug), _answer(session.get(_unknown(path, slug)), slug)
    page, to = what.page.format(**target), what.action.format(**target)
    form = form_to(side.admin.get(page).text, to, **what.having)
    assert form is not None
    typed = what.typed(side, target)
    elsewhere = replace(form, action=_unknown(form.action, slug))
    return _answer(session.submit(form, **typed), slug), _answer(
        session.submit(elsewhere, **typed), slug
    )


REGISTRY_ROUTES = [
    route
    for route, (what, _, _) in TABLE.items()
    if "{registry}" in (what.path if isinstance(what, Page) else what.action)
]
OUT_OF_REACH = [(True, "no_team_access"), (True, "anonymous"), (False, "anonymous")]


@pytest.mark.parametrize(
    ("teams_enabled", "person"),
    OUT_OF_REACH,
    ids=["teams-on-member", "teams-on-anonymous", "teams-off-anonymous"],
)
@pytest.mark.parametrize("route", REGISTRY_ROUTES)
def test_a_registry_out_of_reach_answers_as_one_that_does_not_exist(
    world: World, route: str, teams_enabled: bool, person: str
) -> None:
    what = TABLE[route][0]
    side = world.sides[teams_enabled]
    hidden, unknown = _hidden_and_unknown(side, person, what, what.prepare(world, side))
    assert hidden[0] in (303, 403, 404)
    assert hidden == unknown


def test_switches_letting_writers_delete_give_them_the_delete_forms(world: World) -> None:
    side = world.sides[True]
    admin, writer = side.admin, side.sessions["read_and_write"]
    switches = form_to(
        admin.get(TEAMS.format(org=side.org)).text, ORG.format(org=side.org) + "/settings"
    )
    assert switches is not None
    doomed, package = _doomed_registry(world, side), _package(world, side)
    pages = {"registry": SETTINGS.format(**doomed), "package": PKG.format(**package)}
    actions = {
        "registry": REG.format(**doomed) + "/delete",
        "package": PKG.format(**package) + "/delete",
    }
    for kind, page in pages.items():
        assert form_to(writer.get(page).text, actions[kind]) is None
    turned = {"members_can_delete_packages": "on", "members_can_delete_registries": "on"}
    assert admin.submit(switches, **turned).status_code == 303
    try:
        for kind, page in pages.items():
            form = form_to(writer.get(page).text, actions[kind])
            assert form is not None, kind
            typed = {"confirm_name": doomed["name"]} if kind == "registry" else {}
            assert writer.submit(form, **typed).status_code == 303
        assert writer.get(pages["registry"]).status_code == 404
        assert writer.get(pages["package"]).status_code == 404
    finally:
        off = {"members_can_delete_packages": False, "members_can_delete_registries": False}
        org_call(side.people.root, "PATCH", "", json=off)
