"""Distribution file names: what a wheel or sdist name says about its project and version.

Parsing uses ``packaging.utils`` (the rules pip and uv follow). The file name is also
checked as a path component, since it ends up in URLs and on disk listings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from packyard.core.errors import InvalidDistribution
from packyard.core.models import FileType

MAX_FILENAME_LENGTH = 255
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x1f\x7f/\\]")
SDIST_SUFFIXES = (".tar.gz", ".zip")
ACCEPTED_FORMS = "a wheel (.whl) or an sdist (.tar.gz or .zip)"


@dataclass(frozen=True, slots=True)
class ParsedFilename:
    project: str  # PEP 503 normalised
    version: str  # PEP 440 normalised
    filetype: FileType
    python_version: str  # the wheel's python tag(s), or "source"


def parse_filename(filename: str) -> ParsedFilename:
    """Parse a wheel or sdist file name; raises InvalidDistribution saying what is wrong."""
    _check_path_component(filename)
    if filename.endswith(".whl"):
        return _parse_wheel(filename)
    if filename.endswith(SDIST_SUFFIXES):
        return _parse_sdist(filename)
    raise InvalidDistribution(f"{filename!r} is not {ACCEPTED_FORMS}")


def parse_filename_or_none(filename: str) -> ParsedFilename | None:
    """``parse_filename`` for names from elsewhere (PyPI's pages, file URLs): None for a
    name that is not a wheel or sdist, rather than an error to show."""
    try:
        return parse_filename(filename)
    except InvalidDistribution:
        return None


def canonical_filename(filename: str) -> str:
    """The file name with project and version normalised and wheel tags sorted: two names
    with the same canonical form name the same distribution (``Foo_Bar-1.0.tar.gz`` and
    ``foo_bar-1.0.tar.gz``). Expects a name ``parse_filename`` accepts."""
    if filename.endswith(".whl"):
        name, version, build, tags = parse_wheel_filename(filename)
        build_tag = "".join(str(part) for part in build)
        return f"{name}-{version}-{build_tag}-{'.'.join(sorted(str(t) for t in tags))}.whl"
    suffix = next(s for s in SDIST_SUFFIXES if filename.endswith(s))
    name, version = parse_sdist_filename(filename)
    return f"{name}-{version}{suffix}"


def _check_path_component(filename: str) -> None:
    if not filename:
        raise InvalidDistribution("The uploaded file has no file name")
    if len(filename) > MAX_FILENAME_LENGTH:
        raise InvalidDistribution(
            f"File name is {len(filename)} characters long; at most {MAX_FILENAME_LENGTH} allowed"
        )
    if _UNSAFE_CHARACTERS.search(filename) or filename in {".", ".."}:
        raise InvalidDistribution(
            "File name contains a path separator or control character: "
            f"{filename.encode('unicode_escape').decode('ascii')!r}"
        )


def _parse_wheel(filename: str) -> ParsedFilename:
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as error:
        raise InvalidDistribution(f"Invalid wheel file name: {error}") from None
    python_tags = sorted({tag.interpreter for tag in tags})
    return ParsedFilename(name, str(version), FileType.WHEEL, ".".join(python_tags))


def _parse_sdist(filename: str) -> ParsedFilename:
    try:
        name, version = parse_sdist_filename(filename)
    except InvalidSdistFilename as error:
        raise InvalidDistribution(f"Invalid sdist file name: {error}") from None
    return ParsedFilename(name, str(version), FileType.SDIST, "source")
