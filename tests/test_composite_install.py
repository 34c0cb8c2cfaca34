"""One index URL for everything: pip and uv install a private package whose dependencies
come from (the stand-in for) PyPI, in one resolution, through a composite registry; a
public package under the private name is never picked."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.builders import Dist, write_wheel
from tests.support.clients import INSTALLERS, Installer, Venv, isolated_env, uv_executable
from tests.support.driver import Organization, Registry
from tests.support.fake_pypi import FakePypi, wheel_file

pytestmark = pytest.mark.timeout(600)


@dataclass
class Setup:
    composite: Registry
    token: str
    app: Dist
    dep: Dist
    leaf: Dist


def _setup(corg: Organization, fake_pypi: FakePypi, tmp_path: Path, *options: str) -> Setup:
    prefix = corg.slug
    leaf = Dist(f"{prefix}-leaf", "1.5")
    dep = Dist(f"{prefix}-dep", "2.0", requires=[f"{prefix}-leaf>=1"])
    app = Dist(f"{prefix}-app", "1.0", requires=[f"{prefix}-dep>=1"])
    fake_pypi.add(dep.name, wheel_file(Dist(dep.name, "1.0")), wheel_file(dep))
    fake_pypi.add(leaf.name, wheel_file(leaf))
    # The dependency-confusion attack: a higher version of the private name on PyPI.
    fake_pypi.add(app.name, wheel_file(Dist(app.name, "99.0")))
    writer = corg.token("read_packages", "write_packages")
    private = corg.registry("Private")
    private.publish(write_wheel(app, tmp_path), writer)
    composite = corg.composite("All", "private", "pypi", options=options)
    return Setup(composite, composite.token(), app, dep, leaf)


def _assert_installed(venv: Venv, setup: Setup) -> None:
    for dist in (setup.app, setup.dep, setup.leaf):
        assert venv.installed_version(dist.module) == dist.version


@pytest.mark.parametrize("installer", INSTALLERS)
def test_a_private_app_installs_with_pypi_dependencies_through_a_composite(
    corg: Organization, fake_pypi: FakePypi, tmp_path: Path, venv: Venv, installer: Installer
) -> None:
    setup = _setup(corg, fake_pypi, tmp_path)
    venv.install(installer, setup.composite.index_url(setup.token), setup.app.name)
    _assert_installed(venv, setup)


def test_uv_installs_pypi_files_cached_by_the_composite(
    corg: Organization, fake_pypi: FakePypi, tmp_path: Path, uv_venv: Venv
) -> None:
    setup = _setup(corg, fake_pypi, tmp_path, "--pypi-files", "cache")
    before = len(fake_pypi.requests)
    uv_venv.uv_pip_install(setup.composite.index_url(setup.token), setup.app.name)
    _assert_installed(uv_venv, setup)
    fetched = [path for path, _ in fake_pypi.requests[before:] if path.startswith("/files/")]
    assert f"/files/{setup.dep.wheel_filename}" in fetched  # through Packyard, not by uv


def test_uv_sync_installs_through_a_composite_named_in_pyproject(
    corg: Organization, fake_pypi: FakePypi, tmp_path: Path
) -> None:
    """The ``[[tool.uv.index]]`` form the Setup & Usage snippets give, with the token passed
    the way uv reads index credentials from the environment."""
    setup = _setup(corg, fake_pypi, tmp_path)
    project = tmp_path / "consumer"
    project.mkdir()
    index_url = setup.composite.index_url(setup.token).replace(f"x:{setup.token}@", "")
    (project / "pyproject.toml").write_text(
        "[project]\n"
        'name = "consumer"\n'
        'version = "0.1.0"\n'
        'requires-python = ">=3.11"\n'
        f'dependencies = ["{setup.app.name}"]\n\n'
        "[tool.uv]\n"
        "package = false\n\n"
        "[[tool.uv.index]]\n"
        'name = "packyard"\n'
        f'url = "{index_url}"\n'
        "default = true\n"
    )
    env = isolated_env(
        {"UV_INDEX_PACKYARD_USERNAME": "x", "UV_INDEX_PACKYARD_PASSWORD": setup.token}
    )
    env.pop("UV_NO_CONFIG")  # uv must read the project's own pyproject.toml
    result = subprocess.run(
        [uv_executable(), "sync", "--python", sys.executable, "--no-cache"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    _assert_installed(Venv(project / ".venv"), setup)
    lock = (project / "uv.lock").read_text()
    assert f'version = "{setup.app.version}"' in lock
    assert "99.0" not in lock  # PyPI's copy of the private name never entered the lock
