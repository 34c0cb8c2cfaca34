"""A registry's changes have the same effects whoever makes them (REST, the web UI and the
command line call the same service method): a change of visibility bumps the serial that
cached index pages are keyed by, and a change that leaves the index alone does not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from packyard.bootstrap import Services, build_services
from packyard.core.permissions import OPERATOR, user_principal
from packyard.core.registries import RegistryFields
from packyard.settings import Settings
from tests.support.operator import create_registry

pytestmark = pytest.mark.backend_independent  # in-process, on the embedded default


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build_services(Settings(data_dir=tmp_path / "data"))
    built.registries.create_organization("acme")
    create_registry(built, "acme", "Dev")
    yield built
    built.close()


def _serial(services: Services) -> int:
    return services.registries.find_registry("acme", "dev").serial


def test_a_visibility_change_bumps_the_serial(services: Services) -> None:
    admin = user_principal("u1", services.registries.get_organization("acme").id, admin=True)
    before = _serial(services)
    public = RegistryFields(given=frozenset({"public"}), public=True)
    changed = services.registries.update(admin, "acme", "dev", public)
    assert changed.public
    assert changed.serial == before + 1 == _serial(services)
    described = RegistryFields(given=frozenset({"description"}), description="Now described")
    services.registries.update(OPERATOR, "acme", "dev", described)
    assert _serial(services) == before + 1
    everything = RegistryFields.every("Dev", description="Now described", public=False)
    assert services.registries.update(admin, "acme", "dev", everything).serial == before + 2
