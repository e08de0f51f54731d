"""Writes for efectivos themselves: their availability and their tracker devices. (Readings are
`posiciones`' concern.)"""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from efectivos.models import Dispositivo, Efectivo, EstadoEfectivo, TipoDispositivo, Usuario
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


def credencial_hash(secreto: str) -> str:
    return hashlib.sha256(secreto.encode()).hexdigest()


def dispositivo_crear(
    *, efectivo: Efectivo, tipo: str, etiqueta: str = "", creado_por: Usuario | None
) -> tuple[Dispositivo, str]:
    """A new device for the efectivo and its secret, returned once and never stored (only its
    hash): 160 random bits for Traccar Client's device id, 128 for OwnTracks' password."""
    if tipo == TipoDispositivo.TRACCAR:
        secreto, usuario = "gad-" + secrets.token_urlsafe(20), None
    else:
        secreto, usuario = secrets.token_urlsafe(16), "gad-" + secrets.token_hex(6)
    dispositivo = Dispositivo.objects.create(
        efectivo=efectivo,
        tipo=tipo,
        etiqueta=etiqueta[:80],
        usuario=usuario,
        credencial_hash=credencial_hash(secreto),
        creado_por=creado_por,
    )
    return dispositivo, secreto


def dispositivo_revocar(*, dispositivo: Dispositivo) -> Dispositivo:
    """Cut a device off: its next request is refused (403) in every process (efectivos.signals
    drops its cached entry after commit). Revoking twice is harmless."""
    if dispositivo.revocado_en is None:
        dispositivo.revocado_en = timezone.now()
        dispositivo.save(update_fields=["revocado_en"])
    return dispositivo


def dispositivo_ubicacion_pedir(*, dispositivo: Dispositivo) -> Dispositivo:
    """Ask an OwnTracks device for its position now: the next answer to it carries
    `{"_type": "cmd", "action": "reportLocation"}`."""
    if dispositivo.tipo != TipoDispositivo.OWNTRACKS:
        raise Conflicto("Solo OwnTracks recibe pedidos del servidor.", codigo="dispositivo_sin_comandos")
    dispositivo.ubicacion_pedida_en = timezone.now()
    dispositivo.ubicacion_pedida_enviada_en = None
    dispositivo.save(update_fields=["ubicacion_pedida_en", "ubicacion_pedida_enviada_en"])
    return dispositivo
