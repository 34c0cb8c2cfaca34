"""Core metadata (METADATA in wheels, PKG-INFO in sdists), read with ``packaging.metadata``.

Parsing is lenient about fields we only display (real-world metadata is messy) and strict
about the two that identify a file: Name and Version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from packyard.core.errors import InvalidDistribution
from packyard.core.names import normalize_project, normalize_version


@dataclass(frozen=True, slots=True)
class CoreMetadata:
    name: str
    version: str  # PEP 440 normalised
    metadata_version: str | None = None
    summary: str | None = None
    description: str | None = None
    description_content_type: str | None = None
    home_page: str | None = None
    project_urls: dict[str, str] = field(default_factory=dict)
    license: str | None = None
    license_expression: str | None = None
    author: str | None = None
    author_email: str | None = None
    maintainer: str | None = None
    keywords: list[str] = field(default_factory=list)
    classifiers: list[str] = field(default_factory=list)
    requires_dist: list[str] = field(default_factory=list)
    requires_python: str | None = None

    @property
    def project(self) -> str:
        return normalize_project(self.name)

    def as_dict(self) -> dict[str, Any]:
        """The fields a client may want to read, without the long description."""
        return {
            "metadata_version": self.metadata_version,
            "summary": self.summary,
            "homepage": self.home_page,
            "project_urls": dict(self.project_urls),
            "license": self.license,
            "license_expression": self.license_expression,
            "author": self.author,
            "author_email": self.author_email,
            "maintainer": self.maintainer,
            "keywords": list(self.keywords),
            "classifiers": list(self.classifiers),
            "requires_dist": list(self.requires_dist),
            "requires_python": self.requires_python,
            "description_content_type": self.description_content_type,
        }


def parse_core_metadata(data: bytes, source: str) -> CoreMetadata:
    """Parse metadata bytes read from ``source`` (a member path, for messages).

    Raises InvalidDistribution when Name or Version is missing or invalid, or a
    Requires-Dist or Requires-Python cannot be read.
    """
    try:
        raw, _unparsed = parse_email(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidDistribution(f"{source} is not readable core metadata: {error}") from None
    name = raw.get("name")
    version_text = raw.get("version")
    if not name:
        raise InvalidDistribution(f"{source} has no Name field")
    if not version_text:
        raise InvalidDistribution(f"{source} has no Version field")
    version = normalize_version(version_text)
    if version is None:
        raise InvalidDistribution(
            f"{source} has Version {version_text!r}, which is not a valid PEP 440 version"
        )
    return CoreMetadata(
        name=name,
        version=version,
        metadata_version=raw.get("metadata_version"),
        summary=raw.get("summary"),
        description=raw.get("description"),
        description_content_type=raw.get("description_content_type"),
        home_page=raw.get("home_page"),
        project_urls=dict(raw.get("project_urls", {})),
        license=raw.get("license"),
        license_expression=raw.get("license_expression"),
        author=raw.get("author"),
        author_email=raw.get("author_email"),
        maintainer=raw.get("maintainer"),
        keywords=list(raw.get("keywords", [])),
        classifiers=list(raw.get("classifiers", [])),
        requires_dist=_valid_requirements(raw.get("requires_dist", []), source),
        requires_python=_valid_requires_python(raw.get("requires_python"), source),
    )


def _valid_requires_python(specifiers: str | None, source: str) -> str | None:
    """``specifiers`` when they are a PEP 440 specifier set: the value goes into every
    index page (``data-requires-python``), and installers skip a file they cannot read."""
    if specifiers is None:
        return None
    try:
        SpecifierSet(specifiers)
    except InvalidSpecifier as error:
        raise InvalidDistribution(
            f"{source} has an invalid Requires-Python {specifiers!r}: {error}"
        ) from None
    return specifiers


def _valid_requirements(requirements: list[str], source: str) -> list[str]:
    for requirement in requirements:
        try:
            Requirement(requirement)
        except InvalidRequirement as error:
            raise InvalidDistribution(
                f"{source} has an invalid Requires-Dist {requirement!r}: {error}"
            ) from None
    return list(requirements)
