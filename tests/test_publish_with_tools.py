"""Release jobs as teams run them: twine, uv publish, poetry, pdm and hatch publish to a live server
through the upload API, configured with the registry's own publish instructions, re-run
safely, say why when they must fail, and pip installs what they published."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from packyard.core.snippets import TOKEN_VARIABLE, RegistryAddress, Snippet, publish_snippets
from tests.support.builders import Dist, write_sdist, write_wheel
from tests.support.clients import Venv
from tests.support.driver import Organization, Registry, new_organization
from tests.support.publishers import (
    TWINE_FOR_SKIP_EXISTING,
    Publisher,
    make_tool_venv,
)
from tests.support.server import PackyardServer
from tests.support.uploads import upload_url

pytestmark = pytest.mark.timeout(600)

JSON_INDEX = {"Accept": "application/vnd.pypi.simple.v1+json"}


@pytest.fixture(scope="session")
def twine_61(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return make_tool_venv(tmp_path_factory.mktemp("twine-6.1") / "venv", TWINE_FOR_SKIP_EXISTING)


@pytest.fixture(scope="module")
def org(yard: PackyardServer) -> Organization:
    return new_organization(yard, "tools")


@pytest.fixture(scope="module")
def registry(org: Organization) -> Registry:
    return org.registry("Releases")


@pytest.fixture(scope="module")
def writer(org: Organization) -> str:
    return org.token("read_packages", "write_packages")


@pytest.fixture
def publisher(tmp_path: Path) -> Publisher:
    home = tmp_path / "home"
    home.mkdir()
    return Publisher(home)


@pytest.fixture
def dist_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "project" / "dist"
    path.mkdir(parents=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _snippet(registry: Registry, tool: str) -> Snippet:
    address = RegistryAddress(registry.yard.base_url, registry.organization, registry.slug)
    return next(snippet for snippet in publish_snippets(address) if snippet.key == tool)


def _build(dist: Dist, directory: Path) -> list[Path]:
    return [write_wheel(dist, directory), write_sdist(dist, directory)]


def _files(registry: Registry, token: str, project: str) -> dict[str, str]:
    """File name -> sha256 of what the registry's index lists for ``project``."""
    page = registry.get(f"{project}/", token, headers=JSON_INDEX)
    assert page.status_code == 200, page.text
    return {f["filename"]: f["hashes"]["sha256"] for f in page.json()["files"]}


def _changed(dist: Dist, directory: Path) -> Path:
    """A wheel with the same file name as ``dist``'s and other bytes."""
    directory.mkdir(exist_ok=True)
    return write_wheel(Dist(dist.name, dist.version, summary="Rebuilt: other bytes"), directory)


def _pypirc(registry: Registry, home: Path) -> str:
    """Write the snippet's ~/.pypirc and answer the command it says to run then."""
    text = _snippet(registry, "twine").text
    (home / ".pypirc").write_text(text)
    (command,) = [line for line in text.splitlines() if line.startswith("# then: ")]
    return command.removeprefix("# then: ")


def _installs(venv: Venv, registry: Registry, token: str, project: str, version: str) -> None:
    venv.pip_install(registry.index_url(token), f"{project}=={version}")
    module = project.replace("-", "_")
    assert venv.installed_version(module) == version


# twine -------------------------------------------------------------------------------


def test_twine_uploads_a_wheel_and_sdist_and_a_rerun_changes_nothing(
    registry: Registry, writer: str, publisher: Publisher, dist_dir: Path, pip_venv: Venv
) -> None:
    paths = _build(Dist("twine-demo", "1.0"), dist_dir)
    upload = _pypirc(registry, publisher.home) + " --non-interactive"
    env = {TOKEN_VARIABLE: writer}
    publisher.shell(upload, cwd=dist_dir.parent, env=env)
    first = _files(registry, writer, "twine-demo")
    publisher.shell(upload, cwd=dist_dir.parent, env=env)
    assert _files(registry, writer, "twine-demo") == first
    assert sorted(first) == sorted(p.name for p in paths)
    _installs(pip_venv, registry, writer, "twine-demo", "1.0")


