from __future__ import annotations

import pytest

from packyard.core.errors import ValidationFailed
from packyard.core.names import is_slug, slugify

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
