"""The ASGI app: REST API (``api``), simple index and files (``simple``), credentials
(``auth``) and the one mapping of domain errors to HTTP (``errors``)."""
