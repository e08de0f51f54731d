from __future__ import annotations

from prometheus_client import Counter, Histogram

INGESTADAS = Counter("gad_posiciones_ingestadas_total", "Readings stored", ["fuente"])
DUPLICADAS = Counter("gad_posiciones_duplicadas_total", "Readings already stored (retries)", ["fuente"])
IMPLAUSIBLES = Counter(
    "gad_posiciones_implausibles_total", "Readings stored but flagged: an impossible speed", ["fuente"]
)
RECHAZADAS = Counter("gad_posiciones_rechazadas_total", "Readings rejected as invalid", ["motivo"])
EVALUACION = Histogram(
    "gad_posiciones_lote_segundos",
    "Time to store a batch and evaluate its geofences",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
GRUPOS = Histogram(
    "gad_ingesta_grupo_pedidos",
    "Requests stored together in one group commit",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
ESPERA = Histogram(
    "gad_ingesta_espera_segundos",
    "From a request's readings being queued to their group being committed",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
