"""Every way a publish can fail answers its status and a message a person can act on, and
leaves nothing behind: no index entry, no package, no staged file."""

from __future__ import annotations

import io
import random
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.builders import Dist, metadata_text, sdist_bytes, wheel_bytes, write_wheel
from tests.support.driver import Organization, Registry, new_organization
from tests.support.server import PackyardServer


@pytest.fixture
def registry(org: Organization) -> Registry:
    return org.registry("Uploads")


@pytest.fixture
def writer(org: Organization) -> str:
    return org.token("read_packages", "write_packages")


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _wheel_members(dist: Dist) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(wheel_bytes(dist))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _assert_nothing_published(registry: Registry, token: str, project: str) -> None:
    assert registry.get(f"{project}/", token).status_code == 404
    staging = registry.yard.data_dir / "staging"
    assert not list(staging.iterdir()), "a failed upload left a staged file behind"


def test_publish_answers_the_package_as_json(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    dist = Dist("Shape-Check", "1.0")
    body = registry.publish(write_wheel(dist, tmp_path), writer).json()
    assert body["name"] == "Shape-Check"
    assert body["version"] == "1.0"
    assert body["filename"] == dist.wheel_filename
    assert body["size"] == len(wheel_bytes(dist))
    assert set(body["digests"]) >= {"sha256", "sha512"}
    assert body["registry"]["slug"] == registry.slug
    assert body["organization"]["slug"] == registry.organization
    assert body["url"].endswith(f"/registries/{registry.slug}/packages/{body['id']}")
    assert body["web_url"] == (
        f"{registry.yard.base_url}/organizations/{registry.organization}/packages/registries/"
        f"{registry.slug}/packages/{body['id']}"
    )


def test_publish_without_a_token_is_401(registry: Registry, tmp_path: Path) -> None:
    response = registry.publish(write_wheel(Dist("a", "1"), tmp_path), None, expect=401)
    assert response.headers["www-authenticate"].startswith("Basic")
    assert "token" in response.json()["message"].lower()


def test_publish_with_an_unknown_token_is_401(registry: Registry, tmp_path: Path) -> None:
    registry.publish(write_wheel(Dist("a", "1"), tmp_path), "pky_not-a-real-token", expect=401)


def test_publish_without_write_scope_is_403(
    org: Organization, registry: Registry, tmp_path: Path
) -> None:
    reader = org.token("read_packages")
    response = registry.publish(write_wheel(Dist("a", "1"), tmp_path), reader, expect=403)
    assert "write_packages" in response.json()["message"]


def test_publish_with_a_registry_token_is_403(registry: Registry, tmp_path: Path) -> None:
    response = registry.publish(write_wheel(Dist("a", "1"), tmp_path), registry.token(), expect=403)
    assert "read-only" in response.json()["message"]


def test_publish_to_an_unknown_registry_is_404(
    org: Organization, writer: str, tmp_path: Path
) -> None:
    missing = Registry(org.yard, org.slug, "no-such-registry")
    missing.publish(write_wheel(Dist("a", "1"), tmp_path), writer, expect=404)


def test_publish_to_an_unknown_organization_is_404(
    yard: PackyardServer, writer: str, tmp_path: Path
) -> None:
    missing = Registry(yard, "no-such-org", "uploads")
    missing.publish(write_wheel(Dist("a", "1"), tmp_path), writer, expect=404)


def test_token_of_another_organization_sees_404(
    yard: PackyardServer, registry: Registry, tmp_path: Path
) -> None:
    stranger = new_organization(yard, "stranger").token("read_packages", "write_packages")
    response = registry.publish(write_wheel(Dist("a", "1"), tmp_path), stranger, expect=404)
    assert registry.slug in response.json()["message"]


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("notes.txt", b"hello", "is not a wheel"),
        ("broken-1.0-py3-none-any.whl", b"not a zip at all", "zip"),
        ("broken-1.0.tar.gz", b"not gzip data", "tar.gz"),
        ("bad_name.whl", _zip({"x": b"y"}), "Invalid wheel file name"),
    ],
)
def test_publish_refuses_files_that_are_not_distributions(
    registry: Registry, writer: str, tmp_path: Path, filename: str, data: bytes, message: str
) -> None:
    response = registry.publish(_file(tmp_path, filename, data), writer, expect=400)
    assert message in response.json()["message"]


