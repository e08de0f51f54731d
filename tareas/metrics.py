from __future__ import annotations

from prometheus_client import Counter, Histogram

MODOS = ("cercanos", "elegidos", "automatico")
DESPACHO = Histogram(
    "gad_despacho_seconds",
    "Time to assign a task (nearest search, claim and commit), by how efectivos were chosen",
    ["modo"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
ASIGNACIONES = Counter("gad_asignaciones_total", "Efectivos assigned to tasks", ["modo"])
SIN_CANDIDATOS = Counter("gad_despacho_sin_candidatos_total", "Dispatches that found no available efectivo")
RESPUESTAS = Counter("gad_asignaciones_respuestas_total", "Assignments answered by the efectivo", ["respuesta"])

for _m in MODOS:
    DESPACHO.labels(modo=_m)
    ASIGNACIONES.labels(modo=_m)
for _r in ("aceptada", "rechazada"):
    RESPUESTAS.labels(respuesta=_r)
VENCIDAS = Counter("gad_asignaciones_vencidas_total", "Assignments released for not being accepted in time")
REDESPACHOS = Counter("gad_redespachos_total", "Efectivos dispatched automatically to fill a task back up")
SIN_CUBRIR = Counter("gad_tareas_sin_cubrir_total", "Tasks left short-handed: nobody available in range")
