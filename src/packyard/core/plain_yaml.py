"""``load_plain``: YAML (and so JSON) read as plain data only: anchors, aliases and
explicit tags are refused, so a document means what it shows."""

from __future__ import annotations

from typing import Any

import yaml


class PlainYamlError(ValueError):
    """The text does not parse, or uses what plain data refuses; ``line`` is 1-based."""

    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


def load_plain(text: str) -> Any:
    """The data ``text`` holds. Raises PlainYamlError naming the line when it can."""
    try:
        return yaml.load(text, Loader=_PlainLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise PlainYamlError(
            str(error.problem), mark.line + 1 if mark is not None else None
        ) from None
    except yaml.YAMLError as error:
        raise PlainYamlError(str(error), None) from None


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader without anchors, aliases or explicit tags: plain data only."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            raise _refused(event, "aliases (*name) are not allowed")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _refused(event, "anchors (&name) are not allowed")
        if getattr(event, "tag", None) is not None:
            raise _refused(event, "tags (!name) are not allowed")
        return super().compose_node(parent, index)


def _refused(event: Any, reason: str) -> yaml.MarkedYAMLError:
    return yaml.MarkedYAMLError(problem=reason, problem_mark=event.start_mark)
