"""Packages through the REST API: list newest first with cursor pages and filters, every
detail of one package, delete, and copy between registries sharing the stored bytes."""

from __future__ import annotations

import hashlib
import itertools
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.builders import Dist, wheel_bytes, write_sdist, write_wheel
from tests.support.driver import Api

_names = itertools.count()


def publish(admin: Api, registry: str, dist: Dist, directory: Path) -> dict[str, Any]:
    body: dict[str, Any] = admin.publish(registry, write_wheel(dist, directory)).json()
    return body


def walk(admin: Api, url: str, direction: str) -> list[dict[str, Any]]:
    """Follow ``direction`` links ("next" or "prev") from ``url``; every item seen, newest
    first (pages reached through "prev" come in from the oldest end)."""
    pages: list[list[dict[str, Any]]] = []
    next_url: str | None = url
    while next_url is not None:
        page = admin.call("GET", next_url.removeprefix(admin.base)).json()
        pages.append(page["items"])
        next_url = page["links"][direction]
    if direction == "prev":
        pages.reverse()
    return [item for page in pages for item in page]


def test_list_is_newest_first_with_buildkite_fields(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    published = [publish(admin, registry, Dist(f"item-{i}", "1.0"), tmp_path) for i in range(3)]
    page = admin.call("GET", f"/registries/{registry}/packages").json()
    assert [item["id"] for item in page["items"]] == [p["id"] for p in reversed(published)]
    first = page["items"][0]
    assert set(first) >= {"id", "url", "web_url", "name", "version", "created_at", "filename"}
    assert first["url"] == published[-1]["url"]
    assert page["links"] == {
        "self": f"{admin.base}/registries/{registry}/packages",
        "next": None,
        "prev": None,
    }


def test_pages_follow_next_and_prev_links(admin: Api, registry: str, tmp_path: Path) -> None:
    ids = [publish(admin, registry, Dist(f"paged-{i}", "1.0"), tmp_path)["id"] for i in range(7)]
    newest_first = list(reversed(ids))
    first = admin.call("GET", f"/registries/{registry}/packages?per_page=3").json()
    assert [item["id"] for item in first["items"]] == newest_first[:3]
    assert first["links"]["prev"] is None
    second = admin.call("GET", first["links"]["next"].removeprefix(admin.base)).json()
    assert [item["id"] for item in second["items"]] == newest_first[3:6]
    assert "per_page=3" in second["links"]["self"]
    back = admin.call("GET", second["links"]["prev"].removeprefix(admin.base)).json()
    assert [item["id"] for item in back["items"]] == newest_first[:3]
    assert back["links"]["prev"] is None
    walked = walk(admin, f"{admin.base}/registries/{registry}/packages?per_page=3", "next")
    assert [item["id"] for item in walked] == newest_first


def test_paging_while_others_publish_skips_and_repeats_nothing(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    before = [
        publish(admin, registry, Dist(f"steady-{i}", "1.0"), tmp_path)["id"] for i in range(12)
    ]
    stop = threading.Event()
    published_during: list[str] = []

    def keep_publishing() -> None:
        for i in itertools.count():
            if stop.is_set():
                return
            dist = Dist(f"concurrent-{i}", "1.0")
            published_during.append(publish(admin, registry, dist, tmp_path)["id"])

    publisher = threading.Thread(target=keep_publishing)
    publisher.start()
    try:
        walked = walk(admin, f"{admin.base}/registries/{registry}/packages?per_page=2", "next")
    finally:
        stop.set()
        publisher.join()
    ids = [item["id"] for item in walked]
    assert len(ids) == len(set(ids)), "an item was repeated"
    assert [i for i in ids if i in before] == list(reversed(before)), "an item was skipped"
    assert published_during, "nothing was published while paging"
    # Everything published meanwhile is reachable from the newest end, once each.
    everything = walk(admin, f"{admin.base}/registries/{registry}/packages?per_page=5", "next")
    assert sorted(item["id"] for item in everything) == sorted(before + published_during)


def test_prev_link_reaches_packages_published_after_the_page(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    old = [publish(admin, registry, Dist(f"old-{i}", "1.0"), tmp_path)["id"] for i in range(4)]
    first = admin.call("GET", f"/registries/{registry}/packages?per_page=2").json()
    second = admin.call("GET", first["links"]["next"].removeprefix(admin.base)).json()
    assert [item["id"] for item in second["items"]] == [old[1], old[0]]
    new = [publish(admin, registry, Dist(f"new-{i}", "1.0"), tmp_path)["id"] for i in range(3)]
    newer = walk(admin, second["links"]["prev"], "prev")
    assert [item["id"] for item in newer] == [*reversed(new), old[3], old[2]]


def test_deleting_the_newest_package_does_not_reuse_its_cursor(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    publish(admin, registry, Dist("keeper", "1.0"), tmp_path)
    newest = publish(admin, registry, Dist("fleeting", "1.0"), tmp_path)
    page = admin.call("GET", f"/registries/{registry}/packages?per_page=1").json()
    older = admin.call("GET", page["links"]["next"].removeprefix(admin.base)).json()
    admin.call("DELETE", f"/registries/{registry}/packages/{newest['id']}")
    replacement = publish(admin, registry, Dist("replacement", "1.0"), tmp_path)
    newer = walk(admin, older["links"]["prev"], "prev")
    assert replacement["id"] in [item["id"] for item in newer]


def test_filters_by_normalized_name_and_by_version(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    for version in ("1.0", "2.0"):
        publish(admin, registry, Dist("Filter.Me", version), tmp_path)
    publish(admin, registry, Dist("other", "1.0"), tmp_path)
    base = f"/registries/{registry}/packages"
    by_name = admin.call("GET", f"{base}?name=filter_me").json()["items"]
    assert sorted(item["version"] for item in by_name) == ["1.0", "2.0"]
    by_version = admin.call("GET", f"{base}?version=01.0").json()["items"]
    assert sorted(item["name"] for item in by_version) == ["Filter.Me", "other"]
    both = admin.call("GET", f"{base}?name=FILTER-ME&version=2.0").json()
    assert [item["version"] for item in both["items"]] == ["2.0"]
    assert "name=FILTER-ME" in both["links"]["self"]
    assert admin.call("GET", f"{base}?version=not-a-version").json()["items"] == []


@pytest.mark.parametrize(
    "query",
    ["per_page=0", "per_page=101", "per_page=x", "after=abc", "before=-1"],
)
def test_bad_paging_parameters_are_422(admin: Api, registry: str, query: str) -> None:
    response = admin.call("GET", f"/registries/{registry}/packages?{query}", expect=422)
    assert response.json()["errors"]


def test_listing_an_unknown_registry_is_404(admin: Api) -> None:
    admin.call("GET", "/registries/unknown/packages", expect=404)


def test_package_details_carry_everything_the_details_page_shows(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    dist = Dist(
        "Detailed",
        "1.2.0",
        requires=["requests>=2", "rich; extra == 'cli'"],
        requires_python=">=3.9",
    )
    created = publish(admin, registry, dist, tmp_path)
    body = admin.call("GET", f"/registries/{registry}/packages/{created['id']}").json()
    data = wheel_bytes(dist)
    assert body["digests"] == {
        "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "sha1": hashlib.sha1(data, usedforsecurity=False).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha512": hashlib.sha512(data).hexdigest(),
        "blake2b_256": hashlib.blake2b(data, digest_size=32).hexdigest(),
    }
    assert (body["name"], body["version"], body["filename"], body["size"]) == (
        "Detailed",
        "1.2.0",
        dist.wheel_filename,
        len(data),
    )
    assert body["distribution"] == {
        "name": "Detailed",
        "version": "1.2.0",
        "filetype": "bdist_wheel",
        "python_version": "py3",
        "requires_python": ">=3.9",
    }
    metadata = body["metadata"]
    assert metadata["summary"] == dist.summary
    assert metadata["homepage"] == "https://example.invalid/home"
    assert metadata["license"] == "MIT"
    assert metadata["author"] == "Test Author"
    assert metadata["classifiers"] == ["Programming Language :: Python :: 3"]
    assert metadata["requires_dist"] == dist.requires
    assert body["dependencies_count"] == 2
    paths = [f["path"] for f in body["files"]]
    assert "detailed/__init__.py" in paths
    assert "detailed-1.2.0.dist-info/METADATA" in paths
    assert body["total_files"] == len(body["files"]) == 4
    assert all(f["size"] > 0 for f in body["files"])
    assert body["downloads_count"] == 0
    assert body["visibility"] == "private"
    assert body["organization"]["slug"] == admin.organization
    assert body["registry"]["slug"] == registry
    assert body["created_at"] == created["created_at"]


def test_installation_snippets_name_this_registry_and_version(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    created = publish(admin, registry, Dist("Snippet_Pkg", "3.1"), tmp_path)
    body = admin.call("GET", f"/registries/{registry}/packages/{created['id']}").json()
    install = body["installation"]
    host = admin.yard.base_url.removeprefix("http://")
    path = f"{host}/{admin.organization}/{registry}/pypi/simple/"
    index = f"http://__token__:${{PACKYARD_TOKEN}}@{path}"
    assert install["token_placeholder"] == "${PACKYARD_TOKEN}"
    assert install["user_name"] == "__token__"
    assert install["index_url"] == f"http://{path}"
    snippets = {snippet["key"]: snippet["text"] for snippet in install["snippets"]}
    assert snippets["pip"] == f'pip install --index-url "{index}" "snippet-pkg==3.1"'
    assert snippets["pip_conf"] == f"[global]\nindex-url = {index}\n"
    assert snippets["requirements_txt"] == f"--index-url {index}\nsnippet-pkg==3.1\n"
    assert snippets["uv"] == f'uv pip install --index-url "{index}" "snippet-pkg==3.1"'
    assert install["index_url"] in snippets["pyproject_toml"]


def test_public_registry_packages_are_public_and_need_no_token_to_install(
    admin: Api, tmp_path: Path
) -> None:
    slug = admin.create_registry(f"Open {next(_names)}", public=True)["slug"]
    created = publish(admin, slug, Dist("open-pkg", "1.0"), tmp_path)
    body = admin.call("GET", f"/registries/{slug}/packages/{created['id']}").json()
    assert body["visibility"] == "public"
    assert body["installation"]["token_placeholder"] is None
    assert all("TOKEN" not in s["text"] for s in body["installation"]["snippets"])


def test_downloads_count_counts_every_download(admin: Api, registry: str, tmp_path: Path) -> None:
    created = publish(admin, registry, Dist("counted", "1.0"), tmp_path)
    files = admin.registry(registry).simple_url.replace("/simple/", "/files/")
    for _ in range(3):
        response = httpx.get(f"{files}{created['filename']}", auth=("x", str(admin.token)))
        assert response.status_code == 200
    body = admin.call("GET", f"/registries/{registry}/packages/{created['id']}").json()
    assert body["downloads_count"] == 3


def test_unknown_package_is_404(admin: Api, registry: str) -> None:
    for package_id in ("00000000-0000-0000-0000-000000000000", "not-an-id"):
        admin.call("GET", f"/registries/{registry}/packages/{package_id}", expect=404)
        admin.call("DELETE", f"/registries/{registry}/packages/{package_id}", expect=404)


def test_a_package_is_not_found_through_another_registry(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    created = publish(admin, registry, Dist("elsewhere", "1.0"), tmp_path)
    other = admin.create_registry(f"Other {next(_names)}")["slug"]
    admin.call("GET", f"/registries/{other}/packages/{created['id']}", expect=404)


def test_deleted_package_leaves_the_index_at_once(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    kept = publish(admin, registry, Dist("removable", "1.0"), tmp_path)
    doomed = publish(admin, registry, Dist("removable", "2.0"), tmp_path)
    index = admin.registry(registry)
    assert doomed["filename"] in index.get("removable/", admin.token).text
    deleted = admin.call("DELETE", f"/registries/{registry}/packages/{doomed['id']}").json()
    assert deleted == {"id": doomed["id"], "deleted": True}
    page = index.get("removable/", admin.token).text
    assert doomed["filename"] not in page
    assert kept["filename"] in page
    admin.call("GET", f"/registries/{registry}/packages/{doomed['id']}", expect=404)


def test_copy_creates_a_package_in_the_destination_sharing_the_bytes(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    original = publish(admin, registry, Dist("promoted", "1.0"), tmp_path)
    destination = admin.create_registry(f"Production {next(_names)}")["slug"]
    blobs_before = sorted(p.name for p in (admin.yard.data_dir / "blobs").rglob("*") if p.is_file())
    copied = admin.call(
        "POST", f"/registries/{registry}/packages/{original['id']}/copy?to={destination}"
    ).json()
    assert copied["id"] != original["id"]
    assert copied["registry"]["slug"] == destination
    assert copied["digests"] == original["digests"]
    assert copied["filename"] == original["filename"]
    blobs_after = sorted(p.name for p in (admin.yard.data_dir / "blobs").rglob("*") if p.is_file())
    assert blobs_after == blobs_before, "a copy must not store the bytes again"
    assert admin.registry(destination).get("promoted/", admin.token).status_code == 200
    again = admin.call(
        "POST", f"/registries/{registry}/packages/{original['id']}/copy?to={destination}"
    ).json()
    assert again["id"] == copied["id"]


def test_copy_onto_a_file_name_with_other_bytes_is_409(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    dist = Dist("clashing", "1.0")
    original = publish(admin, registry, dist, tmp_path)
    destination = admin.create_registry(f"Clash {next(_names)}")["slug"]
    dist.summary = "Different bytes, same file name"
    (tmp_path / "other").mkdir()
    publish(admin, destination, dist, tmp_path / "other")
    response = admin.call(
        "POST",
        f"/registries/{registry}/packages/{original['id']}/copy?to={destination}",
        expect=409,
    )
    assert "already" in response.json()["message"]


def test_copy_to_an_unknown_registry_or_of_an_unknown_package_is_404(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    original = publish(admin, registry, Dist("lonely", "1.0"), tmp_path)
    base = f"/registries/{registry}/packages"
    admin.call("POST", f"{base}/{original['id']}/copy?to=nowhere", expect=404)
    admin.call(
        "POST", f"{base}/00000000-0000-0000-0000-000000000000/copy?to={registry}", expect=404
    )
    admin.call("POST", f"{base}/{original['id']}/copy", expect=422)


def test_copy_survives_deleting_the_original(admin: Api, registry: str, tmp_path: Path) -> None:
    sdist = write_sdist(Dist("survivor", "1.0"), tmp_path)
    original = admin.publish(registry, sdist).json()
    destination = admin.create_registry(f"Keep {next(_names)}")["slug"]
    admin.call("POST", f"/registries/{registry}/packages/{original['id']}/copy?to={destination}")
    admin.call("DELETE", f"/registries/{registry}/packages/{original['id']}")
    files = admin.registry(destination).simple_url.replace("/simple/", "/files/")
    response = httpx.get(f"{files}{sdist.name}", auth=("x", str(admin.token)))
    assert response.status_code == 200
    assert response.content == sdist.read_bytes()


def test_control_characters_in_names_and_filters_find_nothing(admin: Api, registry: str) -> None:
    admin.call("GET", f"/registries/{registry}%00/packages", expect=404)
    admin.call("GET", f"/registries/{registry}/packages/abc%00", expect=404)
    page = admin.call("GET", f"/registries/{registry}/packages?name=a%00b&version=1%00").json()
    assert page["items"] == []
