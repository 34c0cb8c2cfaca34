"""The PyPI-compatible side of each registry: simple index (PEP 503/691), files, metadata."""