def test_twine_refuses_a_changed_file_of_the_same_name_and_says_why(
    registry: Registry, writer: str, publisher: Publisher, dist_dir: Path
) -> None:
    dist = Dist("twine-changed", "1.0")
    (wheel, _sdist) = _build(dist, dist_dir)
    args = ("twine", "upload", "--non-interactive", "--repository-url", upload_url(registry))
    credentials = ("-u", "__token__", "-p", writer)
    publisher.run(*args, *credentials, str(wheel), cwd=dist_dir)
    changed = _changed(dist, dist_dir.parent / "rebuilt")
    plain = publisher.run(*args, *credentials, str(changed), cwd=dist_dir, expect_success=False)
    assert "409 Conflict" in plain.output
    verbose = publisher.run(
        *args, *credentials, "--verbose", str(changed), cwd=dist_dir, expect_success=False
    )
    assert "File already exists" in verbose.output
    assert _files(registry, writer, "twine-changed")[wheel.name] != _sha256(changed)


def test_twine_61_skip_existing_passes_over_a_file_already_there(
    registry: Registry, writer: str, publisher: Publisher, dist_dir: Path, twine_61: Venv
) -> None:
    dist = Dist("twine-skip", "1.0")
    paths = _build(dist, dist_dir)
    twine = str(Path(twine_61.python).parent / "twine")
    args = (twine, "upload", "--non-interactive", "--repository-url", upload_url(registry))
    credentials = ("-u", "__token__", "-p", writer)
    publisher.run(*args, *credentials, str(paths[0]), cwd=dist_dir)
    changed = _changed(dist, dist_dir.parent / "rebuilt")
    run = publisher.run(
        *args, *credentials, "--skip-existing", str(changed), str(paths[1]), cwd=dist_dir
    )
    assert "Skipping" in run.output
    assert _files(registry, writer, "twine-skip") == {p.name: _sha256(p) for p in paths}


def test_twine_with_a_read_only_token_fails_with_403(
    registry: Registry, writer: str, publisher: Publisher, dist_dir: Path
) -> None:
    (wheel, _sdist) = _build(Dist("twine-ro", "1.0"), dist_dir)
    run = publisher.run(
        "twine", "upload", "--non-interactive", "--verbose",
        "--repository-url", upload_url(registry), "-u", "__token__", "-p", registry.token(),
        str(wheel), cwd=dist_dir, expect_success=False,
    )  # fmt: skip
    assert "403 Forbidden" in run.output
    assert "read-only" in run.output


# uv ------------------------------------------------------------------------------------


def test_uv_publish_twice_is_idempotent_and_pip_installs_the_result(
    registry: Registry, writer: str, publisher: Publisher, dist_dir: Path, pip_venv: Venv
) -> None:
    paths = _build(Dist("uv-demo", "2.0"), dist_dir)
    snippet = _snippet(registry, "uv").text
    env = {TOKEN_VARIABLE: writer}
    publisher.shell(snippet, cwd=dist_dir.parent, env=env)
    first = _files(registry, writer, "uv-demo")
    again = publisher.shell(snippet, cwd=dist_dir.parent, env=env)
    assert "already exists, skipping" in again.output
    # Without --check-url the server itself answers 200 for the same bytes.
    publisher.run(
        "uv", "publish", "--publish-url", upload_url(registry), "--token", writer,
        *map(str, paths), cwd=dist_dir,
    )  # fmt: skip
    assert _files(registry, writer, "uv-demo") == first == {p.name: _sha256(p) for p in paths}
    _installs(pip_venv, registry, writer, "uv-demo", "2.0")


def test_uv_publish_check_url_skips_files_already_there_and_flags_changed_ones(
    registry: Registry, writer: str, publisher: Publisher, dist_dir: Path
) -> None:
    dist = Dist("uv-check", "1.0")
    paths = _build(dist, dist_dir)
    registry.publish(paths[0], writer)
    snippet = _snippet(registry, "uv").text
    run = publisher.shell(snippet, cwd=dist_dir.parent, env={TOKEN_VARIABLE: writer})
    assert f"File {paths[0].name} already exists, skipping" in run.output
    assert set(_files(registry, writer, "uv-check")) == {p.name for p in paths}
    changed = _changed(dist, dist_dir.parent / "rebuilt")
    refused = publisher.run(
        "uv", "publish", "--publish-url", upload_url(registry), "--token", writer,
        str(changed), cwd=dist_dir, expect_success=False,
    )  # fmt: skip
    assert "Server says: File already exists" in refused.output


