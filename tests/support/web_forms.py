"""The web UI over HTTP as a browser uses it, without the browser: ``WebSession`` signs in
through the sign-in form (its double-submit CSRF cookie and token), keeps the session
cookie, and submits the forms the pages render, field for field as a browser would send
them (hidden inputs, typed values, checked boxes and radios, selected options, textareas),
with the session's CSRF token and the ``Origin`` header a browser adds to a form post.

``forms(html)`` reads a page's POST forms; a test finds one by its action and sends it,
changing only what a person would type. Faster than Chromium by two orders of magnitude,
so the access tables of ``tests/test_ui_team_access.py`` can ask every person every route.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx

CSRF_FIELD = "csrf_token"
# Inputs a browser sends with their value as rendered (checkbox and radio only if checked).
_VALUED = {"hidden", "text", "email", "password", "search", "color", "number", "url", ""}


@dataclass(frozen=True)
class Form:
    """A POST form as its page rendered it: where it goes and what a browser would send."""

    action: str
    fields: tuple[tuple[str, str], ...]

    def value(self, name: str) -> str | None:
        return next((v for k, v in self.fields if k == name), None)

    def filled(self, **typed: str) -> list[tuple[str, str]]:
        """The fields with ``typed`` values in place of the rendered ones (or added)."""
        sent = [(k, typed.get(k, v)) for k, v in self.fields]
        return sent + [(k, v) for k, v in typed.items() if self.value(k) is None]


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._action: str | None = None
        self._fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._action, self._fields = a.get("action", ""), []
        elif self._action is None:
            return
        elif tag == "input" and "name" in a:
            kind = a.get("type", "").lower()
            checkable = kind in ("checkbox", "radio")
            if kind in _VALUED or (checkable and "checked" in a):
                self._fields.append((a["name"], a.get("value", "on" if checkable else "")))
        elif tag == "select" and "name" in a:
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and "name" in a:
            self._textarea, self._text = a["name"], []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [
                v for v, _ in self._options[:1]
            ]
            self._fields += [(self._select, v) for v in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._fields.append((self._textarea, "".join(self._text)))
            self._textarea = None
        elif tag == "form" and self._action is not None:
            self.forms.append(Form(self._action, tuple(self._fields)))
            self._action = None


def forms(html: str) -> list[Form]:
    """Every POST form of a page, in page order."""
    reader = _FormReader()
    reader.feed(html)
    reader.close()
    return reader.forms


def form_to(html: str, action: str, **having: str) -> Form | None:
    """The first POST form of the page sent to ``action`` (and carrying ``having``)."""
    for found in forms(html):
        if found.action == action and all(found.value(k) == v for k, v in having.items()):
            return found
    return None


class WebSession:
    """One person's browser session: cookies, and the CSRF token their pages carry."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.client = httpx.Client(base_url=base_url, timeout=60, follow_redirects=False)
        self.csrf = ""

    def get(self, path: str) -> httpx.Response:
        page = self.client.get(path)
        token = form_token(page.text)
        if token:
            self.csrf = token
        return page

    def sign_in(self, email: str, password: str, next_page: str = "/") -> None:
        page = self.get(f"/sign-in?next={next_page}")
        sign_in = form_to(page.text, "/sign-in")
        assert sign_in is not None, page.text
        answer = self.submit(sign_in, email=email, password=password)
        assert answer.status_code == 303, (answer.status_code, answer.text)
        assert "packyard_session" in self.client.cookies
        self.get(urlsplit(answer.headers["location"]).path)  # the session's CSRF token

    def submit(self, form: Form, **typed: str) -> httpx.Response:
        """Send ``form`` (rendered on anyone's page) as this session: its own CSRF token,
        ``typed`` values in their fields, and the ``Origin`` a browser adds."""
        fields = form.filled(**typed, **{CSRF_FIELD: self.csrf})
        return self.client.post(form.action, data=_pairs(fields), headers={"Origin": self.base_url})

    def close(self) -> None:
        self.client.close()


def _pairs(fields: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    sent: dict[str, str | list[str]] = {}
    for name, value in fields:
        if name in sent:
            held = sent[name]
            sent[name] = [*held, value] if isinstance(held, list) else [held, value]
        else:
            sent[name] = value
    return sent


def form_token(html: str) -> str | None:
    """The CSRF token a page's forms carry (every form of a page carries the same)."""
    for found in forms(html):
        token = found.value(CSRF_FIELD)
        if token:
            return token
    return None
