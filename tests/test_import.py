"""``packyard import`` brings a registry's history in: a pypiserver folder, any simple index
over HTTP (Packyard's own, with a token; a static PEP 503 one behind basic auth), keeping
upload times and yank state, refusing hostile files with their reason, importing nothing
the second time, and finishing after being killed half-way."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.builders import Dist, wheel_bytes
from tests.support.driver import Organization, new_organization
from tests.support.integrity import fsck, run_cli
from tests.support.moving import (
    good_files,
    hostile_files,
    import_json,
    package_details,
    project_files,
    projects,
    write_files,
)
from tests.support.server import PackyardServer
from tests.support.static_index import IndexContent, static_index

PEP_700_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def test_a_pypiserver_folder_comes_in_with_file_times_and_hostile_files_refused(
    org: Organization, tmp_path: Path
) -> None:
    registry = org.registry("From folder")
    folder = tmp_path / "packages"
    good = write_files(folder / "team" / "nested", good_files("folder"))
    write_files(folder / ".cache", good_files("hidden", 1))  # dot-folders are skipped
    hostile = hostile_files("folder")
    write_files(folder, {h.filename: h.data for h in hostile})
    upload_times = {}
    for number, path in enumerate(good):
        moment = 1_600_000_000 + number * 3600
        os.utime(path, (moment, moment))
        upload_times[path.name] = datetime.fromtimestamp(moment, UTC).strftime(PEP_700_TIME)

    yard = registry.yard
    _, dry = import_json(yard, org.slug, registry.slug, str(folder), "--dry-run")
    assert dry["files"]["imported"] == len(good) + len(hostile)
    expected = sum(p.stat().st_size for p in good) + sum(len(h.data) for h in hostile)
    assert dry["bytes"]["imported"] == expected
    since = datetime.fromtimestamp(1_600_000_000 + 3 * 3600, UTC).isoformat()
    _, later = import_json(
        yard, org.slug, registry.slug, str(folder), "--dry-run", "--since", since
    )
    # The last three good files, and the hostile ones (written just now).
    assert later["files"]["imported"] == 3 + len(hostile)
    assert projects(registry, registry.token()) == [], "a dry run imports nothing"

    code, report = import_json(yard, org.slug, registry.slug, str(folder))

    assert code == 1, "refused files make the exit code say so"
    assert report["files"] == {
        "imported": len(good),
        "already_there": 0,
        "refused": len(hostile),
        "failed": 0,
    }
    reasons = {p["file"]: p["reason"] for p in report["problems"]}
    for file in hostile:
        assert file.reason in reasons[file.filename]
    token = registry.token()
    assert projects(registry, token) == ["folder-lib"]
    files = project_files(registry, token, "folder-lib")
    assert {name: f["upload-time"] for name, f in files.items()} == upload_times
    details = package_details(registry, org.token("read_packages"), good[0].name)
    assert details["imported_from"] == f"folder {folder}"

    code, again = import_json(registry.yard, org.slug, registry.slug, str(folder))
    assert again["files"]["imported"] == 0
    assert again["files"]["already_there"] == len(good)


def test_a_bandersnatch_mirror_comes_in_with_pypi_upload_times_and_yank_state(
    org: Organization, tmp_path: Path
) -> None:
    registry = org.registry("From bandersnatch")
    web = tmp_path / "mirror" / "web"
    (web / "simple" / "mirrored-lib").mkdir(parents=True)
    entries: list[dict[str, object]] = []
    for number, (name, data) in enumerate(good_files("mirrored", 2).items()):
        digest = hashlib.sha256(data).hexdigest()
        write_files(web / "packages" / digest[:2] / digest[2:4] / digest[4:], {name: data})
        entries.append(
            {
                "filename": name,
                "upload_time_iso_8601": f"2021-0{number + 1}-02T03:04:05.678901Z",
                "digests": {"sha256": digest},
                "size": len(data),
                "requires_python": ">=3.9",
                "yanked": name.endswith(".tar.gz"),
                "yanked_reason": "sdists are broken" if name.endswith(".tar.gz") else None,
            }
        )
    (web / "json").mkdir()
    document = {"info": {"name": "mirrored-lib"}, "releases": {"1.x": entries}}
    (web / "json" / "mirrored-lib").write_text(json.dumps(document))

    code, report = import_json(registry.yard, org.slug, registry.slug, str(web.parent))

    assert code == 0, report
    assert report["files"]["imported"] == 4
    files = project_files(registry, registry.token(), "mirrored-lib")
    for entry in entries:
        served = files[str(entry["filename"])]
        assert served["upload-time"] == entry["upload_time_iso_8601"]
        assert served["yanked"] == (entry["yanked_reason"] or False)


def test_packyard_index_over_http_with_a_token_keeps_times_and_requires_python(
    yard: PackyardServer, tmp_path: Path
) -> None:
    old_org = new_organization(yard, "old")
    old = old_org.registry("Old")
    writer = old_org.token("read_packages", "write_packages")
    for path in write_files(tmp_path / "dists", good_files("remote")):
        old.publish(path, writer)
    old_token = old.token()
    org = new_organization(yard, "new")
    registry = org.registry("Moved in")

    code, report = import_json(
        yard, org.slug, registry.slug, old.index_url(old_token), "--project", "remote-*"
    )

    assert code == 0, report
    assert report["files"]["imported"] == 6
    assert old_token not in report["source"], "credentials are never recorded"
    source = project_files(old, old_token, "remote-lib")
    moved = project_files(registry, registry.token(), "remote-lib")
    for name, entry in source.items():
        assert moved[name]["upload-time"] == entry["upload-time"]
        assert moved[name]["requires-python"] == entry["requires-python"] == ">=3.9"
        assert moved[name]["hashes"] == entry["hashes"]
    details = package_details(registry, org.token("read_packages"), next(iter(moved)))
    assert details["imported_from"] == old.simple_url


def test_a_static_index_behind_basic_auth_with_hostile_corrupt_and_flaky_files(
    org: Organization, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = org.registry("From static")
    good = good_files("static", 2)
    hostile = hostile_files("static")
    corrupt = Dist("static-corrupt", "1.0")
    content = IndexContent(
        files={**good, **{h.filename: h.data for h in hostile}},
        yanked={"static_lib-1.0.tar.gz": "broken build"},
    )
    content.files[corrupt.wheel_filename] = wheel_bytes(corrupt)
    content.stated_sha256[corrupt.wheel_filename] = "0" * 64
    with static_index(content) as url:
        content.failures["/simple/"] = [503]
        content.failures["/files/static_lib-1.1-py3-none-any.whl"] = [429, 502]
        refused_code, _ = run_cli(registry.yard, "import", org.slug, registry.slug, url)
        netrc = tmp_path / "netrc"
        netrc.write_text("machine 127.0.0.1 login mirror password s3cret-pass\n")
        monkeypatch.setenv("NETRC", str(netrc))
        code, report = import_json(registry.yard, org.slug, registry.slug, url)

    assert refused_code == 1, "no credentials: the index says 401"
    assert code == 1
    assert report["files"] == {
        "imported": len(good),
        "already_there": 0,
        "refused": len(hostile),
        "failed": 1,
    }
    problems = {p["file"]: p for p in report["problems"]}
    assert "SHA256 mismatch" in problems[corrupt.wheel_filename]["reason"]
    for file in hostile:
        assert file.reason in problems[file.filename]["reason"]
    files = project_files(registry, registry.token(), "static-lib")
    assert files["static_lib-1.0.tar.gz"]["yanked"] == "broken build"
    assert files["static_lib-1.1-py3-none-any.whl"]["yanked"] is False
    assert projects(registry, registry.token()) == ["static-lib"]


def test_an_import_killed_half_way_finishes_without_duplicates_or_holes_when_run_again(
    org: Organization, tmp_path: Path
) -> None:
    registry = org.registry("Resumed")
    total = 240
    folder = tmp_path / "bulk"
    write_files(
        folder,
        {
            Dist(f"bulk-{n}", "1.0").wheel_filename: wheel_bytes(Dist(f"bulk-{n}", "1.0"))
            for n in range(total)
        },
    )
    yard = registry.yard
    command = [sys.executable, "-m", "packyard.cli.main", "import", org.slug, registry.slug]
    command += [str(folder), "--progress-every", "5", "--concurrency", "2"]
    with subprocess.Popen(
        command, env=yard.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            if line.startswith("record:"):
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the import was killed, not finished"
    token = registry.token()
    before = len(projects(registry, token))
    assert 0 < before < total

    code, report = import_json(yard, org.slug, registry.slug, str(folder))

    assert code == 0, report
    assert report["files"]["already_there"] == before
    assert report["files"]["imported"] == total - before
    assert projects(registry, token) == sorted(f"bulk-{n}" for n in range(total))
    assert fsck(yard)[0] == 0
