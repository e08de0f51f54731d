"""Writes for officer safety, one module per concern:

- `sos`: raising an SOS (backup dispatched at once), resolving it, and "sin reporte";
- `bienestar`: welfare check-in cadences, their answers and misses.

Callers import from here."""

from __future__ import annotations

from seguridad.services.bienestar import (
    bienestar_datos,
    bienestar_iniciar,
    bienestar_responder,
    bienestar_revisar,
    bienestar_terminar,
)
from seguridad.services.sos import sin_reporte_datos, sin_reporte_revisar, sos_activar, sos_datos, sos_resolver

__all__ = [
    "bienestar_datos",
    "bienestar_iniciar",
    "bienestar_responder",
    "bienestar_revisar",
    "bienestar_terminar",
    "sin_reporte_datos",
    "sin_reporte_revisar",
    "sos_activar",
    "sos_datos",
    "sos_resolver",
]
