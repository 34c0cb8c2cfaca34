"""Project status (PEP 792): what a project's maintainers say of its future, shown by the
index to installers. ``active`` is what a project without a recorded status is."""

from __future__ import annotations

import enum
from dataclasses import dataclass

MAX_REASON_LENGTH = 1_000


class ProjectStatus(enum.StrEnum):
    ACTIVE = "active"
    # No new uploads: the project is finished; its files stay installable.
    ARCHIVED = "archived"
    # Still maintained in name, but users should move on; uploads continue.
    DEPRECATED = "deprecated"
    # Suspected malicious: no uploads, and no files served (the index lists none).
    QUARANTINED = "quarantined"

    @property
    def accepts_uploads(self) -> bool:
        return self not in (ProjectStatus.ARCHIVED, ProjectStatus.QUARANTINED)

    @property
    def serves_files(self) -> bool:
        return self is not ProjectStatus.QUARANTINED


@dataclass(frozen=True, slots=True)
class ProjectState:
    status: ProjectStatus
    reason: str  # "" when none was given


ACTIVE = ProjectState(ProjectStatus.ACTIVE, "")
# What a composite shows of a project quarantined in its source upstreams.
QUARANTINED = ProjectState(ProjectStatus.QUARANTINED, "")


def checked_reason(reason: str, what: str) -> str:
    """``reason`` stripped; raises ValueError for one too long or not a single line."""
    cleaned = reason.strip()
    if len(cleaned) > MAX_REASON_LENGTH:
        raise ValueError(f"The {what} reason is too long: at most {MAX_REASON_LENGTH} characters")
    if any(ord(c) < 32 for c in cleaned):
        raise ValueError(f"The {what} reason must be one line of text without control characters")
    return cleaned
