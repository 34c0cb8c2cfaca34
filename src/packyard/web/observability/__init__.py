"""Operating Packyard: request ids, the access log, metrics (``/metrics``), health
(``/healthz``, ``/readyz``) and the logging configuration.

``layer.observer_for`` builds what the front door (``web.front``) asks of each request
(requests.RequestObserver).
This package's ``__init__`` imports nothing: ``packyard serve``'s supervisor imports
``logs`` alone and must not load the application.
"""
