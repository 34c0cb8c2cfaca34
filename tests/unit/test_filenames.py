from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packyard.core.errors import InvalidDistribution
from packyard.core.models import FileType
from packyard.dists.filenames import parse_filename

pytestmark = pytest.mark.backend_independent


def test_wheel_filename_is_parsed_and_normalised() -> None:
    parsed = parse_filename("Foo_Bar-1.0.0-py3-none-any.whl")
    assert parsed.project == "foo-bar"
    assert parsed.version == "1.0.0"
    assert parsed.filetype is FileType.WHEEL
    assert parsed.python_version == "py3"


@pytest.mark.parametrize("filename", ["foo_bar-1.0.tar.gz", "foo_bar-1.0.zip"])
def test_sdist_filenames_are_parsed(filename: str) -> None:
    parsed = parse_filename(filename)
    assert (parsed.project, parsed.version, parsed.filetype) == ("foo-bar", "1.0", FileType.SDIST)


@pytest.mark.parametrize(
    "filename",
    [
        "",
        "x" * 300 + ".whl",
        "a\x00-1.0.tar.gz",
        "a\n-1.0.tar.gz",
        "../a-1.0.tar.gz",
        "a-1.0.tar.bz2",
        "a-notaversion-py3-none-any.whl",
        "a-1.0.exe",
    ],
)
def test_bad_filenames_are_refused(filename: str) -> None:
    with pytest.raises(InvalidDistribution):
        parse_filename(filename)


@given(st.text(max_size=300))
def test_any_filename_parses_or_is_refused_cleanly(filename: str) -> None:
    try:
        parse_filename(filename)
    except InvalidDistribution as error:
        refusal = error.message
    else:
        refusal = "parsed"
    assert refusal
