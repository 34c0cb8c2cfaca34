"""Who may read what: private registries need a token for every read and answer 401 with
WWW-Authenticate; tokens are scoped to their organization or registry; public registries
serve anyone; only hashes of tokens are stored."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from tests.support.builders import Dist, write_wheel
from tests.support.database import query
from tests.support.driver import Organization, Registry, new_organization
from tests.support.server import PackyardServer


@pytest.fixture
def two_registries(org: Organization, tmp_path: Path) -> tuple[Registry, Registry, str]:
    writer = org.token("read_packages", "write_packages")
    first, second = org.registry("First"), org.registry("Second")
    for registry in (first, second):
        registry.publish(write_wheel(Dist("shared-name", "1.0"), tmp_path), writer)
    return first, second, writer


def test_private_registry_without_credentials_is_401_with_basic_challenge(
    two_registries: tuple[Registry, Registry, str],
) -> None:
    first, _, _ = two_registries
    for path in ("", "shared-name/", "no-such-project/"):
        response = first.get(path)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Basic realm="packyard"'


def test_unknown_registry_without_credentials_is_401_not_404(org: Organization) -> None:
    assert Registry(org.yard, org.slug, "nothing-here").get("").status_code == 401


def test_wrong_token_is_401(two_registries: tuple[Registry, Registry, str]) -> None:
    first, _, _ = two_registries
    assert first.get("", "pky_wrong").status_code == 401


def test_read_packages_token_reads_every_registry_of_its_organization(
    org: Organization, two_registries: tuple[Registry, Registry, str]
) -> None:
    reader = org.token("read_packages")
    for registry in two_registries[:2]:
        assert registry.get("shared-name/", reader).status_code == 200


def test_token_without_read_packages_is_403(
    org: Organization, two_registries: tuple[Registry, Registry, str]
) -> None:
    token = org.token("read_registries")
    assert two_registries[0].get("", token).status_code == 403


def test_registry_token_reads_its_own_registry_only(
    two_registries: tuple[Registry, Registry, str],
) -> None:
    first, second, _ = two_registries
    token = first.token()
    assert first.get("shared-name/", token).status_code == 200
    assert second.get("shared-name/", token).status_code == 403


def test_token_of_another_organization_gets_404(
    yard: PackyardServer, two_registries: tuple[Registry, Registry, str]
) -> None:
    stranger = new_organization(yard).token("read_packages")
    assert two_registries[0].get("", stranger).status_code == 404


def test_public_registry_serves_anonymous_reads_but_not_writes(
    org: Organization, tmp_path: Path
) -> None:
    public = org.registry("Open Source", public=True)
    writer = org.token("write_packages")
    wheel = write_wheel(Dist("open-thing", "1.0"), tmp_path)
    public.publish(wheel, writer)
    assert public.get("open-thing/").status_code == 200
    public.publish(wheel, None, expect=401)
    public.publish(wheel, org.token("read_packages"), expect=403)


def test_twine_style_token_user_name_works(two_registries: tuple[Registry, Registry, str]) -> None:
    first, _, writer = two_registries

    response = httpx.get(first.simple_url, auth=("__token__", writer))
    assert response.status_code == 200


def test_only_hashes_of_tokens_are_stored(yard: PackyardServer, org: Organization) -> None:
    secret = org.token("read_packages")
    for stored_file in yard.data_dir.glob("packyard.sqlite3*"):  # the database and its WAL
        assert secret.encode() not in stored_file.read_bytes()
    rows = query(yard, "SELECT * FROM tokens")
    assert rows
    assert secret not in repr(rows)
    assert hashlib.sha256(secret.encode()).hexdigest() in repr(rows)
