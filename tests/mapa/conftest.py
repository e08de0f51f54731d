from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _sin_tiles_en_cache():
    """Tile keys carry layer versions that live in Redis while the test database rolls back: start
    every test without cached tiles or versions, or one test could be served another's data."""
    cache.delete_pattern("tiles:*")
    yield
    cache.delete_pattern("tiles:*")
