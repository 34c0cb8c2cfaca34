"""Composite settings through the service the REST API calls (in process): creating,
replacing upstreams, updating settings, and what is refused with 422."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from packyard.bootstrap import Services, build_services
from packyard.core.composite import PYPI, PypiFiles
from packyard.core.errors import InvalidRequest, ValidationFailed
from packyard.core.models import RegistryType
from packyard.core.permissions import OPERATOR
from packyard.services.composites import UNCHANGED
from packyard.settings import Settings
from tests.support.operator import create_composite, create_registry


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build_services(Settings(data_dir=tmp_path))
    built.registries.create_organization("acme")
    built.registries.create_organization("other")
    create_registry(built, "acme", "Team A")
    create_registry(built, "acme", "Team B")
    create_registry(built, "other", "Elsewhere")
    yield built
    built.close()


def test_composite_is_created_private_with_its_upstreams_in_order(services: Services) -> None:
    composite = create_composite(
        services, "acme", "All", ["team-b", "pypi", "team-a"], min_release_age="2 days"
    )
    assert (composite.type, composite.public, composite.slug) == (
        RegistryType.COMPOSITE,
        False,
        "all",
    )
    settings = services.composites.settings(composite)
    assert [u.slug for u in settings.upstreams] == ["team-b", "pypi", "team-a"]
    assert settings.upstreams[1] == PYPI
    assert settings.policy.min_release_age == timedelta(days=2)
    assert settings.policy.pypi_files is PypiFiles.LINK


@pytest.mark.parametrize(
    ("upstreams", "problem"),
    [
        ([], "at least one upstream"),
        (["all-too"], "this composite itself"),
        (["existing"], "composite registry"),
        (["other/elsewhere"], "another organization"),
        (["elsewhere"], "no registry 'elsewhere'"),
        (["team-a", "team-a"], "listed twice"),
    ],
)
def test_unacceptable_upstreams_are_refused(
    services: Services, upstreams: list[str], problem: str
) -> None:
    create_composite(services, "acme", "Existing", ["team-a"])
    with pytest.raises(ValidationFailed, match=problem):
        create_composite(services, "acme", "All too", upstreams)
    assert [r.slug for r in services.registries.list_registries("acme")] == [
        "team-a",
        "team-b",
        "existing",
    ]


def test_replacing_upstreams_bumps_the_serial_and_refuses_the_composite_itself(
    services: Services,
) -> None:
    composite = create_composite(services, "acme", "All", ["team-a"])
    settings = services.composites.set_upstreams(composite, ["pypi", "acme/team-b"], OPERATOR)
    assert [u.slug for u in settings.upstreams] == ["pypi", "team-b"]
    with pytest.raises(ValidationFailed, match="itself"):
        services.composites.set_upstreams(composite, ["all"], OPERATOR)
    assert services.registries.find_registry("acme", "all").serial == 1


def test_settings_are_updated_one_field_at_a_time(services: Services) -> None:
    composite = create_composite(services, "acme", "All", ["team-a", "pypi"])
    composites = services.composites
    updated = composites.update_settings(
        composite, OPERATOR, public_overrides=["My_Lib", "my-lib"], min_release_age="12 hours"
    )
    assert updated.policy.public_overrides == frozenset({"my-lib"})
    assert updated.policy.min_release_age == timedelta(hours=12)
    updated = composites.update_settings(
        composite,
        OPERATOR,
        pypi_files="cache",
        cooldown_exempt=["Urgent.Fix"],
        public_overrides=UNCHANGED,
    )
    assert updated.policy.pypi_files is PypiFiles.CACHE
    assert updated.policy.cooldown_exempt == frozenset({"urgent-fix"})
    assert updated.policy.public_overrides == frozenset({"my-lib"})
    assert (
        composites.update_settings(composite, OPERATOR, min_release_age=None).policy.min_release_age
        is None
    )
    assert composites.update_settings(
        composite, OPERATOR, min_release_age=60
    ).policy.min_release_age == (timedelta(minutes=1))


@pytest.mark.parametrize(
    "change", [{"pypi_files": "mirror"}, {"min_release_age": "soon"}, {"public_overrides": [""]}]
)
def test_bad_settings_are_refused(services: Services, change: dict[str, object]) -> None:
    composite = create_composite(services, "acme", "All", ["team-a"])
    with pytest.raises(ValidationFailed):
        services.composites.update_settings(composite, OPERATOR, **change)  # type: ignore[arg-type]


def test_composite_cannot_be_public(services: Services) -> None:
    with pytest.raises(ValidationFailed, match="always private"):
        create_composite(services, "acme", "All", ["team-a"], public=True)


def test_source_registry_has_no_composite_settings(services: Services) -> None:
    source = services.registries.find_registry("acme", "team-a")
    with pytest.raises(InvalidRequest, match="source registry"):
        services.composites.settings(source)
    with pytest.raises(InvalidRequest):
        services.composites.update_settings(source, OPERATOR, pypi_files="cache")
