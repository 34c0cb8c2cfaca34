"""The local blob folder's layout: one fan-out folder per first two hex digits of a blob's
SHA256, all made with the store, so that publishing never creates a folder; a data folder
written by an earlier Packyard (two folders deep) is served after the upgrade, whole."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from packyard.blobs.local import LAYOUT_MARK
from tests.support.builders import Dist, write_sdist, write_wheel
from tests.support.driver import Registry, new_organization
from tests.support.integrity import fsck
from tests.support.server import PackyardServer

pytestmark = pytest.mark.backend_independent  # the local folder is the subject


def _blob_files(root: Path) -> dict[str, Path]:
    return {path.name: path for path in root.rglob("*") if path.is_file() and len(path.name) == 64}


def _into_earlier_layout(root: Path) -> None:
    """Lay ``root`` out as Packyard did before the change: ``ab/cd/abcd…``, no mark, no
    empty fan-out folders; with an unfinished write left in one folder."""
    for key, path in _blob_files(root).items():
        inner = root / key[:2] / key[2:4]
        inner.mkdir(exist_ok=True)
        os.replace(path, inner / key)
        (inner / ".incoming-left-over").write_bytes(b"half a file")
    (root / LAYOUT_MARK).unlink()
    for folder in root.iterdir():
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _published_then_stopped(
    tmp_path: Path, files: list[Path]
) -> tuple[PackyardServer, Registry, str]:
    """A server that published ``files`` to a new registry, stopped; with that registry
    and a token that reads and writes it."""
    server = PackyardServer(tmp_path / "data", tmp_path / "server.log")
    server.start()
    org = new_organization(server)
    registry, token = org.registry("Layout"), org.token("read_packages", "write_packages")
    for path in files:
        registry.publish(path, token)
    server.stop()
    return server, registry, token


def test_a_new_store_has_every_fan_out_folder_and_publishing_makes_none(
    tmp_path: Path,
) -> None:
    server = PackyardServer(tmp_path / "data", tmp_path / "server.log")
    server.start()
    try:
        blobs = server.data_dir / "blobs"
        folders = sorted(path.name for path in blobs.iterdir() if path.is_dir())
        assert folders == [f"{number:02x}" for number in range(256)]
        org = new_organization(server)
        registry, token = org.registry("Layout"), org.token("read_packages", "write_packages")
        dist = Dist("layout-new", "1.0")
        registry.publish(write_wheel(dist, tmp_path), token)
        stored = _blob_files(blobs)
        assert len(stored) == 2, "the wheel and its metadata"
        for key, path in stored.items():
            assert path == blobs / key[:2] / key
        assert sorted(path.name for path in blobs.iterdir() if path.is_dir()) == folders
    finally:
        server.stop()


def test_a_data_folder_in_the_earlier_layout_is_served_whole_after_the_upgrade(
    tmp_path: Path,
) -> None:
    wheel, sdist = Dist("layout-old", "1.0"), Dist("layout-old", "1.1")
    files = [write_wheel(wheel, tmp_path), write_sdist(sdist, tmp_path)]
    sent = {path.name: path.read_bytes() for path in files}
    server, registry, token = _published_then_stopped(tmp_path, files)
    blobs = server.data_dir / "blobs"
    before = _blob_files(blobs)
    _into_earlier_layout(blobs)
    assert all(path.parent.parent.parent == blobs for path in _blob_files(blobs).values())

    server.start()
    try:
        after = _blob_files(blobs)
        assert sorted(after) == sorted(before), "every blob is kept"
        assert all(after[key] == blobs / key[:2] / key for key in after)
        assert (blobs / LAYOUT_MARK).is_file()
        assert not [path for path in blobs.rglob("*") if path.name.startswith(".incoming-")]
        assert all(path.parent == blobs for path in blobs.iterdir() if path.is_dir())
        for name, content in sent.items():
            served = registry.get(f"../files/{name}", token)
            assert served.status_code == 200
            assert served.content == content
        metadata = registry.get(f"../files/{wheel.wheel_filename}.metadata", token)
        assert metadata.status_code == 200
        assert b"Name: layout-old" in metadata.content
        newer = Dist("layout-old", "1.2")
        registry.publish(write_wheel(newer, tmp_path), token)
        code, report = fsck(server)
        assert code == 0, report
    finally:
        server.stop()


def test_a_read_only_blob_folder_in_the_earlier_layout_is_refused_with_what_to_do(
    tmp_path: Path,
) -> None:
    server, _, _ = _published_then_stopped(
        tmp_path, [write_wheel(Dist("layout-frozen", "1.0"), tmp_path)]
    )
    blobs = server.data_dir / "blobs"
    _into_earlier_layout(blobs)
    before = sorted(str(path.relative_to(blobs)) for path in blobs.rglob("*"))
    bound = subprocess.run(["mount", "--bind", str(blobs), str(blobs)], capture_output=True)
    if bound.returncode != 0:
        pytest.skip(f"cannot mount a read-only folder here: {bound.stderr!r}")
    try:
        subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(blobs)], capture_output=True, check=True
        )
        refused = server.cli("serve", "--port", str(server.port), check=False)
        assert refused.returncode != 0
        assert "laid out as by an earlier Packyard" in refused.stderr
        assert "copy it where it can be written to" in refused.stderr
        assert "Traceback" not in refused.stderr
    finally:
        subprocess.run(["umount", str(blobs)], check=False)
    assert sorted(str(path.relative_to(blobs)) for path in blobs.rglob("*")) == before
