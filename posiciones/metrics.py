from __future__ import annotations

from prometheus_client import Counter, Histogram

INGESTADAS = Counter("gad_posiciones_ingestadas_total", "Readings stored", ["fuente"])
DUPLICADAS = Counter("gad_posiciones_duplicadas_total", "Readings already stored (retries)", ["fuente"])
FUERA_DE_SERVICIO = Counter(
    "gad_posiciones_fuera_de_servicio_total", "Readings taken off duty: discarded, not stored", ["fuente"]
)
IMPLAUSIBLES = Counter(
    "gad_posiciones_implausibles_total", "Readings stored but flagged: an impossible speed", ["fuente"]
)
IMPRECISAS = Counter(
    "gad_posiciones_imprecisas_total",
    "Readings whose stated error exceeds PRECISION_DECIDIR_M: never taken as leaving a zone",
    ["fuente"],
)
RECHAZADAS = Counter("gad_posiciones_rechazadas_total", "Readings rejected as invalid", ["motivo"])
EVALUACION = Histogram(
    "gad_ingesta_lote_seconds",
    "Time to store a batch of readings and evaluate its geofences",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
GRUPOS = Histogram(
    "gad_ingesta_grupo_pedidos",
    "Requests stored together in one group commit",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
ESPERA = Histogram(
    "gad_ingesta_espera_seconds",
    "From a request's readings being queued to their group being committed",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
GEOCERCAS = Histogram(
    "gad_geocercas_evaluacion_seconds",
    "Time to evaluate a batch's readings against the geofences (the engine's part of a batch)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)

DISPOSITIVOS_RECHAZADAS = Counter(
    "gad_dispositivos_rechazadas_total",
    "Tracker-app messages acknowledged (2xx, so the phone's queue moves on) but not stored: out of range, too old, unreadable",
    ["protocolo"],
)

# Every series exists from the start (at 0), so rules and dashboards never see an absent one.
for _p in ("traccar", "owntracks"):
    DISPOSITIVOS_RECHAZADAS.labels(protocolo=_p)
for _f in ("api", "telegram", "simulador", "traccar", "owntracks"):  # FuentePosicion
    INGESTADAS.labels(fuente=_f)
    DUPLICADAS.labels(fuente=_f)
    FUERA_DE_SERVICIO.labels(fuente=_f)
    IMPLAUSIBLES.labels(fuente=_f)
for _m in ("lote_demasiado_grande", "lectura_invalida"):
    RECHAZADAS.labels(motivo=_m)
