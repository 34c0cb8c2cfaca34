from __future__ import annotations

import pytest

from packyard.core.errors import ValidationFailed
from packyard.core.names import is_slug, normalize_version, slugify

pytestmark = pytest.mark.backend_independent


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("My Python packages", "my-python-packages"),
        ("  Team_A  ", "team-a"),
        ("ACME--Internal!!", "acme-internal"),
        ("v2.0 releases", "v2-0-releases"),
    ],
)
def test_slugify_makes_kebab_case(name: str, slug: str) -> None:
    assert slugify(name) == slug
    assert is_slug(slug)


def test_slugify_refuses_a_name_without_letters_or_digits() -> None:
    with pytest.raises(ValidationFailed):
        slugify("!!!")


@pytest.mark.parametrize(
    ("given", "normal"),
    [("1.0", "1.0"), ("1.0.0", "1.0.0"), ("1.0-RC1", "1.0rc1"), ("v2.0.post1", "2.0.post1")],
)
def test_versions_take_their_pep_440_normal_form(given: str, normal: str) -> None:
    assert normalize_version(given) == normal


@pytest.mark.parametrize("given", ["x!y", "", "1.0 beta", "latest"])
def test_invalid_versions_have_no_normal_form(given: str) -> None:
    assert normalize_version(given) is None
