"""The first path every user walks: publish with curl-style multipart, install with pip and
uv from a private registry, dependencies included, and nothing lost across a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.builders import Dist, write_sdist, write_wheel
from tests.support.clients import INSTALLERS, Installer, Venv
from tests.support.driver import Organization, Registry

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def published(org: Organization, tmp_path: Path) -> tuple[Registry, str]:
    """A private registry holding app 1.0 (wheel and sdist) and its dependency lib 2.0."""
    registry = org.registry("Python packages")
    token = org.token("read_packages", "write_packages")
    app = Dist("Demo-App", "1.0", requires=["demo-lib>=2"])
    for path in (
        write_wheel(app, tmp_path),
        write_sdist(app, tmp_path),
        write_wheel(Dist("demo-lib", "2.0"), tmp_path),
    ):
        registry.publish(path, token)
    return registry, token


@pytest.mark.parametrize("installer", INSTALLERS)
def test_a_published_wheel_installs_with_its_dependency(
    published: tuple[Registry, str], venv: Venv, installer: Installer
) -> None:
    registry, token = published
    venv.install(installer, registry.index_url(token), "demo-app==1.0")
    assert venv.installed_version("demo_app") == "1.0"
    assert venv.installed_version("demo_lib") == "2.0"


def test_pip_accepts_the_buildkite_style_user_name(
    published: tuple[Registry, str], pip_venv: Venv
) -> None:
    registry, token = published
    pip_venv.pip_install(registry.index_url(token, user="buildkite"), "demo-app==1.0")
    assert pip_venv.installed_version("demo_app") == "1.0"


@pytest.mark.parametrize("installer", INSTALLERS)
def test_the_published_sdist_builds_and_installs(
    published: tuple[Registry, str], venv: Venv, installer: Installer
) -> None:
    registry, token = published
    venv.install(
        installer, registry.index_url(token), "demo-app==1.0", extra=("--no-binary", "demo-app")
    )
    assert venv.installed_version("demo_app") == "1.0"


def test_pip_without_a_token_is_refused(published: tuple[Registry, str], pip_venv: Venv) -> None:
    registry, _token = published
    result = pip_venv.pip_install(
        registry.simple_url, "demo-app==1.0", check=False, extra=("-vvv",)
    )
    assert result.returncode != 0
    assert "401" in result.stdout + result.stderr


def test_restart_keeps_registries_tokens_and_packages(
    published: tuple[Registry, str], pip_venv: Venv
) -> None:
    registry, token = published
    registry.yard.restart()
    assert registry.get("demo-app/", token).status_code == 200
    pip_venv.pip_install(registry.index_url(token), "demo-app==1.0")
    assert pip_venv.installed_version("demo_app") == "1.0"
