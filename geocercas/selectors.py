"""Reads for geofences and alerts, scoped to what the user may see."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from efectivos.alcance import Solicitante, alcance_de
from efectivos.models import Usuario
from efectivos.selectors import efectivos_visibles
from gad_project.bd import BLOQUE_FILAS
from geocercas.models import Alerta, Geocerca


def geocercas_visibles(*, usuario: Solicitante) -> QuerySet[Geocerca]:
    """Admins: all. Others: the fences that apply to their unidad (unscoped ones apply to all)."""
    alcance = alcance_de(usuario)
    qs = Geocerca.objects.all()
    if alcance.todo:
        return qs
    if not alcance.es_mando and not alcance.es_efectivo:
        return qs.none()
    return qs.filter(Q(unidades__isnull=True) | alcance.filtro_unidad("unidades")).distinct()


def vigencias(*, usuario: Solicitante, ahora: datetime) -> dict[str, Any]:
    """For the map: the visible fences with a schedule that are out of it now, each with when it
    starts again (local ISO time), and when the next of them starts or stops applying."""
    fuera: list[dict[str, Any]] = []
    proximo: datetime | None = None
    con_horario = (
        geocercas_visibles(usuario=usuario).filter(activa=True).exclude(horario_dias=[], horario_desde__isnull=True)
    )
    for g in con_horario.only("id", "horario_dias", "horario_desde", "horario_hasta", "activa"):
        cambio = g.vigencia_cambia_en(ahora)
        if not g.vigente_en(ahora):
            fuera.append({"id": g.pk, "desde": None if cambio is None else timezone.localtime(cambio).isoformat()})
        if cambio is not None and (proximo is None or cambio < proximo):
            proximo = cambio
    return {"fuera": fuera, "proximo_cambio": None if proximo is None else timezone.localtime(proximo).isoformat()}


def geocerca_editable(*, usuario: Solicitante, geocerca: Geocerca) -> bool:
    """Admins edit any fence; a commander only those scoped exactly to their own unidad."""
    alcance = alcance_de(usuario)
    if alcance.todo:
        return True
    return alcance.es_mando and list(geocerca.unidades.values_list("pk", flat=True)) == [alcance.unidad_id]


def alertas_visibles(*, usuario: Solicitante) -> QuerySet[Alerta]:
    return Alerta.objects.filter(efectivo__in=efectivos_visibles(usuario=usuario))


# An alert row of alertas_filas, by name; the last two are its point.
CAMPOS_ALERTA = (
    "id",
    "tipo",
    "severidad",
    "estado",
    "geocerca",
    "efectivo_id",
    "efectivo",
    "unidad",
    "ocurrida_en",
    "ultima_en",
    "repeticiones",
    "cruce",
    "reconocida_en",
    "reconocida_por",
    "atendida_en",
    "atendida_por",
    "resuelta_en",
    "resuelta_por",
    "escalada_en",
    "lon",
    "lat",
)


def _quien(u: Usuario | None) -> str:
    return (u.get_full_name() or u.get_username()) if u else ""


def alertas_filas(alertas: QuerySet[Alerta]) -> Iterator[tuple[Any, ...]]:
    """Each alert with its lifecycle (who acknowledged, attended and resolved it, and when), as
    CAMPOS_ALERTA, oldest first, a block at a time."""
    qs = alertas.select_related(
        "geocerca", "efectivo__unidad", "reconocida_por", "atendida_por", "resuelta_por"
    ).order_by("ocurrida_en", "id")
    for a in qs.iterator(chunk_size=BLOQUE_FILAS):
        yield (
            a.pk,
            a.tipo,
            a.severidad,
            a.estado,
            a.geocerca.nombre,
            a.efectivo_id,
            str(a.efectivo),
            a.efectivo.unidad.codigo,
            a.ocurrida_en,
            a.ultima_en,
            a.repeticiones,
            a.cruce,
            a.reconocida_en,
            _quien(a.reconocida_por),
            a.atendida_en,
            _quien(a.atendida_por),
            a.resuelta_en,
            _quien(a.resuelta_por),
            a.escalada_en,
            a.punto.x if a.punto else None,
            a.punto.y if a.punto else None,
        )
