"""``IndexPages``: the one way an index page is looked up, rendered and answered, used by
the plain-ASGI layer for cached reads (``cached_reads.py``) and by the routes
(``routes.py``) alike, so that both answer with the same bytes and headers by
construction.

- The cache key is (registry id, version, project, media type, registry URL), the version
  being what ``services.index`` answers with: for a source registry its serial (the
  project list) or the project's serial (a project's page), a composite's own version.
  ``""`` as the project names the registry's project list. The registry URL (the base
  URL, ``PACKYARD_BASE_URL`` else the request's, with the organization's and registry's
  slugs) makes PEP 740 ``provenance`` URLs absolute, and changes with a rename.
- ``cached`` finds a page already rendered without a query (safe on the event loop).
- ``render`` runs in the thread pool: the service's answer, rendered once however many
  requests ask at the same time (``SingleFlight``), stored in the page cache.
- ``answer`` is the conditional answer: 304 when ``If-None-Match`` names the page, else the
  page, with the index headers either way.
"""

from __future__ import annotations

from collections.abc import Callable

from packyard.core.models import Registry
from packyard.services.index import IndexService
from packyard.services.single_flight import SingleFlight
from packyard.web.negotiation import choose_media_type
from packyard.web.simple.cache import Key, RenderedPage, RenderedPageCache
from packyard.web.simple.render import render_project_list, render_project_page

# (status, raw headers, body): what an ASGI server is sent, by either caller.
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]

# Every answer with an index page carries these: the page depends on both request
# headers, and clients must revalidate (ETag) so that a new upload is seen at once by pip
# and uv.
INDEX_HEADERS = [(b"vary", b"Accept, Authorization"), (b"cache-control", b"no-cache")]
# Clients send one of a handful of Accept headers; parsing each once is enough.
MAX_REMEMBERED_ACCEPTS = 256


class IndexPages:
    def __init__(self, index: IndexService, cache: RenderedPageCache) -> None:
        self._index = index
        self.cache = cache
        self._rendering: SingleFlight[Key, RenderedPage] = SingleFlight()
        self._media_types: dict[str, str | None] = {}

    def media_type(self, accept: str | None) -> str | None:
        """The negotiated media type (PEP 691), None when nothing acceptable is offered."""
        key = accept or ""
        try:
            return self._media_types[key]
        except KeyError:
            chosen = choose_media_type(accept)
            if len(self._media_types) < MAX_REMEMBERED_ACCEPTS:
                self._media_types[key] = chosen
            return chosen

    def cached(
        self, registry: Registry, project: str, media_type: str, base: str
    ) -> RenderedPage | None:
        """The page already rendered, when its version is known without a query."""
        version = self._index.cached_version(registry, project)
        if version is None:
            return None
        return self.cache.get(_key(registry, version, project, media_type, base))

    def render(self, registry: Registry, project: str, media_type: str, base: str) -> RenderedPage:
        """The page, rendered unless already cached under its version. Queries: run it in
        the thread pool. Raises what ``services.index`` raises (NotFound, UpstreamError)."""
        if project:
            # The page may be cached under its project's serial though the registry's
            # serial moved (another project changed): found without reading its files.
            version = self._index.current_version(registry, project)
            if version is not None:
                cached = self.cache.get(_key(registry, version, project, media_type, base))
                if cached is not None:
                    return cached
            page = self._index.project_page(registry, project)
            key = _key(registry, page.version, project, media_type, base)
            integrity = f"{key[4]}/pypi/integrity"
            return self._stored(key, lambda: render_project_page(page.value, media_type, integrity))
        listing = self._index.project_list(registry)
        key = _key(registry, listing.version, project, media_type, base)
        return self._stored(key, lambda: render_project_list(listing.value, media_type))

    def _stored(self, key: Key, make: Callable[[], bytes]) -> RenderedPage:
        # A registry's project list can be megabytes: requests asking for it meanwhile
        # wait for one rendering rather than each making a copy.
        return self._rendering.run(key, lambda: self.cache.get(key) or self.cache.put(key, make()))

    @staticmethod
    def answer(page: RenderedPage, media_type: str, if_none_match: str | None) -> Answer:
        etag = (b"etag", page.etag.encode())
        if page.matches(if_none_match):
            return 304, [*INDEX_HEADERS, etag], b""
        # The media type is exactly one of PEP 691's three (no "; charset=" appended).
        headers = [
            *INDEX_HEADERS,
            etag,
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(page.body)).encode()),
        ]
        return 200, headers, page.body


def _key(registry: Registry, version: int, project: str, media_type: str, base: str) -> Key:
    """A page's cache key. Its last part is the registry's own URL, not just the server's:
    pages link by absolute URL (PEP 740 provenance), and a registry or organization
    renamed answers at a new one, with new links, though no file changed."""
    where = f"{base}/{registry.organization_slug}/{registry.slug}"
    return (registry.id, version, project, media_type, where)
