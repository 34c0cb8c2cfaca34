"""A registry's OIDC policy (Buildkite's format): parsing it and matching claims against it.

A policy is a list of statements ``{iss, scopes, claims}``. ``claims`` maps a claim name
to a rule: a bare scalar (equals) or one matcher among ``equals``, ``not_equals``, ``in``,
``not_in`` and ``matches`` (a glob with ``*`` and ``?``, strings only). Every rule of a
statement must hold, a missing claim fails it, and the first statement that holds decides
the scopes. Policies are plain YAML or JSON (JSON is YAML): anchors, aliases and tags are
refused, so a policy means what it shows.
"""

from __future__ import annotations

import enum
import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from packyard.core.errors import ValidationFailed
from packyard.core.scopes import Scope

POLICY_SCOPES = frozenset({Scope.READ_PACKAGES, Scope.WRITE_PACKAGES, Scope.DELETE_PACKAGES})
MAX_POLICY_LENGTH = 64 * 1024


class Matcher(enum.StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    IN = "in"
    NOT_IN = "not_in"
    MATCHES = "matches"


Scalar = str | int | float | bool


@dataclass(frozen=True, slots=True)
class Rule:
    claim: str
    matcher: Matcher
    value: Scalar | tuple[Scalar, ...]

    def holds(self, claims: Mapping[str, Any]) -> bool:
        if self.claim not in claims:
            return False
        actual = claims[self.claim]
        if self.matcher is Matcher.EQUALS:
            return _same(actual, self.value)
        if self.matcher is Matcher.NOT_EQUALS:
            return not _same(actual, self.value)
        if self.matcher is Matcher.IN:
            return any(_same(actual, v) for v in _values(self.value))
        if self.matcher is Matcher.NOT_IN:
            return not any(_same(actual, v) for v in _values(self.value))
        return isinstance(actual, str) and any(
            _glob(str(v)).fullmatch(actual) is not None for v in _values(self.value)
        )


@dataclass(frozen=True, slots=True)
class Statement:
    issuer: str
    scopes: frozenset[Scope]
    rules: tuple[Rule, ...]

    def holds(self, issuer: str, claims: Mapping[str, Any]) -> bool:
        return _same_issuer(issuer, self.issuer) and all(r.holds(claims) for r in self.rules)


@dataclass(frozen=True, slots=True)
class Policy:
    statements: tuple[Statement, ...]

    def scopes_for(self, issuer: str, claims: Mapping[str, Any]) -> frozenset[Scope] | None:
        """The scopes of the first statement the claims satisfy; None when none does."""
        for statement in self.statements:
            if statement.holds(issuer, claims):
                return statement.scopes
        return None


def parse_policy(text: str) -> Policy:
    """The Policy ``text`` states. Raises ValidationFailed naming the line and the reason."""
    if len(text) > MAX_POLICY_LENGTH:
        raise ValidationFailed(f"oidc_policy is longer than {MAX_POLICY_LENGTH} characters")
    # Imported here: PyYAML costs every worker 1.3 MiB, and only policies need it.
    from packyard.core.plain_yaml import PlainYamlError, load_plain

    try:
        document = load_plain(text)
    except PlainYamlError as error:
        line = f"line {error.line}: " if error.line is not None else ""
        raise ValidationFailed(f"oidc_policy does not parse: {line}{error.problem}") from None
    if document is None:
        return Policy(())
    if not isinstance(document, list):
        raise ValidationFailed("oidc_policy must be a list of statements {iss, scopes, claims}")
    return Policy(tuple(_statement(i + 1, s) for i, s in enumerate(document)))


def _statement(number: int, raw: object) -> Statement:
    where = f"oidc_policy statement {number}"
    if not isinstance(raw, dict):
        raise ValidationFailed(f"{where} must be a mapping with iss, scopes and claims")
    unknown = set(raw) - {"iss", "scopes", "claims"}
    if unknown:
        raise ValidationFailed(f"{where} has unknown keys: {', '.join(sorted(map(str, unknown)))}")
    issuer = raw.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise ValidationFailed(f"{where} needs iss, the issuer URL")
    scopes = raw.get("scopes")
    if not isinstance(scopes, list) or not scopes:
        raise ValidationFailed(f"{where} needs scopes, a list among {_scope_names()}")
    parsed: set[Scope] = set()
    for scope in scopes:
        if not isinstance(scope, str) or scope not in {s.value for s in POLICY_SCOPES}:
            raise ValidationFailed(f"{where}: unknown scope {scope!r}; use {_scope_names()}")
        parsed.add(Scope(scope))
    claims = raw.get("claims", {})
    if not isinstance(claims, dict) or not claims:
        raise ValidationFailed(f"{where} needs claims, a mapping of claim names to rules")
    rules = tuple(_rule(where, str(name), rule) for name, rule in claims.items())
    return Statement(issuer.rstrip("/"), frozenset(parsed), rules)


def _rule(where: str, claim: str, raw: object) -> Rule:
    if _is_scalar(raw):
        return Rule(claim, Matcher.EQUALS, raw)  # type: ignore[arg-type]
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ValidationFailed(
            f"{where}, claim {claim!r}: give a value or one matcher among {_matcher_names()}"
        )
    ((name, value),) = raw.items()
    if name not in {m.value for m in Matcher}:
        raise ValidationFailed(
            f"{where}, claim {claim!r}: unknown matcher {name!r}; use {_matcher_names()}"
        )
    matcher = Matcher(name)
    if matcher in (Matcher.EQUALS, Matcher.NOT_EQUALS):
        if not _is_scalar(value):
            raise ValidationFailed(f"{where}, claim {claim!r}: {name} takes one value")
        return Rule(claim, matcher, value)
    values = value if isinstance(value, list) else [value]
    if matcher is Matcher.MATCHES and not all(isinstance(v, str) for v in values):
        raise ValidationFailed(f"{where}, claim {claim!r}: matches takes strings (globs)")
    if not values or not all(_is_scalar(v) for v in values):
        raise ValidationFailed(f"{where}, claim {claim!r}: {name} takes a list of values")
    return Rule(claim, matcher, tuple(values))


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool)


def _same(actual: object, expected: object) -> bool:
    if isinstance(actual, dict | list):
        return False
    if actual == expected:
        return True
    # Claims arrive as JSON: a policy's 42 also matches the claim "42" (build numbers are
    # strings from some issuers and numbers from others); booleans compare only as booleans.
    if isinstance(actual, bool) or isinstance(expected, bool):
        return False
    return str(actual) == str(expected)


def _values(value: Scalar | tuple[Scalar, ...]) -> tuple[Scalar, ...]:
    return value if isinstance(value, tuple) else (value,)


def _glob(pattern: str) -> re.Pattern[str]:
    # fnmatch would also read [...] as a class; only * and ? are special here.
    escaped = pattern.replace("[", "[[]")
    return re.compile(fnmatch.translate(escaped))


def _same_issuer(actual: str, expected: str) -> bool:
    return actual.rstrip("/") == expected


def _scope_names() -> str:
    return ", ".join(sorted(s.value for s in POLICY_SCOPES))


def _matcher_names() -> str:
    return ", ".join(m.value for m in Matcher)
