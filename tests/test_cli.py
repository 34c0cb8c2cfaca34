"""The administrator's command line, in exactly the forms the docs give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.backends import Backend
from tests.support.server import PackyardServer


@pytest.fixture
def offline(tmp_path: Path, backend: Backend) -> PackyardServer:
    """CLI access to a fresh data directory (and database), with no server running."""
    return backend.new_server(tmp_path)


def test_registry_slug_is_the_kebab_case_of_its_name(offline: PackyardServer) -> None:
    offline.cli("org", "create", "acme")
    result = offline.cli("registry", "create", "acme", "My Python packages")
    assert result.stdout == "my-python-packages\n"


def test_create_commands_print_json_on_request(offline: PackyardServer) -> None:
    created = json.loads(offline.cli("org", "create", "acme", "--name", "Acme", "--json").stdout)
    assert created["slug"] == "acme"
    assert created["name"] == "Acme"
    registry = json.loads(
        offline.cli(
            "registry", "create", "acme", "Team A", "--public", "--json", "--description", "team a"
        ).stdout
    )
    assert registry["slug"] == "team-a"
    assert registry["public"] is True
    assert registry["type"] == "source"
    token = json.loads(
        offline.cli("token", "create", "acme", "--scope", "read_packages", "--json").stdout
    )
    assert token["token"].startswith("pky_")
    assert token["scopes"] == ["read_packages"]
    listed = json.loads(offline.cli("registry", "list", "acme", "--json").stdout)
    assert [r["slug"] for r in listed] == ["team-a"]


def test_token_create_prints_the_secret_alone(offline: PackyardServer) -> None:
    offline.cli("org", "create", "acme")
    offline.cli("registry", "create", "acme", "Dev")
    api = offline.cli(
        "token", "create", "acme", "--scope", "read_packages", "--scope", "write_packages"
    ).stdout
    registry = offline.cli("token", "create", "acme", "--registry", "dev").stdout
    for output in (api, registry):
        assert output.startswith("pky_")
        assert output.count("\n") == 1
        assert " " not in output.strip()


def test_data_dir_option_overrides_the_environment(tmp_path: Path) -> None:
    server = PackyardServer(tmp_path / "env-data", tmp_path / "log")
    server.cli("org", "create", "acme", "--data-dir", str(tmp_path / "flag-data"))
    assert (tmp_path / "flag-data").is_dir()
    assert not (tmp_path / "env-data").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["org", "create", "Not A Slug"], "lowercase"),
        (["registry", "create", "missing-org", "Dev"], "No organization"),
        (["token", "create", "acme", "--scope", "fly"], "unknown scope"),
        (["token", "create", "acme"], "--scope"),
        (["token", "create", "acme", "--registry", "nope"], "No registry"),
    ],
)
def test_errors_go_to_stderr_with_a_non_zero_exit(
    offline: PackyardServer, args: list[str], message: str
) -> None:
    offline.cli("org", "create", "acme")
    result = offline.cli(*args, check=False)
    assert result.returncode != 0
    assert result.stdout == ""
    assert message in result.stderr


def test_duplicate_registry_is_refused(offline: PackyardServer) -> None:
    offline.cli("org", "create", "acme")
    offline.cli("registry", "create", "acme", "Dev")
    result = offline.cli("registry", "create", "acme", "DEV", check=False)
    assert result.returncode != 0
    assert "already exists" in result.stderr
