from __future__ import annotations

from prometheus_client import Counter

ALERTAS = Counter("gad_alertas_total", "Geofence alerts raised", ["tipo"])
