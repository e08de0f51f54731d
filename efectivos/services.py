"""Writes for efectivos themselves: their availability. (Readings are `posiciones`' concern.)"""

from __future__ import annotations

from django.db import transaction

from efectivos.models import Efectivo, EstadoEfectivo
from gad_project.exceptions import Conflicto
from realtime import eventos
from realtime.services import Publicacion, publish_many


def efectivo_estado_evento(*, efectivo: Efectivo, anterior: str, estado: str) -> Publicacion:
    """The `efectivo.estado` event, for the efectivo and those who command them."""
    return eventos.efectivo_estado(
        efectivo_id=efectivo.pk, unidad_id=efectivo.unidad_id, anterior=anterior, estado=estado
    )


def efectivo_estado_cambiar(*, efectivo: Efectivo, estado: str) -> Efectivo:
    """Set an efectivo's availability and tell their commanders. `en_tarea` belongs to the task
    state machine: it is neither set here nor left from here (finish or reject the task)."""
    with transaction.atomic():
        efectivo = Efectivo.objects.select_for_update().get(pk=efectivo.pk)
        if efectivo.estado == estado:
            return efectivo
        if EstadoEfectivo.EN_TAREA in (efectivo.estado, estado):
            raise Conflicto(
                "Tiene una tarea asignada: finalícela o rechácela antes de cambiar su estado."
                if efectivo.estado == EstadoEfectivo.EN_TAREA
                else "El estado en tarea lo fija la asignación de una tarea.",
                codigo="estado_por_tarea",
            )
        anterior = efectivo.estado
        efectivo.estado = estado
        efectivo.save(update_fields=["estado", "actualizado_en"])
        publish_many([efectivo_estado_evento(efectivo=efectivo, anterior=anterior, estado=estado)])
    return efectivo
