"""The services behind the web UI, in-process on the embedded default: release listings
page by page without gaps or repeats, the name filter, registry stats, deleting a file,
and sessions ending (the sign-in throttle: tests/unit/test_auth_limits.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from packyard.bootstrap import Services, build_services
from packyard.core.errors import PermissionDenied
from packyard.core.models import Registry
from packyard.core.permissions import user_principal
from packyard.settings import Settings
from tests.support.builders import Dist, write_sdist, write_wheel
from tests.support.clock import Clock
from tests.support.operator import create_registry

pytestmark = pytest.mark.backend_independent  # always SQLite in-process


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build_services(Settings(data_dir=tmp_path / "data"))
    built.registries.create_organization("acme")
    yield built
    built.close()


def publish(services: Services, registry: Registry, path: Path) -> None:
    writer = services.publishing.staging.open(path.name)
    writer.write(path.read_bytes())
    services.publishing.publish(registry, writer.finish())


@pytest.fixture
def registry(services: Services, tmp_path: Path) -> Registry:
    created = create_registry(services, "acme", "Dev")
    for number in range(4):
        dist = Dist("Alpha_Pkg" if number % 2 else "beta", f"1.{number}")
        publish(services, created, write_wheel(dist, tmp_path))
        publish(services, created, write_sdist(dist, tmp_path))
    return created


def test_releases_page_through_every_file_newest_first(
    services: Services, registry: Registry
) -> None:
    seen: list[str] = []
    before = None
    while True:
        page = services.packages.releases(registry, before=before, limit=3)
        seen += [r.filename for r in page.releases]
        if page.next_cursor is None:
            break
        before = page.next_cursor
    assert len(seen) == len(set(seen)) == 8
    assert seen[0] == "alpha_pkg-1.3.tar.gz"  # the last pushed
    assert seen[-1] == "beta-1.0-py3-none-any.whl"


def test_release_filter_matches_normalised_name_prefixes(
    services: Services, registry: Registry
) -> None:
    for text in ("alpha_pkg", "ALPHA.PKG", "alpha-p", "Al"):
        page = services.packages.releases(registry, name_filter=text)
        assert {r.name for r in page.releases} == {"Alpha_Pkg"}
        assert len(page.releases) == 4
    assert services.packages.releases(registry, name_filter="pkg").releases == []
    assert services.packages.releases(registry, name_filter="%").releases == []


def test_stats_count_files_and_last_push(services: Services, registry: Registry) -> None:
    empty = create_registry(services, "acme", "Empty")
    stats = services.packages.stats([registry, empty])
    assert stats[registry.id].packages == 8
    assert stats[registry.id].last_pushed_at is not None
    assert stats[empty.id].packages == 0
    assert stats[empty.id].last_pushed_at is None


def test_only_admins_delete_packages(services: Services, registry: Registry) -> None:
    org_id = registry.organization_id
    victim = services.packages.releases(registry, limit=1).releases[0]
    member = user_principal("u1", org_id, admin=False)
    with pytest.raises(PermissionDenied):
        services.packages.delete_package(member, "acme", "dev", victim.id)
    admin = user_principal("u2", org_id, admin=True)
    services.packages.delete_package(admin, "acme", "dev", victim.id)
    remaining = services.packages.releases(registry).releases
    assert victim.id not in {r.id for r in remaining}
    assert services.registries.find_registry("acme", "dev").serial > registry.serial


def test_sessions_end_on_sign_out_and_expiry(services: Services) -> None:
    clock = Clock()
    users = type(services.users)(services.packages._sessions, services.registries, clock)
    users.create_user("bo@example.com", "acme", "password-1", admin=True)
    first = users.sign_in("bo@example.com", "password-1")
    second = users.sign_in("bo@example.com", "password-1")
    signed_in = users.signed_in(first.secret)
    assert signed_in is not None
    assert signed_in.memberships[0].admin
    users.sign_out(first.secret)
    assert users.signed_in(first.secret) is None
    clock.now += timedelta(days=15)
    assert users.signed_in(second.secret) is None
