"""Freshness for installers, with their HTTP caches on: pip and uv revalidate index pages by
ETag, so a version published right after they resolved is seen on their next run; and
``upload-time`` is each file's original upload time, in a source registry and for the
files a composite serves from PyPI, so ``pip install --uploaded-prior-to`` and
``uv pip install --exclude-newer`` pick the same versions there as they would on PyPI."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.builders import Dist, write_wheel
from tests.support.clients import (
    CLIENT_TIMEOUT_SECONDS,
    INSTALLERS,
    Installer,
    Venv,
    isolated_env,
    uv_executable,
)
from tests.support.driver import Organization, Registry
from tests.support.fake_pypi import FakePypi, wheel_file
from tests.support.lifecycle import project_json
from tests.support.metrics import settled_scrape
from tests.support.server import PackyardServer

pytestmark = pytest.mark.timeout(600)

PROJECT_ROUTE = "/{organization}/{registry}/pypi/simple/{project}/"
REVALIDATED = {"route": PROJECT_ROUTE, "method": "GET", "status": "304"}


def cached_install(
    installer: Installer, venv: Venv, cache: Path, index_url: str, *args: str
) -> None:
    """Install as a person does, with the installer's HTTP cache in ``cache`` (the test
    helpers otherwise turn caches off)."""
    env = isolated_env()
    env.pop("UV_NO_CACHE", None)
    if installer == "pip":
        command = [sys.executable, "-m", "pip", "--python", venv.python, "install"]
        # pip caches only what it fetched over HTTPS or from a trusted host.
        command += ["--cache-dir", str(cache), "--trusted-host", "127.0.0.1"]
    else:
        command = [uv_executable(), "pip", "install", "--python", venv.python]
        command += ["--cache-dir", str(cache)]
    result = subprocess.run(
        [*command, "--index-url", index_url, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize("installer", INSTALLERS)
def test_a_version_published_right_after_a_resolution_is_seen_on_the_next_cached_run(
    yard: PackyardServer, org: Organization, tmp_path: Path, venv: Venv, installer: Installer
) -> None:
    registry = org.registry("Fresh")
    writer = org.token("read_packages", "write_packages")
    registry.publish(write_wheel(Dist("fresh-app", "1.0"), tmp_path), writer)
    cache, index = tmp_path / "cache", registry.index_url(writer)

    cached_install(installer, venv, cache, index, "fresh-app")
    assert venv.installed_version("fresh_app") == "1.0"
    # Nothing changed: the cached page is revalidated by its ETag (304), not refetched.
    before = settled_scrape(yard.base_url)
    cached_install(installer, venv, cache, index, "--upgrade", "fresh-app")
    after = settled_scrape(yard.base_url)
    assert after.value("packyard_http_requests_total", **REVALIDATED) > before.value(
        "packyard_http_requests_total", **REVALIDATED
    )

    registry.publish(write_wheel(Dist("fresh-app", "1.1"), tmp_path), writer)
    cached_install(installer, venv, cache, index, "--upgrade", "fresh-app")
    assert venv.installed_version("fresh_app") == "1.1"


def _cutoff_flag(installer: Installer, cutoff: str) -> tuple[str, ...]:
    return ("--uploaded-prior-to", cutoff) if installer == "pip" else ("--exclude-newer", cutoff)


def _upload_time(registry: Registry, token: str, project: str, filename: str) -> datetime:
    files = project_json(registry, token, project).json()["files"]
    (stamp,) = [f["upload-time"] for f in files if f["filename"] == filename]
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@pytest.mark.parametrize("installer", INSTALLERS)
def test_an_upload_time_cutoff_picks_the_version_published_before_it(
    org: Organization, tmp_path: Path, venv: Venv, installer: Installer
) -> None:
    registry = org.registry("Dated")
    writer = org.token("read_packages", "write_packages")
    old = write_wheel(Dist("dated-app", "1.0"), tmp_path)
    registry.publish(old, writer)
    published = _upload_time(registry, writer, "dated-app", old.name)
    # Clients compare whole seconds at least; the next upload comes a second later.
    time.sleep(1.2)
    registry.publish(write_wheel(Dist("dated-app", "2.0"), tmp_path), writer)
    cutoff = (published + timedelta(seconds=0.6)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    venv.install(
        installer, registry.index_url(writer), "dated-app", extra=_cutoff_flag(installer, cutoff)
    )
    assert venv.installed_version("dated_app") == "1.0"


@pytest.mark.parametrize("installer", INSTALLERS)
@pytest.mark.parametrize("pypi_files", ["link", "cache"])
def test_a_composite_keeps_pypi_upload_times_so_cutoffs_work_through_it(
    corg: Organization,
    fake_pypi: FakePypi,
    venv: Venv,
    installer: Installer,
    pypi_files: str,
) -> None:
    name = f"{corg.slug}-dated-{pypi_files}"
    fake_pypi.add(
        name,
        wheel_file(Dist(name, "1.0"), upload_time="2024-01-10T08:00:00.000000Z"),
        wheel_file(Dist(name, "2.0"), upload_time="2025-06-01T12:30:00.000000Z"),
    )
    composite = corg.composite("All", "pypi", options=("--pypi-files", pypi_files))
    token = composite.token()

    files = project_json(composite, token, name).json()["files"]
    assert [f["upload-time"] for f in files] == [
        "2024-01-10T08:00:00.000000Z",
        "2025-06-01T12:30:00.000000Z",
    ]
    cutoff = datetime(2025, 1, 1, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    venv.install(installer, composite.index_url(token), name, extra=_cutoff_flag(installer, cutoff))
    assert venv.installed_version(Dist(name, "1.0").module) == "1.0"
