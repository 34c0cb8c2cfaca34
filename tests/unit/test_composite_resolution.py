"""Composite resolution, a pure function: precedence, the hiding rule and its allow list,
the cooldown and when it next lets a file through, and the merged project list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from packyard.core.composite import (
    PYPI,
    CompositePolicy,
    Upstream,
    cooldown_ends,
    project_names,
    resolve_project,
)

NOW = datetime(2026, 1, 31, tzinfo=UTC)
TEAM_A = Upstream("team-a", "id-a")
TEAM_B = Upstream("team-b", "id-b")


@dataclass(frozen=True)
class File:
    filename: str
    upload_time: datetime | None = datetime(2020, 1, 1, tzinfo=UTC)
    note: str = ""


def served(
    answers: list[tuple[Upstream, list[File] | None]],
    policy: CompositePolicy | None = None,
    project: str = "app",
) -> list[tuple[str, str]]:
    files = resolve_project(project, answers, policy or CompositePolicy(), NOW)
    return [(f.filename, upstream.slug) for f, upstream in files]


def test_files_come_from_upstreams_in_order_and_a_file_name_is_served_once() -> None:
    answers: list[tuple[Upstream, list[File] | None]] = [
        (TEAM_A, [File("app-1.0.tar.gz", note="a")]),
        (TEAM_B, [File("app-1.0.tar.gz", note="b"), File("app-2.0.tar.gz")]),
    ]
    files = resolve_project("app", answers, CompositePolicy(), NOW)
    assert [(f.filename, f.note, u.slug) for f, u in files] == [
        ("app-1.0.tar.gz", "a", "team-a"),
        ("app-2.0.tar.gz", "", "team-b"),
    ]


def test_order_of_upstreams_decides_which_copy_wins() -> None:
    answers: list[tuple[Upstream, list[File] | None]] = [
        (TEAM_B, [File("app-1.0.tar.gz")]),
        (TEAM_A, [File("app-1.0.tar.gz")]),
    ]
    assert served(answers) == [("app-1.0.tar.gz", "team-b")]


def test_private_name_hides_pypi_versions_entirely() -> None:
    answers: list[tuple[Upstream, list[File] | None]] = [
        (TEAM_A, [File("app-1.0.tar.gz")]),
        (PYPI, [File("app-1.0.tar.gz"), File("app-99.0.tar.gz")]),
    ]
    assert served(answers) == [("app-1.0.tar.gz", "team-a")]


def test_private_name_hides_pypi_even_when_pypi_comes_first() -> None:
    answers: list[tuple[Upstream, list[File] | None]] = [
        (PYPI, [File("app-99.0.tar.gz")]),
        (TEAM_A, [File("app-1.0.tar.gz")]),
    ]
    assert served(answers) == [("app-1.0.tar.gz", "team-a")]


def test_public_override_mixes_pypi_versions_in_after_private_ones() -> None:
    answers: list[tuple[Upstream, list[File] | None]] = [
        (TEAM_A, [File("my_app-1.0.tar.gz")]),
        (PYPI, [File("my_app-1.0.tar.gz"), File("my_app-99.0.tar.gz")]),
    ]
    policy = CompositePolicy(public_overrides=frozenset({"my-app"}))
    assert served(answers, policy, project="My_App") == [
        ("my_app-1.0.tar.gz", "team-a"),
        ("my_app-99.0.tar.gz", "pypi"),
    ]


def test_name_only_on_pypi_is_served_from_pypi() -> None:
    answers: list[tuple[Upstream, list[File] | None]] = [
        (TEAM_A, None),
        (PYPI, [File("app-1.0.tar.gz")]),
    ]
    assert served(answers) == [("app-1.0.tar.gz", "pypi")]


def test_project_no_upstream_has_resolves_to_nothing() -> None:
    assert served([(TEAM_A, None), (PYPI, None)]) == []


@pytest.mark.parametrize(
    ("upload_time", "kept"),
    [
        (NOW - timedelta(days=8), True),
        (NOW - timedelta(days=7), True),
        (NOW - timedelta(days=6, hours=23), False),
        (None, False),  # no upload time: fail closed
    ],
)
def test_cooldown_drops_young_pypi_files_and_files_without_upload_time(
    upload_time: datetime | None, kept: bool
) -> None:
    policy = CompositePolicy(min_release_age=timedelta(days=7))
    answers: list[tuple[Upstream, list[File] | None]] = [
        (PYPI, [File("app-1.0.tar.gz", upload_time)])
    ]
    assert bool(served(answers, policy)) is kept


def test_cooldown_does_not_apply_to_private_files_or_exempt_names() -> None:
    young = NOW - timedelta(hours=1)
    private: list[tuple[Upstream, list[File] | None]] = [(TEAM_A, [File("app-1.0.tar.gz", young)])]
    policy = CompositePolicy(min_release_age=timedelta(days=7))
    assert served(private, policy) == [("app-1.0.tar.gz", "team-a")]
    public: list[tuple[Upstream, list[File] | None]] = [(PYPI, [File("app-1.0.tar.gz", None)])]
    exempt = CompositePolicy(min_release_age=timedelta(days=7), cooldown_exempt=frozenset({"app"}))
    assert served(public, exempt) == [("app-1.0.tar.gz", "pypi")]


def test_cooldown_ends_when_the_youngest_held_back_file_comes_of_age_first() -> None:
    policy = CompositePolicy(min_release_age=timedelta(days=7))
    files = [
        File("app-1.0.tar.gz", NOW - timedelta(days=8)),  # already served
        File("app-2.0.tar.gz", NOW - timedelta(days=6)),
        File("app-3.0.tar.gz", NOW - timedelta(days=1)),
        File("app-4.0.tar.gz", None),  # never served
    ]
    assert cooldown_ends("app", files, policy, NOW) == NOW + timedelta(days=1)
    assert cooldown_ends("app", files[:1] + files[3:], policy, NOW) is None
    exempt = CompositePolicy(min_release_age=timedelta(days=7), cooldown_exempt=frozenset({"app"}))
    assert cooldown_ends("app", files, exempt, NOW) is None
    assert cooldown_ends("app", files, CompositePolicy(), NOW) is None


def test_project_list_is_the_normalised_union() -> None:
    assert project_names([["B_thing", "a"], ["b-thing", "c"], []]) == ["a", "b-thing", "c"]
