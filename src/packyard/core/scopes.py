"""Scopes an API access token may carry, named once so that no code spells them as literals."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    READ_REGISTRIES = "read_registries"
    WRITE_REGISTRIES = "write_registries"
    DELETE_REGISTRIES = "delete_registries"
    READ_PACKAGES = "read_packages"
    WRITE_PACKAGES = "write_packages"
    DELETE_PACKAGES = "delete_packages"
    READ_TEAMS = "read_teams"
    WRITE_TEAMS = "write_teams"
    # The audit log: organization admins and their tokens only (core.permissions).
    READ_AUDIT_EVENTS = "read_audit_events"


def parse_scopes(values: list[str]) -> frozenset[Scope]:
    """Turn user-given scope names into Scopes; raises ValueError naming the unknown one."""
    scopes: set[Scope] = set()
    for value in values:
        try:
            scopes.add(Scope(value))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise ValueError(f"unknown scope {value!r}; known scopes: {known}") from None
    return frozenset(scopes)
