"""Writes for geofences and alerts, one module per concern:

- `evaluacion`: evaluation at ingest (inside the ingest transaction) and the dwell sweep;
- `alertas`: an alert's lifecycle and its escalation;
- `cercas`: fences created, changed and deleted, and corridors.

Callers import from here."""

from __future__ import annotations

from geocercas.services.alertas import (
    ACCIONES,
    alerta_cambiar_estado,
    alerta_reconocer,
    alertas_escalar,
    alertas_reconocer,
)
from geocercas.services.cercas import corredor_area, geocerca_eliminar, geocerca_guardar, geocerca_silenciar
from geocercas.services.evaluacion import (
    AlertaNueva,
    EvaluacionEnCurso,
    alerta_datos,
    geocercas_evaluar_iniciar,
    geocercas_evaluar_terminar,
    permanencias_verificar,
)

__all__ = [
    "ACCIONES",
    "AlertaNueva",
    "EvaluacionEnCurso",
    "alerta_cambiar_estado",
    "alerta_datos",
    "alerta_reconocer",
    "alertas_escalar",
    "alertas_reconocer",
    "corredor_area",
    "geocerca_eliminar",
    "geocerca_guardar",
    "geocerca_silenciar",
    "geocercas_evaluar_iniciar",
    "geocercas_evaluar_terminar",
    "permanencias_verificar",
]
