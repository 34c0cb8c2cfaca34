"""The names the simple repository API fixes (PEP 503, 658, 691), and the upstream name
PyPI goes by in a composite registry: one home for what the web layer, the services and
the PyPI client must spell alike."""

from __future__ import annotations

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
HTML_LEGACY = "text/html"
# PEP 658: a distribution's core metadata is served at its URL plus this suffix.
METADATA_SUFFIX = ".metadata"
# The slug that names the public PyPI among a composite registry's upstreams.
PYPI_UPSTREAM = "pypi"
# PEP 740's Integrity API answers in this media type.
INTEGRITY_V1 = "application/vnd.pypi.integrity.v1+json"
