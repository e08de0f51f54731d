"""Reads for messages: what a commander sent (or was sent to their unidad) with every recipient's
receipts, and an officer's own inbox."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet

from efectivos.alcance import Solicitante, alcance_de
from mensajes.models import Entrega, Mensaje, Respuesta


def mensajes_visibles(*, usuario: Solicitante) -> QuerySet[Mensaje]:
    """Admins: every message. A commander: those they wrote and those that reached their unidad's
    efectivos, with only their unidad's recipients and replies. Efectivos: none (see bandeja)."""
    alcance = alcance_de(usuario)
    if not alcance.es_mando:
        return Mensaje.objects.none()
    entregas = Entrega.objects.select_related("efectivo").order_by("efectivo__apellido", "efectivo__nombre")
    respuestas = Respuesta.objects.select_related("efectivo")
    if not alcance.todo:
        entregas = entregas.filter(alcance.filtro_efectivos("efectivo__"))
        respuestas = respuestas.filter(alcance.filtro_efectivos("efectivo__"))
    qs = Mensaje.objects.select_related("autor").prefetch_related(
        Prefetch("entregas", queryset=entregas), Prefetch("respuestas", queryset=respuestas)
    )
    if alcance.todo:
        return qs
    return qs.filter(Q(autor=usuario) | Q(alcance.filtro_efectivos("entregas__efectivo__"))).distinct()


def bandeja(*, usuario: Solicitante) -> QuerySet[Entrega]:
    """An officer's messages, newest first, with their own replies."""
    alcance = alcance_de(usuario)
    if alcance.efectivo_id is None:
        return Entrega.objects.none()
    return (
        Entrega.objects.filter(efectivo_id=alcance.efectivo_id)
        .select_related("mensaje__autor")
        .prefetch_related(
            Prefetch("mensaje__respuestas", queryset=Respuesta.objects.filter(efectivo_id=alcance.efectivo_id))
        )
        .order_by("-mensaje_id")
    )


def urgentes_sin_confirmar(*, desde: datetime, antes_de: datetime) -> QuerySet[Entrega]:
    """Deliveries of urgent messages still unacknowledged, sent after `desde` (older ones stopped
    being re-sent), whose last send was before `antes_de`."""
    return (
        Entrega.objects.filter(mensaje__urgente=True, confirmado_en__isnull=True, mensaje__creado_en__gte=desde)
        .filter(Q(ultimo_reenvio_en__isnull=True, mensaje__creado_en__lt=antes_de) | Q(ultimo_reenvio_en__lt=antes_de))
        .select_related("mensaje__autor", "efectivo__usuario")
    )
