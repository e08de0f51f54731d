from __future__ import annotations

from prometheus_client import Counter

ALERTAS = Counter("gad_alertas_total", "Geofence alerts raised", ["tipo"])

for _t in ("entrada", "salida", "permanencia"):  # TipoAlerta: every series exists from the start
    ALERTAS.labels(tipo=_t)
