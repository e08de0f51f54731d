"""Small geodesy for queries on the geometry (SRID 4326) columns."""

from __future__ import annotations

import math

METROS_POR_GRADO = 111_000  # a little under the real ~111,320: the box errs on the large side


def grados_que_cubren(metros: float, lat: float) -> float:
    """A distance in degrees at least `metros` long in any direction around latitude `lat`: the
    prefilter (`dwithin` on the GiST-indexed geometry) before the exact distance in metres."""
    return metros / (METROS_POR_GRADO * max(0.05, math.cos(math.radians(min(89.0, abs(lat) + 1)))))
