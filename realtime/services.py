"""`publish` is the only way events leave the domain. The Evento row is written in the caller's
transaction (it is the truth, and the cursor clients resume from); after commit the channel layer
is told, as a fast path only. If Redis is down the row still commits and clients replay it."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from realtime import metrics
from realtime.models import Evento

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Publicacion:
    tipo: str
    datos: dict[str, Any]
    audiencia: Sequence[str]


def publish(tipo: str, datos: dict[str, Any], audiencia: Sequence[str]) -> Evento:
    """Record one event for `audiencia` (group names, see realtime.grupos)."""
    return publish_many([Publicacion(tipo, datos, audiencia)])[0]


def publish_many(publicaciones: Iterable[Publicacion]) -> list[Evento]:
    """Record several events with one INSERT, and send them after commit grouped per group, so a
    batch of a hundred readings costs one round trip per group, not one per event."""
    ahora = timezone.now()
    eventos = [
        Evento(tipo=p.tipo, datos=p.datos, audiencia=sorted(set(p.audiencia)), creado_en=ahora) for p in publicaciones
    ]
    if not eventos:
        return []
    Evento.objects.bulk_create(eventos)
    transaction.on_commit(lambda: enviar(eventos), robust=True)
    return eventos


def frame(evento: Evento) -> dict[str, Any]:
    """The wire shape of an event: {"id", "tipo", "ts", "datos"}."""
    return {
        "id": evento.id,
        "tipo": evento.tipo,
        "ts": evento.creado_en.isoformat(),
        "datos": evento.datos,
    }


def enviar(eventos: Sequence[Evento]) -> None:
    """Fast path: push committed events to the channel layer. Never raises: a failure here only
    means sockets get these events by replay when they reconnect."""
    por_grupo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for evento in eventos:
        f = frame(evento)
        for grupo in evento.audiencia:
            por_grupo[grupo].append(f)
    try:
        async_to_sync(_enviar_grupos)(por_grupo)
    except Exception:
        metrics.SEND_ERRORS.inc()
        logger.warning("channel layer unavailable; %d events left for replay", len(eventos), exc_info=True)


async def _enviar_grupos(por_grupo: dict[str, list[dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    for grupo, frames in por_grupo.items():
        await layer.group_send(grupo, {"type": "eventos.enviar", "eventos": frames})
        metrics.BROADCASTS.inc()
