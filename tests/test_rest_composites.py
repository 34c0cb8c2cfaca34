"""Composite registries through the REST API: created with ``"type": "composite"``, their
settings read from and set on the registry object."""

from __future__ import annotations

import itertools

import pytest

from tests.support.driver import Api

_names = itertools.count()


@pytest.fixture(scope="module")
def sources(admin: Api) -> list[str]:
    return [admin.create_registry(f"Team {n} {next(_names)}")["slug"] for n in ("a", "b")]


def test_create_composite_answers_its_upstreams_and_settings(
    admin: Api, sources: list[str]
) -> None:
    body = admin.create_registry(
        f"All Python {next(_names)}",
        type="composite",
        upstreams=[*sources, "pypi"],
        min_release_age="7 days",
        public_overrides=["Requests"],
    )
    assert body["type"] == "composite"
    assert body["public"] is False
    assert body["upstreams"] == [*sources, "pypi"]
    assert body["min_release_age"] == 7 * 24 * 3600
    assert body["public_overrides"] == ["requests"]
    assert body["pypi_files"] == "link"
    fetched = admin.call("GET", f"/registries/{body['slug']}").json()
    assert fetched["upstreams"] == [*sources, "pypi"]


def test_patch_changes_composite_settings_only_where_given(admin: Api, sources: list[str]) -> None:
    slug = admin.create_registry(
        f"Merged {next(_names)}",
        type="composite",
        upstreams=[sources[0]],
        min_release_age=3600,
    )["slug"]
    changed = admin.call(
        "PATCH",
        f"/registries/{slug}",
        json={"pypi_files": "cache", "cooldown_exempt": ["Black"], "description": "merged"},
    ).json()
    assert (changed["pypi_files"], changed["cooldown_exempt"]) == ("cache", ["black"])
    assert changed["min_release_age"] == 3600
    assert changed["description"] == "merged"
    cleared = admin.call("PATCH", f"/registries/{slug}", json={"min_release_age": None}).json()
    assert cleared["min_release_age"] is None


def test_a_composite_cannot_be_made_public(admin: Api, sources: list[str]) -> None:
    response = admin.call(
        "POST",
        "/registries",
        expect=422,
        json={
            "name": f"Open {next(_names)}",
            "type": "composite",
            "upstreams": sources,
            "public": True,
        },
    )
    assert "always private" in response.json()["message"]
    slug = admin.create_registry(f"Closed {next(_names)}", type="composite", upstreams=sources)[
        "slug"
    ]
    admin.call("PATCH", f"/registries/{slug}", json={"public": True}, expect=422)


def test_composite_settings_on_a_source_registry_are_refused(
    admin: Api, sources: list[str]
) -> None:
    admin.call("PATCH", f"/registries/{sources[0]}", json={"pypi_files": "cache"}, expect=400)
    response = admin.call(
        "POST",
        "/registries",
        expect=422,
        json={"name": f"Plain {next(_names)}", "upstreams": sources},
    )
    assert "composite" in response.json()["message"]


def test_a_composite_is_never_an_upstream(admin: Api, sources: list[str]) -> None:
    inner = admin.create_registry(f"Inner {next(_names)}", type="composite", upstreams=sources)[
        "slug"
    ]
    admin.call(
        "POST",
        "/registries",
        expect=422,
        json={"name": f"Outer {next(_names)}", "type": "composite", "upstreams": [inner]},
    )
