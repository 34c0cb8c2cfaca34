"""Use cases. Each service is a plain class built once in ``bootstrap`` with its
collaborators passed in; it owns its transactions and raises only ``core.errors``."""
