"""How long Packyard keeps what nothing references any more.

Named here, with no dependencies, so that the CLI can show the defaults in its help
without importing the services (and the database layer) that apply them.
"""

from __future__ import annotations

from datetime import timedelta

# A blob no file references is kept this long after it was last stored, so that one a
# publish is about to reference is never collected (``services.integrity`` explains why).
DEFAULT_GC_GRACE = timedelta(hours=1)
# A staged file (an upload or an import being received, a PyPI file being fetched) that
# nobody has written for this long belongs to a process that died: the staging sweep
# removes it. Live uploads write at least every ``upload_idle_timeout`` seconds.
DEAD_STAGING_AGE = timedelta(hours=1)
