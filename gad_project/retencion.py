"""Retention for everything personal (#30): each kind of record about people is kept for a
configured number of days, then deleted by the beat (`gad_project.tasks.retencion_aplicar`, daily).

| what | setting | default | kept regardless |
|---|---|---|---|
| readings | POSICIONES_RETENCION_DIAS | 90 | (daily partitions dropped: efectivos.tasks) |
| geofence alerts and their notes | ALERTAS_RETENCION_DIAS | 365 | open alerts |
| messages, deliveries, replies | MENSAJES_RETENCION_DIAS | 180 | |
| SOS and their notes | SOS_RETENCION_DIAS | 365 | active SOS |
| welfare check-ins, silences | BIENESTAR_RETENCION_DIAS | 180 | running check-ins, open silences |
| revoked tracker devices | DISPOSITIVOS_RETENCION_DIAS | 365 | devices in use |
| the audit trail, access records included | AUDITORIA_RETENCION_DIAS | 1825 | (auditoria.tasks.podar: the chain anchors) |

Rows go in batches of LOTE by primary key through the ORM, so what hangs off them (an alert's
notes, a message's deliveries) goes too, and no statement holds locks for long.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

LOTE = 1000


@dataclass(frozen=True)
class Politica:
    nombre: str
    modelo: Callable[[], type[models.Model]]
    campo_fecha: str
    dias: Callable[[], int]
    ademas: Q = field(default_factory=Q)  # what must also hold for a row to go (e.g. closed)


def _politicas() -> list[Politica]:
    from efectivos.models import Dispositivo
    from geocercas.models import ALERTA_ABIERTA, Alerta
    from mensajes.models import Mensaje
    from seguridad.models import ControlBienestar, EstadoBienestar, EstadoSos, SinReporte, Sos

    return [
        Politica("alertas", lambda: Alerta, "ultima_en", lambda: settings.ALERTAS_RETENCION_DIAS, ~ALERTA_ABIERTA),
        Politica("mensajes", lambda: Mensaje, "creado_en", lambda: settings.MENSAJES_RETENCION_DIAS),
        Politica("sos", lambda: Sos, "creado_en", lambda: settings.SOS_RETENCION_DIAS, ~Q(estado=EstadoSos.ACTIVO)),
        Politica(
            "controles_bienestar",
            lambda: ControlBienestar,
            "creado_en",
            lambda: settings.BIENESTAR_RETENCION_DIAS,
            Q(estado=EstadoBienestar.TERMINADO),
        ),
        Politica(
            "sin_reporte",
            lambda: SinReporte,
            "creado_en",
            lambda: settings.BIENESTAR_RETENCION_DIAS,
            Q(cerrado_en__isnull=False),
        ),
        Politica(
            "dispositivos_revocados",
            lambda: Dispositivo,
            "revocado_en",
            lambda: settings.DISPOSITIVOS_RETENCION_DIAS,
        ),
    ]


def retencion_aplicar(*, ahora: datetime | None = None) -> dict[str, int]:
    """Delete what each policy no longer keeps; how many rows of each kind went."""
    ahora = ahora or timezone.now()
    borradas: dict[str, int] = {}
    for p in _politicas():
        modelo = p.modelo()
        limite = ahora - timedelta(days=p.dias())
        vencidas = modelo._default_manager.filter(p.ademas, **{f"{p.campo_fecha}__lt": limite})
        total = 0
        while ids := list(vencidas.order_by("pk").values_list("pk", flat=True)[:LOTE]):
            with transaction.atomic():
                modelo._default_manager.filter(pk__in=ids).delete()
            total += len(ids)
        borradas[p.nombre] = total
    return borradas
