from __future__ import annotations

from django.db.models import QuerySet

from efectivos.alcance import Solicitante
from efectivos.selectors import efectivos_visibles
from seguridad.models import ControlBienestar, SinReporte, Sos


def sos_visibles(*, usuario: Solicitante) -> QuerySet[Sos]:
    """The SOS of the efectivos the user may see (an efectivo: their own)."""
    return Sos.objects.filter(efectivo__in=efectivos_visibles(usuario=usuario))


def sin_reporte_visibles(*, usuario: Solicitante) -> QuerySet[SinReporte]:
    return SinReporte.objects.filter(efectivo__in=efectivos_visibles(usuario=usuario))


def controles_visibles(*, usuario: Solicitante) -> QuerySet[ControlBienestar]:
    """Check-in cadences of the efectivos the user may see; the board shows those running: who is
    asked now first (the oldest ask first), then the rest by their next ask."""
    return ControlBienestar.objects.filter(efectivo__in=efectivos_visibles(usuario=usuario)).select_related("efectivo")