def test_uv_publish_to_a_named_index_from_pyproject(
    registry: Registry, writer: str, publisher: Publisher, dist_dir: Path
) -> None:
    paths = _build(Dist("uv-index-demo", "1.0"), dist_dir)
    snippet = _snippet(registry, "uv_index").text
    project = dist_dir.parent
    (project / "pyproject.toml").write_text(snippet)
    commands = "\n".join(line[4:] for line in snippet.splitlines() if line.startswith("#   "))
    # The isolated environment keeps uv from reading configuration; here it must read the
    # project's pyproject.toml (the home directory is private, so nothing else is found).
    publisher.shell(f"unset UV_NO_CONFIG\n{commands}", cwd=project, env={TOKEN_VARIABLE: writer})
    assert _files(registry, writer, "uv-index-demo") == {p.name: _sha256(p) for p in paths}


# poetry and pdm ------------------------------------------------------------------------


POETRY_PYPROJECT = """[project]
name = "poetry-demo"
version = "0.3.0"
description = "Built and published by poetry in the Packyard tests"
requires-python = ">=3.9"

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""


def test_poetry_builds_and_publishes_a_project_and_pip_installs_it(
    registry: Registry, writer: str, publisher: Publisher, tmp_path: Path, pip_venv: Venv
) -> None:
    project = tmp_path / "poetry-demo"
    (project / "poetry_demo").mkdir(parents=True)
    (project / "pyproject.toml").write_text(POETRY_PYPROJECT)
    (project / "poetry_demo" / "__init__.py").write_text('__version__ = "0.3.0"\n')
    snippet = _snippet(registry, "poetry").text
    publisher.shell(snippet, cwd=project, env={TOKEN_VARIABLE: writer})
    files = _files(registry, writer, "poetry-demo")
    assert sorted(files) == ["poetry_demo-0.3.0-py3-none-any.whl", "poetry_demo-0.3.0.tar.gz"]
    publisher.run("poetry", "publish", "-r", registry.slug, cwd=project)  # a re-run
    assert _files(registry, writer, "poetry-demo") == files
    _installs(pip_venv, registry, writer, "poetry-demo", "0.3.0")


PDM_PYPROJECT = """[project]
name = "pdm-demo"
version = "0.4.0"
requires-python = ">=3.9"
"""


def test_pdm_publishes_built_files_and_pip_installs_them(
    registry: Registry, writer: str, publisher: Publisher, dist_dir: Path, pip_venv: Venv
) -> None:
    project = dist_dir.parent
    (project / "pyproject.toml").write_text(PDM_PYPROJECT)
    paths = _build(Dist("pdm-demo", "0.4.0"), dist_dir)
    lines = _snippet(registry, "pdm").text.splitlines()
    configure, publish = "\n".join(lines[:-1]), lines[-1]
    env = {TOKEN_VARIABLE: writer}
    publisher.shell(configure, cwd=project, env=env)
    # The files were built already (a pdm build would fetch its backend from PyPI).
    publisher.shell(f"{publish} --no-build", cwd=project, env=env)
    publisher.shell(f"{publish} --no-build", cwd=project, env=env)  # a re-run
    assert _files(registry, writer, "pdm-demo") == {p.name: _sha256(p) for p in paths}
    _installs(pip_venv, registry, writer, "pdm-demo", "0.4.0")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# hatch ---------------------------------------------------------------------------------


HATCH_PYPROJECT = """[project]
name = "hatch-demo"
version = "0.5.0"
requires-python = ">=3.9"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""


def test_hatch_publishes_with_the_generated_config_and_pip_installs_it(
    registry: Registry, writer: str, publisher: Publisher, dist_dir: Path, pip_venv: Venv
) -> None:
    project = dist_dir.parent
    (project / "pyproject.toml").write_text(HATCH_PYPROJECT)
    paths = _build(Dist("hatch-demo", "0.5.0"), dist_dir)
    snippet = _snippet(registry, "hatch").text
    config = publisher.home / "hatch-config.toml"
    config.write_text(snippet)
    publish = next(line for line in snippet.splitlines() if line.startswith("# then: "))
    command = publish.removeprefix("# then: ")
    env = {TOKEN_VARIABLE: writer, "HATCH_CONFIG": str(config)}
    # The files were built already (hatch build would fetch hatchling from PyPI).
    publisher.shell(f"{command} --no-prompt", cwd=project, env=env)
    publisher.shell(f"{command} --no-prompt", cwd=project, env=env)  # a re-run
    assert _files(registry, writer, "hatch-demo") == {p.name: _sha256(p) for p in paths}
    _installs(pip_venv, registry, writer, "hatch-demo", "0.5.0")
