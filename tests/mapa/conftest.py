from __future__ import annotations

import pytest

from mapa.tiles import cache_vaciar


@pytest.fixture(autouse=True)
def _sin_tiles_en_cache():
    """Tile keys carry layer versions that live in Redis while the test database rolls back: start
    every test without cached tiles or versions, or one test could be served another's data."""
    cache_vaciar()
    yield
    cache_vaciar()
