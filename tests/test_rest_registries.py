"""Registries through the REST API: create, list, get, update (PATCH and POST), delete,
with Buildkite's fields and status codes."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.support.builders import Dist, write_wheel
from tests.support.driver import Api

_names = itertools.count()


def unique(name: str) -> str:
    return f"{name} {next(_names)}"


def test_create_registry_answers_the_registry_object(admin: Api) -> None:
    name = unique("My Python packages")
    body = admin.create_registry(
        name, description="Wheels from CI", emoji=":snake:", color="#f0ccff", public=True
    )
    slug = name.lower().replace(" ", "-")
    assert body["slug"] == slug
    assert body["name"] == name
    assert body["ecosystem"] == "python"
    assert body["type"] == "source"
    assert (body["description"], body["emoji"], body["color"]) == (
        "Wheels from CI",
        ":snake:",
        "#f0ccff",
    )
    assert body["public"] is True
    assert body["url"] == f"{admin.base}/registries/{slug}"
    assert body["web_url"].endswith(
        f"/organizations/{admin.organization}/packages/registries/{slug}"
    )
    assert body["created_at"].endswith("Z")
    assert len(body["id"]) == 36


def test_registry_with_a_taken_slug_is_422(admin: Api) -> None:
    name = unique("Twice")
    admin.create_registry(name)
    response = admin.call(
        "POST", "/registries", json={"name": name.upper(), "ecosystem": "python"}, expect=422
    )
    assert "already exists" in response.json()["message"]
    assert response.json()["errors"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Ruby gems", "ecosystem": "ruby"},
        {"name": "!!!", "ecosystem": "python"},
        {"name": "", "ecosystem": "python"},
        {"ecosystem": "python"},
        {"name": "x" * 201, "ecosystem": "python"},
    ],
    ids=["other-ecosystem", "no-letters", "empty-name", "no-name", "long-name"],
)
def test_unacceptable_registry_fields_are_422_with_errors(admin: Api, body: dict[str, str]) -> None:
    response = admin.call("POST", "/registries", json=body, expect=422)
    assert response.json()["message"]
    assert isinstance(response.json()["errors"], list)
    assert response.json()["errors"]


def test_malformed_json_is_422(admin: Api) -> None:
    response = admin.call(
        "POST",
        "/registries",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
        expect=422,
    )
    assert response.json()["errors"]


def test_list_registries_is_an_array_of_registry_objects(admin: Api) -> None:
    first, second = admin.create_registry(unique("First")), admin.create_registry(unique("Second"))
    listed = admin.call("GET", "/registries").json()
    slugs = [registry["slug"] for registry in listed]
    assert slugs.index(first["slug"]) < slugs.index(second["slug"])
    assert next(r for r in listed if r["slug"] == first["slug"]) == first


def test_get_registry_answers_it_and_an_unknown_one_is_404(admin: Api) -> None:
    created = admin.create_registry(unique("Lookup"))
    assert admin.call("GET", f"/registries/{created['slug']}").json() == created
    response = admin.call("GET", "/registries/no-such-registry", expect=404)
    assert response.json()["message"]


@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_update_changes_only_the_fields_sent(admin: Api, method: str) -> None:
    created = admin.create_registry(unique("Editable"), emoji=":a:", description="before")
    changed = admin.call(
        method,
        f"/registries/{created['slug']}",
        json={"description": "after", "color": "#000000", "public": True},
    ).json()
    assert (changed["description"], changed["color"], changed["public"]) == (
        "after",
        "#000000",
        True,
    )
    assert changed["emoji"] == ":a:"
    assert changed["slug"] == created["slug"]
    cleared = admin.call("PATCH", f"/registries/{created['slug']}", json={"emoji": None}).json()
    assert cleared["emoji"] is None


def test_renaming_changes_the_slug_and_the_old_slug_is_404(admin: Api, tmp_path: Path) -> None:
    created = admin.create_registry(unique("Old Name"))
    admin.publish(created["slug"], write_wheel(Dist("renamed-thing", "1.0"), tmp_path))
    new_name = unique("New Name")
    renamed = admin.call("PATCH", f"/registries/{created['slug']}", json={"name": new_name}).json()
    assert renamed["slug"] == new_name.lower().replace(" ", "-")
    assert renamed["id"] == created["id"]
    admin.call("GET", f"/registries/{created['slug']}", expect=404)
    assert admin.registry(created["slug"]).get("renamed-thing/", admin.token).status_code == 404
    assert admin.registry(renamed["slug"]).get("renamed-thing/", admin.token).status_code == 200


def test_renaming_onto_a_taken_slug_is_422(admin: Api) -> None:
    taken = admin.create_registry(unique("Taken"))
    other = admin.create_registry(unique("Other"))
    admin.call("PATCH", f"/registries/{other['slug']}", json={"name": taken["name"]}, expect=422)
    assert admin.call("GET", f"/registries/{other['slug']}").json()["name"] == other["name"]


def test_the_ecosystem_cannot_change(admin: Api) -> None:
    created = admin.create_registry(unique("Fixed"))
    admin.call("PATCH", f"/registries/{created['slug']}", json={"ecosystem": "ruby"}, expect=422)
    admin.call("PATCH", f"/registries/{created['slug']}", json={"ecosystem": "python"})


def test_update_of_an_unknown_registry_is_404(admin: Api) -> None:
    admin.call("PATCH", "/registries/nothing-here", json={"description": "x"}, expect=404)


def test_deleted_registry_is_gone_with_its_index(admin: Api, tmp_path: Path) -> None:
    created = admin.create_registry(unique("Doomed"))
    slug = created["slug"]
    admin.publish(slug, write_wheel(Dist("doomed-thing", "1.0"), tmp_path))
    index = admin.registry(slug)
    assert index.get("doomed-thing/", admin.token).status_code == 200
    assert admin.call("DELETE", f"/registries/{slug}").json() == {
        "id": created["id"],
        "deleted": True,
    }
    assert index.get("doomed-thing/", admin.token).status_code == 404
    assert index.get("", admin.token).status_code == 404
    admin.call("GET", f"/registries/{slug}", expect=404)
    admin.call("DELETE", f"/registries/{slug}", expect=404)


def test_deleting_a_registry_revokes_its_registry_tokens(admin: Api) -> None:
    created = admin.create_registry(unique("With token"))
    secret = admin.call("POST", f"/registries/{created['slug']}/tokens", json={}).json()["token"]
    reader = Api(admin.yard, admin.organization, secret)
    reader.call("GET", f"/registries/{created['slug']}/packages")
    admin.call("DELETE", f"/registries/{created['slug']}")
    reader.call("GET", f"/registries/{created['slug']}/packages", expect=401)


def test_a_name_can_be_reused_after_delete(admin: Api) -> None:
    name = unique("Phoenix")
    first = admin.create_registry(name)
    admin.call("DELETE", f"/registries/{first['slug']}")
    second = admin.create_registry(name)
    assert second["slug"] == first["slug"]
    assert second["id"] != first["id"]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"color": "red"}, "color"),
        ({"color": "#12345g"}, "color"),
        ({"emoji": "🐍" * 17}, "emoji"),
    ],
    ids=["colour-name", "colour-not-hex", "emoji-too-long"],
)
def test_emoji_and_colour_are_checked_as_the_web_ui_checks_them(
    admin: Api, fields: dict[str, str], problem: str
) -> None:
    response = admin.call(
        "POST", "/registries", json={"name": unique("Styled"), **fields}, expect=422
    )
    assert any(problem in error for error in response.json()["errors"]), response.text
    created = admin.create_registry(unique("Restyled"), emoji="🐍", color="#1a2B3c")
    assert (created["emoji"], created["color"]) == ("🐍", "#1a2B3c")
    admin.call("PATCH", f"/registries/{created['slug']}", json=fields, expect=422)


@pytest.mark.parametrize("name", ["PyPI", "v2", "Organizations", "static", "Simple", "files"])
def test_slugs_that_would_shadow_our_own_addresses_are_refused(admin: Api, name: str) -> None:
    response = admin.call("POST", "/registries", json={"name": name}, expect=422)
    assert "reserved" in response.json()["message"]
    created = admin.create_registry(unique("Renamable"))
    renamed = admin.call("PATCH", f"/registries/{created['slug']}", json={"name": name}, expect=422)
    assert "reserved" in renamed.json()["message"]
