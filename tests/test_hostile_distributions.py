"""Hostile distribution files are refused with 400 and a message naming the problem, and
leave nothing behind: no package, no blob, no staged file. (More in test_publish_errors.py:
members escaping with ``..`` or an absolute path in a zip, the zip bomb by ratio, metadata
disagreeing with the file name.)"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.archives import (
    GIB,
    make_zip,
    multipart_body,
    sdist_with,
    tar_member,
    wheel_members,
    zip_declaring_size,
)
from tests.support.backends import Backend
from tests.support.builders import Dist, metadata_text, sdist_bytes, wheel_bytes
from tests.support.driver import Organization, Registry, new_organization
from tests.support.server import PackyardServer

pytestmark = pytest.mark.backend_independent

JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


@pytest.fixture
def registry(org: Organization) -> Registry:
    return org.registry("Hostile")


@pytest.fixture
def writer(org: Organization) -> str:
    return org.token("read_packages", "write_packages")


def _publish(
    registry: Registry, token: str, tmp_path: Path, filename: str, data: bytes, expect: int
) -> httpx.Response:
    path = tmp_path / filename
    path.write_bytes(data)
    return registry.publish(path, token, expect=expect)


def _assert_refused(
    registry: Registry,
    token: str,
    tmp_path: Path,
    filename: str,
    data: bytes,
    message: str,
) -> None:
    """Publishing ``data`` answers 400 with ``message`` in it, and nothing is stored."""
    response = _publish(registry, token, tmp_path, filename, data, 400)
    assert message in response.json()["message"], response.json()
    _assert_nothing_stored(registry, token, data)


def _assert_nothing_stored(registry: Registry, token: str, data: bytes) -> None:
    root = registry.get("", token, headers=JSON).json()
    assert root["projects"] == [], "a refused file created a project"
    assert not list((registry.yard.data_dir / "staging").iterdir()), "a staged file remained"
    key = hashlib.sha256(data).hexdigest()
    blob = registry.yard.data_dir / "blobs" / key[:2] / key
    assert not blob.exists(), "a refused file's bytes were stored"


# -- zip bombs ---------------------------------------------------------------------------


def test_a_zip_declaring_an_absurd_expanded_size_is_refused(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    members = wheel_members(Dist("liar", "1.0"))
    data = zip_declaring_size(members, "liar/__init__.py", 17 * GIB)
    _assert_refused(registry, writer, tmp_path, "liar-1.0-py3-none-any.whl", data, "zip bomb")


@pytest.fixture(scope="module")
def small_expansion_yard(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend
) -> Iterator[PackyardServer]:
    server = backend.new_server(
        tmp_path_factory.mktemp("expansion"), {"PACKYARD_MAX_EXPANDED_BYTES": str(4 * 1024**2)}
    )
    server.start()
    yield server
    server.stop()


def test_an_archive_expanding_past_the_absolute_limit_is_refused(
    small_expansion_yard: PackyardServer, tmp_path: Path
) -> None:
    org = new_organization(small_expansion_yard)
    registry, token = org.registry("Small"), org.token("read_packages", "write_packages")
    # Ratio about 1:1, so only the absolute limit (4 MiB here) can refuse it.
    noise = hashlib.shake_256(b"noise").digest(5 * 1024**2)
    dist = Dist("wide", "1.0", extra_files={"wide/noise.bin": noise})
    _assert_refused(
        registry, token, tmp_path, dist.wheel_filename, wheel_bytes(dist), "expands past 4194304"
    )


def test_nested_archives_are_stored_as_members_never_expanded(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    inner_bomb = make_zip({"zeros.bin": bytes(64 * 1024**2)})  # 64 MiB of zeros, ~64 KiB
    inner_sdist = sdist_bytes(Dist("inner", "1.0"))
    dist = Dist(
        "nested",
        "1.0",
        extra_files={"nested/bomb.zip": inner_bomb, "nested/inner-1.0.tar.gz": inner_sdist},
    )
    body = _publish(registry, writer, tmp_path, dist.wheel_filename, wheel_bytes(dist), 200)
    details = httpx.get(body.json()["url"], headers={"Authorization": f"Bearer {writer}"}).json()
    files = {f["path"]: f["size"] for f in details["files"]}
    assert files["nested/bomb.zip"] == len(inner_bomb)
    assert files["nested/inner-1.0.tar.gz"] == len(inner_sdist)
    assert not any(path.startswith("nested/bomb.zip/") for path in files)


# -- tar members that are not regular files ------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (tarfile.SYMTYPE, "is a link"),
        (tarfile.LNKTYPE, "is a link"),
        (tarfile.CHRTYPE, "device, FIFO"),
        (tarfile.BLKTYPE, "device, FIFO"),
        (tarfile.FIFOTYPE, "device, FIFO"),
    ],
    ids=["symlink", "hardlink", "char-device", "block-device", "fifo"],
)
def test_an_sdist_with_a_special_member_is_refused(
    registry: Registry, writer: str, tmp_path: Path, kind: bytes, message: str
) -> None:
    dist = Dist("special", "1.0")
    member = tar_member("special-1.0/special/thing", kind, linkname="/etc/passwd")
    data = sdist_with(dist, member)
    _assert_refused(registry, writer, tmp_path, dist.sdist_filename, data, message)


def test_a_wheel_with_a_symlink_member_is_refused(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    dist = Dist("zlink", "1.0")
    members = wheel_members(dist)
    members["zlink/passwd"] = b"/etc/passwd"
    data = make_zip(members, symlinks=("zlink/passwd",))
    _assert_refused(registry, writer, tmp_path, dist.wheel_filename, data, "symbolic link")


@pytest.mark.parametrize(
    ("member", "message"),
    [("/etc/cron.d/evil", "absolute path"), ("special-1.0/../../evil.py", "'..'")],
)
def test_an_sdist_member_escaping_the_archive_is_refused(
    registry: Registry, writer: str, tmp_path: Path, member: str, message: str
) -> None:
    dist = Dist("special", "1.0")
    data = sdist_with(dist, tar_member(member), data=b"x = 1\n")
    _assert_refused(registry, writer, tmp_path, dist.sdist_filename, data, message)


# -- duplicate members ---------------------------------------------------------------------


def test_a_wheel_with_a_duplicate_member_is_refused(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    dist = Dist("twice", "1.0")
    members = list(wheel_members(dist).items())
    members.append(("twice/__init__.py", b"import os; os.system('evil')\n"))
    data = make_zip(members)
    _assert_refused(registry, writer, tmp_path, dist.wheel_filename, data, "more than once")


def test_an_sdist_with_a_duplicate_member_is_refused(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    dist = Dist("twice", "1.0")
    data = sdist_with(dist, tar_member("twice-1.0/twice/__init__.py"), data=b"evil = 1\n")
    _assert_refused(registry, writer, tmp_path, dist.sdist_filename, data, "more than once")


# -- WHEEL and RECORD ----------------------------------------------------------------------

_DIST_INFO = "books-1.0.dist-info"


def _missing(name: str) -> dict[str, bytes]:
    members = wheel_members(Dist("books", "1.0"))
    del members[f"{_DIST_INFO}/{name}"]
    return members


def _replaced(name: str, data: bytes) -> dict[str, bytes]:
    members = wheel_members(Dist("books", "1.0"))
    members[f"{_DIST_INFO}/{name}"] = data
    return members


def _record_without_module() -> dict[str, bytes]:
    members = wheel_members(Dist("books", "1.0"))
    record = members[f"{_DIST_INFO}/RECORD"].decode().splitlines()
    kept = [line for line in record if not line.startswith("books/__init__.py")]
    members[f"{_DIST_INFO}/RECORD"] = ("\n".join(kept) + "\n").encode()
    return members


def _unrecorded_member() -> dict[str, bytes]:
    members = wheel_members(Dist("books", "1.0"))
    members["books/smuggled.py"] = b"import os\n"
    return members


def _record_with_wrong_size() -> dict[str, bytes]:
    members = wheel_members(Dist("books", "1.0"))
    record = members[f"{_DIST_INFO}/RECORD"].decode()
    size = len(members["books/__init__.py"])
    members[f"{_DIST_INFO}/RECORD"] = record.replace(f",{size}\n", f",{size + 1}\n", 1).encode()
    return members


@pytest.mark.parametrize(
    ("members", "message"),
    [
        (_missing("RECORD"), "Wheel has no books-1.0.dist-info/RECORD"),
        (_missing("WHEEL"), "Wheel has no books-1.0.dist-info/WHEEL"),
        (_replaced("WHEEL", b"Generator: nothing\n"), "exactly one Wheel-Version"),
        (_replaced("WHEEL", b"Wheel-Version: 2.0\n"), "only 1.x wheels"),
        (_record_without_module(), "does not list 1 file(s): 'books/__init__.py'"),
        (_unrecorded_member(), "'books/smuggled.py'"),
        (_replaced("RECORD", b"books/gone.py,,\n"), "which the wheel does not hold"),
        (_replaced("RECORD", b"\xff\xfe\x00"), "not a readable CSV"),
        (_record_with_wrong_size(), "but the wheel holds"),
    ],
    ids=[
        "no-record",
        "no-wheel",
        "wheel-without-version",
        "wheel-version-2",
        "record-misses-a-file",
        "member-not-in-record",
        "record-names-a-missing-file",
        "record-not-utf8",
        "record-wrong-size",
    ],
)
def test_a_wheel_with_a_missing_or_wrong_record_or_wheel_file_is_refused(
    registry: Registry, writer: str, tmp_path: Path, members: dict[str, bytes], message: str
) -> None:
    data = make_zip(members)
    _assert_refused(registry, writer, tmp_path, "books-1.0-py3-none-any.whl", data, message)


# -- names and versions --------------------------------------------------------------------


def test_an_invalid_pep_440_version_in_the_file_name_is_refused(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    data = make_zip(wheel_members(Dist("odd", "1.0")))
    _assert_refused(
        registry, writer, tmp_path, "odd-1.0.banana-py3-none-any.whl", data, "Invalid wheel"
    )


def test_an_invalid_pep_440_version_in_the_metadata_is_refused(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    members = wheel_members(Dist("odd", "1.0"))
    members["odd-1.0.dist-info/METADATA"] = metadata_text(Dist("odd", "one point oh")).encode()
    _assert_refused(
        registry,
        writer,
        tmp_path,
        "odd-1.0-py3-none-any.whl",
        make_zip(members),
        "not a valid PEP 440 version",
    )


def test_an_invalid_requires_python_is_refused(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    """Security probe F13: it would be served in every index page of the project."""
    dist = Dist("pyreq", "1.0", requires_python='>=3.8" onmouseover="alert(1)')
    _assert_refused(
        registry,
        writer,
        tmp_path,
        dist.wheel_filename,
        wheel_bytes(dist),
        "invalid Requires-Python",
    )


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        (b"evil\x00-1.0.tar.gz", "control character"),
        (b"evil\x01-1.0.tar.gz", "control character"),
        (b"evil\x1b[31m-1.0.tar.gz", "control character"),
        (b"a" * 290 + b"-1.0.tar.gz", "at most 255 allowed"),
    ],
    ids=["nul", "control", "escape-sequence", "300-characters"],
)
def test_a_hostile_file_name_is_refused(
    registry: Registry, writer: str, filename: bytes, message: str
) -> None:
    data = sdist_bytes(Dist("evil", "1.0"))
    response = httpx.post(
        registry.publish_url,
        headers={
            "Authorization": f"Bearer {writer}",
            "Content-Type": "multipart/form-data; boundary=b0undary",
        },
        content=multipart_body(filename, data),
    )
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]
    _assert_nothing_stored(registry, writer, data)


def test_names_differing_only_by_normalization_are_one_project(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    first, second = Dist("Same.Name", "1.0"), Dist("same_NAME", "2.0")
    for dist in (first, second):
        _publish(registry, writer, tmp_path, dist.wheel_filename, wheel_bytes(dist), 200)
    assert registry.get("", writer, headers=JSON).json()["projects"] == [{"name": "same-name"}]
    page = registry.get("SAME--name/", writer, headers=JSON, follow_redirects=True).json()
    assert page["versions"] == ["1.0", "2.0"]


def test_a_file_name_differing_only_by_normalization_is_the_same_file(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    original = Dist("Same.Name", "1.0")
    _publish(registry, writer, tmp_path, "Same.Name-1.0.tar.gz", sdist_bytes(original), 200)
    other_bytes = sdist_bytes(Dist("same_name", "1.0", summary="other bytes"))
    response = _publish(registry, writer, tmp_path, "same_name-1.0.tar.gz", other_bytes, 409)
    assert response.json()["message"].startswith("File already exists")
    page = registry.get("same-name/", writer, headers=JSON).json()
    assert [f["filename"] for f in page["files"]] == ["Same.Name-1.0.tar.gz"]


def test_io_helpers_build_what_they_claim() -> None:
    """The hostile archives really are what the tests above say (a test that cannot fail
    would prove nothing)."""
    data = zip_declaring_size({"a": b"x"}, "a", 17 * GIB)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.getinfo("a").file_size == 17 * GIB
    with tarfile.open(fileobj=io.BytesIO(sdist_with(Dist("t", "1"), tar_member("t-1/f")))) as t:
        assert [m.name for m in t.getmembers()].count("t-1/f") == 1
