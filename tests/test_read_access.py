"""The index's hot-path access check: one query, cached only while the database is
unchanged, so revoked tokens and new serials are seen at once, in every process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from packyard.bootstrap import Services, build_services
from packyard.core.errors import NotFound, PermissionDenied, Unauthenticated
from packyard.settings import Settings
from tests.support.operator import create_registry, registry_token, write_as_another_process


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build_services(Settings(data_dir=tmp_path))
    built.registries.create_organization("acme")
    create_registry(built, "acme", "Dev")
    create_registry(built, "acme", "Other")
    yield built
    built.close()


def test_deleted_token_is_refused_at_once_after_a_cached_read(services: Services) -> None:
    secret = registry_token(services, "acme", "dev")
    assert services.access.readable_registry(secret, "acme", "dev").slug == "dev"
    assert services.access.cached(secret, "acme", "dev") is not None
    write_as_another_process(services, "DELETE FROM tokens")
    assert services.access.cached(secret, "acme", "dev") is None
    with pytest.raises(Unauthenticated):
        services.access.readable_registry(secret, "acme", "dev")


def test_serial_bumped_elsewhere_is_seen_by_the_next_request(services: Services) -> None:
    secret = registry_token(services, "acme", "dev")
    before = services.access.readable_registry(secret, "acme", "dev").serial
    write_as_another_process(services, "UPDATE registries SET serial = serial + 1")
    assert services.access.cached(secret, "acme", "dev") is None
    assert services.access.readable_registry(secret, "acme", "dev").serial == before + 1


def test_registry_token_cannot_read_another_registry(services: Services) -> None:
    secret = registry_token(services, "acme", "dev")
    with pytest.raises(PermissionDenied):
        services.access.readable_registry(secret, "acme", "other")
    assert services.access.cached(secret, "acme", "other") is None


def test_anonymous_caller_is_asked_to_authenticate_for_a_private_registry(
    services: Services,
) -> None:
    with pytest.raises(Unauthenticated):
        services.access.readable_registry(None, "acme", "dev")
    with pytest.raises(Unauthenticated):
        services.access.readable_registry(None, "acme", "no-such-registry")


def test_unknown_registry_is_not_found_for_a_valid_token(services: Services) -> None:
    secret = registry_token(services, "acme", "dev")
    with pytest.raises(NotFound):
        services.access.readable_registry(secret, "acme", "no-such-registry")


def test_unknown_token_is_refused(services: Services) -> None:
    with pytest.raises(Unauthenticated):
        services.access.readable_registry("pky_not-a-token", "acme", "dev")
