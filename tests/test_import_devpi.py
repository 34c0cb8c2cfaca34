"""Moving from devpi: a real ``devpi-server`` (in a virtual environment of its own, made once
per session like twine 6.1's) holds a stage index with good and hostile uploads and a mirror
index; ``devpi-export`` writes its export, and ``packyard import --index user/name`` brings
the stage in with devpi's upload times, refusing the hostile files."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.clients import Venv
from tests.support.driver import Organization
from tests.support.integrity import run_cli
from tests.support.moving import (
    good_files,
    hostile_files,
    import_json,
    package_details,
    project_files,
    projects,
    write_files,
)
from tests.support.publishers import Publisher, make_tool_venv
from tests.support.server import free_port
from tests.support.waiting import answers, eventually

DEVPI = ("devpi-server==6.20.3", "devpi-client==7.3.0")
PEP_700_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


@pytest.fixture(scope="session")
def devpi_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return make_tool_venv(tmp_path_factory.mktemp("devpi") / "venv", *DEVPI)


@pytest.fixture(scope="module")
def devpi_export(devpi_venv: Venv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export of a devpi server whose ``alice/dev`` holds good and hostile files and
    whose ``alice/mirror`` mirrors an index that is never reached."""
    root = tmp_path_factory.mktemp("devpi-data")
    bin_dir = Path(devpi_venv.path) / "bin"
    person = Publisher(root / "home")
    person.home.mkdir()
    server_dir, port = root / "server", free_port()
    person.run(
        str(bin_dir / "devpi-init"), "--serverdir", str(server_dir), "--no-root-pypi", cwd=root
    )
    with (root / "devpi.log").open("wb") as log:
        server = subprocess.Popen(
            [
                str(bin_dir / "devpi-server"),
                "--serverdir",
                str(server_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=person.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(f"http://127.0.0.1:{port}/+api", server)
        devpi = str(bin_dir / "devpi")
        dists = root / "dists"
        write_files(dists, good_files("devpied", 2))
        write_files(dists, {h.filename: h.data for h in hostile_files("devpied")})
        for args in (
            ("use", f"http://127.0.0.1:{port}/"),
            ("user", "-c", "alice", "password=secret", "email=alice@example.invalid"),
            ("login", "alice", "--password", "secret"),
            ("index", "-c", "dev", "bases="),
            ("index", "-c", "mirror", "type=mirror", "mirror_url=http://127.0.0.1:9/simple/"),
            ("use", "alice/dev"),
            ("upload", "--from-dir", str(dists)),
        ):
            person.run(devpi, *args, cwd=root)
    finally:
        server.terminate()
        server.wait(timeout=30)
    export = root / "export"
    person.run(str(bin_dir / "devpi-export"), "--serverdir", str(server_dir), str(export), cwd=root)
    return export


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> None:
    def up() -> bool:
        assert server.poll() is None, "devpi-server exited"
        return answers(url)

    eventually(up, 60, "devpi-server did not start")


def _devpi_upload_times(export: Path) -> dict[str, str]:
    """When devpi says each file of alice/dev was uploaded, as PEP 700 writes it."""
    document = json.loads((export / "dataindex.json").read_text())
    times = {}
    for entry in document["indexes"]["alice/dev"]["files"]:
        when = datetime(*entry["log"][0]["when"][:6]).replace(tzinfo=UTC)
        times[entry["relpath"].rsplit("/", 1)[-1]] = when.strftime(PEP_700_TIME)
    return times


def test_a_devpi_export_comes_in_with_devpi_upload_times_and_hostile_files_refused(
    org: Organization, devpi_export: Path
) -> None:
    registry = org.registry("From devpi")
    yard = registry.yard

    code, report = import_json(
        yard, org.slug, registry.slug, str(devpi_export), "--index", "alice/dev"
    )

    assert code == 1, "hostile files were refused"
    assert report["files"] == {"imported": 4, "already_there": 0, "refused": 3, "failed": 0}
    refused = {p["file"]: p["reason"] for p in report["problems"]}
    for file in hostile_files("devpied"):
        assert file.reason in refused[file.filename]
    token = registry.token()
    assert projects(registry, token) == ["devpied-lib"]
    files = project_files(registry, token, "devpied-lib")
    expected = {k: v for k, v in _devpi_upload_times(devpi_export).items() if k in files}
    assert {name: f["upload-time"] for name, f in files.items()} == expected
    assert len(expected) == 4
    details = package_details(registry, org.token("read_packages"), next(iter(files)))
    assert details["imported_from"] == f"devpi export {devpi_export} (index alice/dev)"

    _, again = import_json(yard, org.slug, registry.slug, str(devpi_export), "--index", "alice/dev")
    assert again["files"]["imported"] == 0
    assert again["files"]["already_there"] == 4


def test_a_devpi_mirror_index_is_not_imported(org: Organization, devpi_export: Path) -> None:
    registry = org.registry("Mirror")
    code, _ = run_cli(
        registry.yard,
        "import",
        org.slug,
        registry.slug,
        str(devpi_export),
        "--index",
        "alice/mirror",
    )
    assert code == 1
    assert projects(registry, registry.token()) == []
