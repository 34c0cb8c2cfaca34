"""Finding a project across an organization's registries: by name (normalised, prefix and
substring), summary and keywords, exact names first; through the REST API, paged with a
Link header, and ``packyard search``; never showing a registry the caller cannot read,
and current as soon as a publish or delete answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.builders import Dist, write_wheel
from tests.support.driver import Api, Organization, Registry, api, new_organization
from tests.support.server import PackyardServer


@pytest.fixture(scope="module")
def shop(yard: PackyardServer, tmp_path_factory: pytest.TempPathFactory) -> Organization:
    """An organization with two registries: ``tools`` and ``secret``."""
    org = new_organization(yard, "search")
    tools, secret = org.registry("Tools"), org.registry("Secret")
    writer = org.token("read_packages", "write_packages")
    folder = tmp_path_factory.mktemp("search-dists")
    dists = [
        (tools, Dist("Tool-Kit-Extra", "1.0", summary="More for the toolkit")),
        (tools, Dist("toolkit", "2.0", summary="The toolkit itself")),
        (tools, Dist("my_toolkit", "0.1", summary="Someone's own")),
        (tools, Dist("grapher", "1.0", summary="Draws charts", keywords=["graphql", "plots"])),
        (tools, Dist("plain", "1.0", summary="A <b>bold</b> toolkit & more")),
        (secret, Dist("toolkit-secret", "1.0", summary="Only for the secret registry")),
    ]
    for registry, dist in dists:
        registry.publish(write_wheel(dist, folder), writer)
    return org


def _search(caller: Api, q: str, expect: int = 200, **params: Any) -> list[dict[str, Any]]:
    response = caller.call("GET", "/search", expect=expect, params={"q": q, **params})
    found: list[dict[str, Any]] = response.json() if expect == 200 else []
    return found


def _names(found: list[dict[str, Any]]) -> list[str]:
    return [hit["project"] for hit in found]


def test_exact_name_comes_first_then_prefix_then_substring_then_summary(
    shop: Organization,
) -> None:
    reader = api(shop, shop.token("read_packages"))
    found = _search(reader, "toolkit")
    # exact; starts with it; contains it; then "toolkit" in the summary only, by name
    assert _names(found) == ["toolkit", "toolkit-secret", "my-toolkit", "plain", "tool-kit-extra"]
    first = found[0]
    assert (first["registry"], first["version"], first["summary"]) == (
        "tools",
        "2.0",
        "The toolkit itself",
    )


def test_names_match_as_pep_503_normalises_them(shop: Organization) -> None:
    reader = api(shop, shop.token("read_packages"))
    assert _names(_search(reader, "Tool_Kit.Extra")) == ["tool-kit-extra"]
    assert _names(_search(reader, "MY-TOOL"))[0] == "my-toolkit"


def test_keywords_and_summary_words_are_found(shop: Organization) -> None:
    reader = api(shop, shop.token("read_packages"))
    assert _names(_search(reader, "graphql")) == ["grapher"]
    assert _names(_search(reader, "charts")) == ["grapher"]
    assert _search(reader, "nothing-like-this") == []


def test_a_registry_token_finds_only_its_own_registry(shop: Organization) -> None:
    secret = Registry(shop.yard, shop.slug, "secret")
    only_secret = api(shop, secret.token())
    assert {hit["registry"] for hit in _search(only_secret, "toolkit")} == {"secret"}


def test_another_organization_learns_nothing(shop: Organization, yard: PackyardServer) -> None:
    other = new_organization(yard, "elsewhere")
    outsider = Api(yard, shop.slug, other.token("read_packages"))
    assert outsider.call("GET", "/search", expect=404, params={"q": "toolkit"}).json() == {
        "message": f"No organization {shop.slug!r}"
    }
    assert Api(yard, shop.slug, None).call("GET", "/search", expect=401, params={"q": "x"})


def test_results_come_in_pages_linked_by_the_link_header(shop: Organization) -> None:
    reader = api(shop, shop.token("read_packages"))
    everything = _names(_search(reader, "toolkit"))
    first = reader.call("GET", "/search", params={"q": "toolkit", "per_page": 2})
    assert 'rel="next"' in first.headers["Link"]
    assert 'rel="prev"' not in first.headers["Link"]
    pages = [_names(first.json())]
    link = first.headers["Link"]
    while 'rel="next"' in link:
        url = next(p.split(">")[0].lstrip("<") for p in link.split(", ") if 'rel="next"' in p)
        response = reader.call("GET", url[len(shop.yard.base_url) :])
        pages.append(_names(response.json()))
        link = response.headers.get("Link", "")
    assert [name for page in pages for name in page] == everything
    assert len(pages) == 3


def test_a_deleted_project_is_no_longer_found_and_a_published_one_is_at_once(
    shop: Organization, tmp_path: Path
) -> None:
    admin = api(shop, shop.token("read_packages", "write_packages", "delete_packages"))
    wheel = write_wheel(Dist("fresh-find", "1.0", summary="Just published"), tmp_path)
    published = admin.publish("tools", wheel).json()
    assert _names(_search(admin, "fresh-find")) == ["fresh-find"]
    admin.call("DELETE", f"/registries/tools/packages/{published['id']}")
    assert _search(admin, "fresh-find") == []


def test_packyard_search_lists_matches_of_every_registry(shop: Organization) -> None:
    out = shop.yard.admin("search", shop.slug, "toolkit", "--json")
    rows = json.loads(out)
    assert rows[0] == {
        "registry": "tools",
        "name": "toolkit",
        "version": "2.0",
        "summary": "The toolkit itself",
    }
    assert {row["registry"] for row in rows} == {"tools", "secret"}


def test_a_new_release_replaces_what_search_knows_of_the_project(
    shop: Organization, tmp_path: Path
) -> None:
    admin = api(shop, shop.token("read_packages", "write_packages"))
    admin.publish("tools", write_wheel(Dist("evolving", "1.0", summary="Turns gears"), tmp_path))
    (hit,) = _search(admin, "gears")
    assert (hit["project"], hit["version"]) == ("evolving", "1.0")
    newer = Dist("evolving", "2.0", summary="Lifts pulleys", keywords=["hoist"])
    admin.publish("tools", write_wheel(newer, tmp_path))
    assert _search(admin, "gears") == []
    for words in ("pulleys", "hoist", "evolving"):
        (hit,) = _search(admin, words)
        assert (hit["project"], hit["version"], hit["summary"]) == (
            "evolving",
            "2.0",
            "Lifts pulleys",
        )
