"""Turning a package's stored metadata into what the package page shows: the README as
sanitised HTML, the archive's members as a tree, links that are safe to follow.

Metadata is hostile input. Text is escaped by the templates; the README goes through
``readme-renderer`` (which cleans its HTML with nh3), then a second nh3 pass that prefixes
every ``id`` with ``user-content-`` (and same-page links to match), so that no element of a
README can take the id of one of the page's own elements; a URL is only ever a link when
it is http or https.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from markupsafe import Markup

from packyard.core.models import ArchiveMember

README_CACHE_SIZE = 256
MAX_README_CHARS = 512 * 1024
USER_CONTENT = "user-content-"


@dataclass
class TreeNode:
    name: str
    size: int = 0
    children: dict[str, TreeNode] = field(default_factory=dict)

    @property
    def is_dir(self) -> bool:
        return bool(self.children)

    def sorted_children(self) -> list[TreeNode]:
        return sorted(self.children.values(), key=lambda n: (not n.is_dir, n.name))


def member_tree(members: list[ArchiveMember]) -> TreeNode:
    """The members as a tree of folders and files (folders first, then by name)."""
    root = TreeNode("")
    for member in members:
        node = root
        for part in member.path.split("/"):
            node = node.children.setdefault(part, TreeNode(part))
        node.size = member.size
    return root


def safe_url(value: object) -> str | None:
    """``value`` when it is an http(s) URL, else None (no ``javascript:`` links)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower().startswith(("https://", "http://")) and not any(c.isspace() for c in text):
        return text
    return None


class ReadmeRenderer:
    """Renders READMEs the way PyPI does, caching by package id (files never change)."""

    def __init__(self, size: int = README_CACHE_SIZE) -> None:
        self._cache: OrderedDict[str, Markup] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def render(self, package_id: str, text: str | None, content_type: str | None) -> Markup:
        with self._lock:
            cached = self._cache.get(package_id)
            if cached is not None:
                self._cache.move_to_end(package_id)
                return cached
        html = render_readme(text, content_type)
        with self._lock:
            self._cache[package_id] = html
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return html


def render_readme(text: str | None, content_type: str | None) -> Markup:
    """Sanitised HTML of a README: Markdown, reStructuredText or plain text as the
    metadata's Description-Content-Type says (reStructuredText when it says nothing)."""
    if not text or not text.strip():
        return Markup("")
    # Imported on first use: docutils, Pygments and the Markdown renderer cost each worker
    # about 8 MiB, and only package pages with a README need them.
    from readme_renderer import markdown, rst, txt

    text = text[:MAX_README_CHARS]
    kind = (content_type or "text/x-rst").split(";")[0].strip().lower()
    html: str | None
    if kind == "text/markdown":
        variant = "CommonMark" if "variant=commonmark" in (content_type or "").lower() else "GFM"
        html = markdown.render(text, variant=variant)
    elif kind == "text/plain":
        html = txt.render(text)
    else:
        html = rst.render(text)
    if html is None:  # malformed reStructuredText: show it as plain text
        html = txt.render(text)
    # readme-renderer has cleaned the HTML with nh3; its ids are now out of the page's way.
    return Markup(_prefix_ids(html or ""))  # noqa: S704


def _prefix_ids(html: str) -> str:
    """``html`` with every ``id`` (and every ``href="#…"`` pointing at one) prefixed with
    ``user-content-``: readme-renderer allows ``id`` on every element and prefixes only the
    ids it generates, and a README's ``id="digest-sha256"`` would otherwise win the page's
    own lookups. Same allowlist as readme-renderer's, so nothing else changes."""
    import nh3
    from readme_renderer.clean import ALLOWED_ATTRIBUTES, ALLOWED_TAGS

    def prefixed(_tag: str, attribute: str, value: str) -> str | None:
        if attribute == "id" and not value.startswith(USER_CONTENT):
            return USER_CONTENT + value
        if attribute == "href" and value.startswith("#") and len(value) > 1:
            fragment = value[1:]
            return value if fragment.startswith(USER_CONTENT) else f"#{USER_CONTENT}{fragment}"
        return value

    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=prefixed,
        link_rel="nofollow",
        url_schemes={"http", "https", "mailto"},
        set_tag_attribute_values={"input": {"disabled": ""}},
    )