def test_publish_refuses_a_wheel_without_metadata(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    members = _wheel_members(Dist("no-meta", "1.0"))
    del members["no_meta-1.0.dist-info/METADATA"]
    path = _file(tmp_path, "no_meta-1.0-py3-none-any.whl", _zip(members))
    response = registry.publish(path, writer, expect=400)
    assert "METADATA" in response.json()["message"]
    _assert_nothing_published(registry, writer, "no-meta")


def test_publish_refuses_unparseable_metadata(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    members = _wheel_members(Dist("odd-meta", "1.0"))
    members["odd_meta-1.0.dist-info/METADATA"] = b"Metadata-Version: 2.1\nSummary: no name\n"
    path = _file(tmp_path, "odd_meta-1.0-py3-none-any.whl", _zip(members))
    response = registry.publish(path, writer, expect=400)
    assert "Name" in response.json()["message"]


@pytest.mark.parametrize(
    ("metadata_dist", "word"),
    [(Dist("other-name", "1.0"), "project"), (Dist("right-name", "2.0"), "version")],
)
def test_publish_refuses_metadata_that_disagrees_with_the_filename(
    registry: Registry, writer: str, tmp_path: Path, metadata_dist: Dist, word: str
) -> None:
    members = _wheel_members(Dist("right-name", "1.0"))
    members["right_name-1.0.dist-info/METADATA"] = metadata_text(metadata_dist).encode()
    path = _file(tmp_path, "right_name-1.0-py3-none-any.whl", _zip(members))
    response = registry.publish(path, writer, expect=400)
    assert word in response.json()["message"]
    _assert_nothing_published(registry, writer, "right-name")


@pytest.mark.parametrize("member", ["../evil.py", "/etc/evil.py", "pkg/../../evil.py"])
def test_publish_refuses_archive_members_escaping_the_archive(
    registry: Registry, writer: str, tmp_path: Path, member: str
) -> None:
    members = _wheel_members(Dist("escape", "1.0"))
    members[member] = b"print('owned')"
    path = _file(tmp_path, "escape-1.0-py3-none-any.whl", _zip(members))
    response = registry.publish(path, writer, expect=400)
    assert member in response.json()["message"]
    _assert_nothing_published(registry, writer, "escape")


def test_publish_refuses_a_tar_member_with_dotdot(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(sdist_bytes(Dist("tarred", "1.0")))) as source,
        tarfile.open(fileobj=buffer, mode="w:gz") as target,
    ):
        for info in source:
            target.addfile(info, source.extractfile(info))
        evil = tarfile.TarInfo("tarred-1.0/../../evil.py")
        evil.size = 3
        target.addfile(evil, io.BytesIO(b"x=1"))
    path = _file(tmp_path, "tarred-1.0.tar.gz", buffer.getvalue())
    response = registry.publish(path, writer, expect=400)
    assert "'..'" in response.json()["message"]


def test_publish_refuses_a_zip_bomb(registry: Registry, writer: str, tmp_path: Path) -> None:
    members = _wheel_members(Dist("bomb", "1.0"))
    members["bomb/zeros.bin"] = bytes(200 * 1024 * 1024)  # compresses about 1000:1
    path = _file(tmp_path, "bomb-1.0-py3-none-any.whl", _zip(members))
    response = registry.publish(path, writer, expect=400)
    assert "zip bomb" in response.json()["message"]
    _assert_nothing_published(registry, writer, "bomb")


def test_publish_with_the_file_under_another_field_is_400(registry: Registry, writer: str) -> None:
    response = httpx.post(
        registry.publish_url,
        headers={"Authorization": f"Bearer {writer}"},
        files={"other": ("x.whl", b"")},
    )
    assert response.status_code == 400
    assert "'file'" in response.json()["message"]


def test_publish_of_a_form_without_a_file_is_400(registry: Registry, writer: str) -> None:
    body = b'--b0undary\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b0undary--\r\n'
    response = httpx.post(
        registry.publish_url,
        headers={
            "Authorization": f"Bearer {writer}",
            "Content-Type": "multipart/form-data; boundary=b0undary",
        },
        content=body,
    )
    assert response.status_code == 400
    assert '"file"' in response.json()["message"]


def test_publish_of_a_plain_body_is_400(registry: Registry, writer: str) -> None:
    response = httpx.post(
        registry.publish_url, headers={"Authorization": f"Bearer {writer}"}, content=b"raw bytes"
    )
    assert response.status_code == 400
    assert "multipart/form-data" in response.json()["message"]


def test_publishing_the_same_bytes_again_answers_the_existing_package(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    path = write_wheel(Dist("again", "1.0"), tmp_path)
    first = registry.publish(path, writer).json()
    second = registry.publish(path, writer).json()
    assert second["id"] == first["id"]
    page = registry.get("again/", writer, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    assert len(page.json()["files"]) == 1


def test_publishing_other_bytes_under_a_taken_name_is_409(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    registry.publish(write_wheel(Dist("taken", "1.0"), tmp_path), writer)
    changed = Dist("taken", "1.0", summary="different bytes, same file name")
    replacement = tmp_path / "changed"
    replacement.mkdir()
    response = registry.publish(write_wheel(changed, replacement), writer, expect=409)
    assert response.json()["message"].startswith("File already exists")


def test_the_same_bytes_under_a_name_spelled_otherwise_answer_the_existing_package(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    dist = Dist("spelled", "1.0")
    first = registry.publish(write_wheel(dist, tmp_path), writer).json()
    respelled = _file(tmp_path, "Spelled-1.0-py3-none-any.whl", wheel_bytes(dist))
    second = registry.publish(respelled, writer).json()
    assert second["id"] == first["id"]
    assert second["filename"] == dist.wheel_filename


def test_other_bytes_under_a_name_spelled_otherwise_are_409(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    registry.publish(write_wheel(Dist("respelt", "1.0"), tmp_path), writer)
    changed = wheel_bytes(Dist("respelt", "1.0", summary="different bytes"))
    response = registry.publish(
        _file(tmp_path, "ReSpelt-1.0-py3-none-any.whl", changed), writer, expect=409
    )
    assert response.json()["message"].startswith("File already exists")


@pytest.fixture(scope="module")
def small_limit_yard(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend
) -> Iterator[PackyardServer]:
    server = backend.new_server(
        tmp_path_factory.mktemp("small"), {"PACKYARD_MAX_UPLOAD_BYTES": str(64 * 1024)}
    )
    server.start()
    yield server
    server.stop()


def test_publish_past_the_size_limit_is_413_while_streaming(
    small_limit_yard: PackyardServer, tmp_path: Path
) -> None:
    org = new_organization(small_limit_yard)
    registry = org.registry("Small")
    token = org.token("read_packages", "write_packages")
    noise = random.Random(0).randbytes(256 * 1024)  # incompressible: the wheel stays large
    large = Dist("large", "1.0", extra_files={"large/blob.bin": noise})
    response = registry.publish(write_wheel(large, tmp_path), token, expect=413)
    assert "65536" in response.json()["message"]
    _assert_nothing_published(registry, token, "large")
