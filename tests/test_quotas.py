"""Storage quotas per registry (docs/retention.md): a publish past the quota is refused
with a 413 naming the quota and the usage, and nothing of it is kept; usage per registry
and project is reported."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from tests.support.builders import Dist, wheel_bytes, write_wheel
from tests.support.driver import Api
from tests.support.integrity import blob_store_of
from tests.support.retention import index_files


def _size(dist: Dist) -> int:
    return len(wheel_bytes(dist))


def test_a_publish_past_the_quota_is_refused_and_nothing_is_stored(
    admin: Api, tmp_path: Path
) -> None:
    first, second = Dist("capped", "1.0"), Dist("capped", "2.0", summary="x" * 3000)
    quota = _size(first) + _size(second) - 1
    slug = admin.create_registry("Capped", quota_bytes=quota)["slug"]
    assert admin.call("GET", f"/registries/{slug}").json()["quota_bytes"] == quota
    admin.publish(slug, write_wheel(first, tmp_path))

    refused = admin.publish(slug, write_wheel(second, tmp_path), expect=413)
    message = refused.json()["message"]
    assert f"quota of {quota} bytes" in message
    assert f"use {_size(first)} bytes" in message
    assert index_files(admin, slug, "capped") == [first.wheel_filename]
    with blob_store_of(admin.yard) as store:
        assert store.size(hashlib.sha256(wheel_bytes(second)).hexdigest()) is None


def test_twine_style_uploads_see_the_quota_too_and_raising_it_lets_them_in(
    admin: Api, tmp_path: Path
) -> None:
    dist = Dist("upload-capped", "1.0")
    slug = admin.create_registry("Upload capped", quota_bytes=10)["slug"]
    refused = admin.registry(slug)
    response = _legacy_upload(refused.yard.base_url, admin, slug, write_wheel(dist, tmp_path))
    assert response.status_code == 413
    assert "quota of 10 bytes" in response.text
    admin.call("PATCH", f"/registries/{slug}", json={"quota_bytes": None})
    response = _legacy_upload(refused.yard.base_url, admin, slug, write_wheel(dist, tmp_path))
    assert response.status_code == 200, response.text


def test_usage_is_reported_per_registry_and_per_project(admin: Api, tmp_path: Path) -> None:
    slug = admin.create_registry("Measured")["slug"]
    dists = [Dist("big", "1.0", summary="y" * 5000), Dist("big", "2.0"), Dist("small", "1.0")]
    for dist in dists:
        admin.publish(slug, write_wheel(dist, tmp_path))
    usage = admin.call("GET", f"/registries/{slug}/usage").json()
    assert usage["bytes"] == sum(_size(d) for d in dists)
    assert usage["files"] == 3
    assert usage["quota_bytes"] is None
    assert usage["projects"] == [
        {"name": "big", "bytes": _size(dists[0]) + _size(dists[1]), "files": 2},
        {"name": "small", "bytes": _size(dists[2]), "files": 1},
    ]


def test_a_negative_quota_is_refused(admin: Api) -> None:
    admin.call("POST", "/registries", json={"name": "Negative", "quota_bytes": -1}, expect=422)


def _legacy_upload(base: str, admin: Api, slug: str, path: Path) -> httpx.Response:
    """The upload API, as twine sends it."""
    dist_name, version = path.name.split("-")[:2]
    with path.open("rb") as handle:
        return httpx.post(
            f"{base}/{admin.organization}/{slug}/pypi/",
            auth=("__token__", str(admin.token)),
            data={
                ":action": "file_upload",
                "protocol_version": "1",
                "name": dist_name,
                "version": version,
                "filetype": "bdist_wheel",
                "pyversion": "py3",
                "sha256_digest": hashlib.sha256(path.read_bytes()).hexdigest(),
            },
            files={"content": (path.name, handle)},
            timeout=60,
        )
