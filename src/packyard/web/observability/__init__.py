"""Operating Packyard: request ids, the access log, metrics (``/metrics``), health
(``/healthz``, ``/readyz``) and the logging configuration.

``layer.observed`` wraps the application in the outermost layer (requests.RequestObserver).
This package's ``__init__`` imports nothing: ``packyard serve``'s supervisor imports
``logs`` alone and must not load the application.
"""
