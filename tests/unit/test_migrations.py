from __future__ import annotations

import pytest

from packyard.db.engine import migration_head
from packyard.db.migrations import SCHEMA_HEAD

pytestmark = pytest.mark.backend_independent


def test_schema_head_constant_names_the_newest_migration() -> None:
    assert migration_head() == SCHEMA_HEAD
