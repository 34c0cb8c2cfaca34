"""Staying safe: ``packyard export`` writes what ``packyard import`` reads back into an empty
server, giving the same index pages; ``packyard backup`` taken while the server publishes
restores into a server that serves every file with its SHA256."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.builders import Dist, write_wheel
from tests.support.driver import Registry, new_organization
from tests.support.integrity import fsck, run_cli
from tests.support.moving import (
    JSON_INDEX,
    good_files,
    import_json,
    projects,
    write_files,
)
from tests.support.server import PackyardServer
from tests.support.static_index import IndexContent, static_index

HTML_INDEX = {"Accept": "text/html"}


@pytest.fixture
def empty_yard(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend
) -> Iterator[PackyardServer]:
    server = backend.new_server(tmp_path_factory.mktemp("empty"))
    server.start()
    yield server
    server.stop()


def _pages(registry: Registry, token: str) -> dict[str, str]:
    """Every index page of the registry (root and projects, JSON and HTML), with the
    server's own address taken out."""
    pages: dict[str, str] = {}
    for path in ["", *(f"{p}/" for p in projects(registry, token))]:
        for kind, headers in (("json", JSON_INDEX), ("html", HTML_INDEX)):
            response = registry.get(path, token, headers=headers)
            assert response.status_code == 200, response.text
            pages[f"{kind}:{path}"] = response.text.replace(registry.yard.base_url, "")
    return pages


def test_an_export_imported_into_an_empty_server_gives_identical_index_pages(
    yard: PackyardServer, empty_yard: PackyardServer, tmp_path: Path
) -> None:
    org = new_organization(yard, "exporter")
    registry = org.registry("Shipped")
    content = IndexContent(
        files=good_files("shipped", 2), yanked={"shipped_lib-1.0.tar.gz": "do not use"}
    )
    with static_index(content) as url:
        netrc = tmp_path / "netrc"
        netrc.write_text("machine 127.0.0.1 login mirror password s3cret-pass\n")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("NETRC", str(netrc))
            assert import_json(yard, org.slug, registry.slug, url)[0] == 0
    writer = org.token("read_packages", "write_packages")
    registry.publish(write_wheel(Dist("shipped-extra", "2.0"), tmp_path), writer)
    export = tmp_path / "export"

    code, out = run_cli(yard, "export", org.slug, registry.slug, str(export), "--json")

    assert code == 0, out
    assert json.loads(out)["files"] == 5
    manifest = json.loads((export / "packyard-export.json").read_text())
    entries = manifest["registries"][0]["files"]
    assert {e["filename"]: e["yanked_reason"] for e in entries}["shipped_lib-1.0.tar.gz"] == (
        "do not use"
    )
    empty_yard.admin("org", "create", org.slug)
    empty_yard.admin("registry", "create", org.slug, "Shipped")
    moved = Registry(empty_yard, org.slug, registry.slug)
    code, report = import_json(empty_yard, org.slug, registry.slug, str(export))
    assert code == 0, report
    assert report["files"]["imported"] == 5
    assert _pages(moved, moved.token()) == _pages(registry, registry.token())


def _publish_many(registry: Registry, token: str, folder: Path, prefix: str, count: int) -> None:
    for number in range(count):
        registry.publish(write_wheel(Dist(f"{prefix}-{number}", "1.0"), folder), token)


def _served_files(registry: Registry, token: str) -> dict[str, str]:
    """Every file the registry's index lists, downloaded: file name -> SHA256 of the bytes
    served, checked against the hash the index states."""
    served: dict[str, str] = {}
    for project in projects(registry, token):
        page = registry.get(f"{project}/", token, headers=JSON_INDEX)
        for file in page.json()["files"]:
            url = urljoin(str(page.url), file["url"])
            body = httpx.get(url, auth=("x", token), follow_redirects=True, timeout=30)
            assert body.status_code == 200, (file["filename"], body.status_code)
            digest = hashlib.sha256(body.content).hexdigest()
            assert digest == file["hashes"]["sha256"], file["filename"]
            served[file["filename"]] = digest
    return served


@pytest.mark.backend_independent  # the embedded database only: PostgreSQL has pg_dump
def test_a_backup_taken_while_publishing_restores_every_file(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    embedded = Backend(database="sqlite", storage="local")
    live = embedded.new_server(tmp_path_factory.mktemp("live"))
    live.start()
    backup = tmp_path / "backup"
    try:
        org = new_organization(live)
        registry = org.registry("Precious")
        writer = org.token("read_packages", "write_packages")
        _publish_many(registry, writer, tmp_path, "before", 8)
        during = threading.Thread(
            target=_publish_many, args=(registry, writer, tmp_path, "during", 8)
        )
        during.start()
        code, out = run_cli(live, "backup", str(backup), "--json")
        during.join()
        assert code == 0, out
        assert sorted(_served_files(registry, registry.token()))  # the live server is fine
    finally:
        live.stop()
    taken = json.loads(out)
    assert taken["ok"] is True
    assert taken["files"] >= 8

    restored = embedded.new_server(tmp_path_factory.mktemp("restored"))
    code, out = run_cli(restored, "restore", str(backup), "--json")
    assert code == 0, out
    restored.start()
    try:
        again = Registry(restored, registry.organization, registry.slug)
        token = restored.admin("token", "create", org.slug, "--registry", registry.slug).strip()
        served = _served_files(again, token)
        assert len(served) == taken["files"]
        assert {f"before-{n}" for n in range(8)} <= set(projects(again, token))
        assert fsck(restored)[0] == 0
        refused, _ = run_cli(restored, "restore", str(backup))
        assert refused == 1, "a restore over an existing database needs --replace"
    finally:
        restored.stop()


@pytest.mark.backend_independent
def test_a_backup_folder_that_is_incomplete_is_not_restored(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    embedded = Backend(database="sqlite", storage="local")
    target = embedded.new_server(tmp_path_factory.mktemp("target"))
    write_files(tmp_path / "half", {"packyard.sqlite3": b"not a database"})
    code, _ = run_cli(target, "restore", str(tmp_path / "half"))
    assert code == 1
    assert not (target.data_dir / "packyard.sqlite3").exists()
