"""Identifiers users type and paste: registry slugs, project names, versions.

Registry slugs are the kebab-case of the registry's name; project names are normalised as
PEP 503 says; versions as PEP 440 says. Everything that compares names goes through here.
"""

from __future__ import annotations

import re

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from packyard.core.errors import ValidationFailed

_SLUG_SEPARATORS = re.compile(r"[^a-z0-9]+")
_SLUG_FORM = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ID_FORM = re.compile(r"^[0-9a-fA-F-]{1,36}$")
MAX_SLUG_LENGTH = 100


def slugify(name: str) -> str:
    """Return the kebab-case slug of ``name`` ("My Python packages" -> "my-python-packages").

    Raises ValidationFailed when nothing usable is left (a name of only punctuation).
    """
    slug = _SLUG_SEPARATORS.sub("-", name.strip().lower()).strip("-")
    if not slug:
        raise ValidationFailed(f"Name {name!r} must contain at least one letter or digit")
    if len(slug) > MAX_SLUG_LENGTH:
        raise ValidationFailed(f"Name is too long: its slug may be at most {MAX_SLUG_LENGTH} chars")
    return slug


def is_slug(value: str) -> bool:
    """Whether ``value`` is already in slug form (lowercase words joined by single hyphens)."""
    return len(value) <= MAX_SLUG_LENGTH and bool(_SLUG_FORM.match(value))


def normalize_project(name: str) -> NormalizedName:
    """The PEP 503 normal form of a project name: the key every lookup uses."""
    return canonicalize_name(name)


def normalize_version(version: str) -> str | None:
    """The PEP 440 normal form of ``version``, or None when it is not a valid version: the
    caller names the error, since a bad version in a file, a form or a filter each mean
    something else to the person who sent it."""
    try:
        return str(Version(version))
    except InvalidVersion:
        return None


def looks_like_id(value: str) -> bool:
    """Whether ``value`` could be one of our UUIDs; anything else is unknown without a query."""
    return bool(_ID_FORM.fullmatch(value))
