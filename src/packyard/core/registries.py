"""What a registry's own fields may hold: one set of limits for the REST API, the web UI
and the command line alike.

``problems(fields)`` lists each unacceptable value as ``field: what to do``; the REST API
answers them as the 422's ``errors`` and the web UI shows them above the form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packyard.core.errors import ValidationFailed
from packyard.core.names import slugify

PYTHON_ECOSYSTEM = "python"
MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000
# One emoji, which may take several code points (a flag, a skin tone, a family).
MAX_EMOJI_LENGTH = 16
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
# Slugs that would shadow a route: ``/{org}/{registry}/pypi/...`` sits beside ``/v2``,
# ``/organizations`` and ``/static``, and ``pypi`` names the public index as an upstream.
RESERVED_SLUGS = frozenset({"pypi", "v2", "organizations", "static", "simple", "files"})


@dataclass(frozen=True, slots=True)
class RegistryFields:
    """Values given for a registry; ``given`` names those present in an update (so that
    ``emoji=None`` can clear an emoji while an absent ``emoji`` leaves it alone)."""

    given: frozenset[str]
    name: str | None = None
    ecosystem: str | None = None
    description: str | None = None
    emoji: str | None = None
    color: str | None = None
    public: bool | None = None
    team_ids: tuple[str, ...] = ()  # on create: teams granted read_and_write
    # Given only when named in ``given`` (QUOTA): forms that do not show it leave it alone.
    quota_bytes: int | None = None

    @classmethod
    def every(
        cls,
        name: str,
        *,
        description: str = "",
        emoji: str | None = None,
        color: str | None = None,
        public: bool = False,
    ) -> RegistryFields:
        """All the fields, as a new registry or a whole form sets them."""
        return cls(
            given=ALL_FIELDS,
            name=name,
            ecosystem=PYTHON_ECOSYSTEM,
            description=description,
            emoji=emoji,
            color=color,
            public=public,
        )


ALL_FIELDS = frozenset({"name", "ecosystem", "description", "emoji", "color", "public"})
QUOTA = "quota_bytes"


def cleaned(fields: RegistryFields) -> RegistryFields:
    """``fields`` with surrounding blanks trimmed and blank emoji and colour as None."""
    return RegistryFields(
        given=fields.given,
        name=None if fields.name is None else fields.name.strip(),
        ecosystem=fields.ecosystem,
        description=None if fields.description is None else fields.description.strip(),
        emoji=(fields.emoji or "").strip() or None,
        color=(fields.color or "").strip() or None,
        public=fields.public,
        quota_bytes=fields.quota_bytes,
    )


def problems(fields: RegistryFields) -> list[str]:
    """Each given value that is not acceptable, as ``field: what to do``."""
    found: list[str] = []
    given = {name: getattr(fields, name) for name in fields.given}
    for name, value in given.items():
        if isinstance(value, str) and "\x00" in value:
            found.append(f"{name}: may not contain NUL characters")
    if "name" in given:
        found += _name_problems(fields.name)
    if "ecosystem" in given and fields.ecosystem != PYTHON_ECOSYSTEM:
        found.append(f"ecosystem: must be {PYTHON_ECOSYSTEM!r}, and cannot change")
    if len(fields.description or "") > MAX_DESCRIPTION_LENGTH:
        found.append(f"description: at most {MAX_DESCRIPTION_LENGTH} characters")
    if fields.emoji is not None and len(fields.emoji) > MAX_EMOJI_LENGTH:
        found.append("emoji: a single emoji, such as 🐍")
    if fields.color is not None and not COLOR.match(fields.color):
        found.append("color: a colour written like #1a2b3c")
    if QUOTA in given and fields.quota_bytes is not None and fields.quota_bytes < 0:
        found.append("quota_bytes: a number of bytes, 0 or more, or null for no quota")
    return found


def check(fields: RegistryFields) -> RegistryFields:
    """The cleaned fields; raises ValidationFailed listing every problem."""
    tidy = cleaned(fields)
    found = problems(tidy)
    if found:
        raise ValidationFailed("; ".join(found), found)
    return tidy


def _name_problems(name: str | None) -> list[str]:
    if not name:
        return ["name: a registry needs a name"]
    if len(name) > MAX_NAME_LENGTH:
        return [f"name: at most {MAX_NAME_LENGTH} characters"]
    try:
        slug = slugify(name)
    except ValidationFailed as error:
        return [f"name: {error.message}"]
    if slug in RESERVED_SLUGS:
        return [f"name: its slug {slug!r} is reserved for Packyard's own addresses; choose another"]
    return []
