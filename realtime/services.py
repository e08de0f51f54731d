"""`publish_many` is the only way events leave the domain; services build them with the event
catalogue (realtime.eventos). The Evento row is written in the caller's
transaction (it is the truth, and the cursor clients resume from); after commit the channel layer
is told, as a fast path only. If Redis is down the row still commits and clients replay it."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from gad_project import particiones
from gad_project.tiempo import iso
from realtime import emisor
from realtime.models import Evento, Poda

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Publicacion:
    tipo: str
    datos: dict[str, Any]
    audiencia: Sequence[str]


@dataclass(frozen=True)
class EventoPublicado:
    id: int
    tipo: str
    datos: dict[str, Any]
    audiencia: tuple[str, ...]
    creado_en: datetime


# One jsonb parameter for the whole batch: orjson encodes it in C, PostgreSQL unpacks it.
_SQL_INSERTAR = """
INSERT INTO realtime_evento (tipo, datos, audiencia, creado_en)
SELECT e->>'t', e->'d', ARRAY(SELECT jsonb_array_elements_text(e->'a')), %s
FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS x(e, n)
ORDER BY n
RETURNING id
"""


def publish_many(publicaciones: Iterable[Publicacion]) -> list[EventoPublicado]:
    """Record several events with one INSERT in the caller's transaction, and hand them to the
    fast path after commit (grouped per group: one channel-layer message per group, not per event).
    """
    lote = _Lote.de(publicaciones)
    if lote is None:
        return []
    with connection.cursor() as cursor:
        lote.insertar(cursor)
        eventos = lote.publicados(cursor.fetchall())
    transaction.on_commit(lambda: enviar(eventos), robust=True)
    return eventos


def publish_many_diferido(publicaciones: Iterable[Publicacion]) -> None:
    """As publish_many, for a caller that does not need the events back: the INSERT is not waited
    for, so in pipeline mode (gad_project.bd.tuberia) it travels in the same round trip as
    COMMIT; the ids, which only the fast path needs, are read after commit."""
    lote = _Lote.de(publicaciones)
    if lote is None:
        return
    cursor = connection.cursor()  # kept open until after commit, where its result is read
    lote.insertar(cursor)
    transaction.on_commit(lambda: enviar(lote.publicados(cursor.fetchall())), robust=True)


@dataclass(frozen=True)
class _Lote:
    """One batch of events as both publishers insert it: one time, each audience de-duplicated."""

    publicaciones: list[Publicacion]
    audiencias: list[tuple[str, ...]]
    ahora: datetime

    @classmethod
    def de(cls, publicaciones: Iterable[Publicacion]) -> _Lote | None:
        lista = list(publicaciones)
        if not lista:
            return None
        return cls(lista, [tuple(sorted(set(p.audiencia))) for p in lista], timezone.now())

    def insertar(self, cursor: Any) -> None:
        filas = [{"t": p.tipo, "d": p.datos, "a": a} for p, a in zip(self.publicaciones, self.audiencias, strict=True)]
        cursor.execute(_SQL_INSERTAR, [self.ahora, orjson.dumps(filas).decode()])

    def publicados(self, filas: Sequence[Sequence[Any]]) -> list[EventoPublicado]:
        # Ids come from a sequence in insertion order, and rows are inserted in batch order.
        ids = sorted(fila[0] for fila in filas)
        return [
            EventoPublicado(i, p.tipo, p.datos, a, self.ahora)
            for i, p, a in zip(ids, self.publicaciones, self.audiencias, strict=True)
        ]


def frame(evento: Evento | EventoPublicado) -> dict[str, Any]:
    """The wire shape of an event: {"id", "tipo", "ts", "datos"} (an Evento or EventoPublicado)."""
    return {"id": evento.id, "tipo": evento.tipo, "ts": iso(evento.creado_en), "datos": evento.datos}


def enviar(eventos: Sequence[EventoPublicado]) -> None:
    """Fast path: hand committed events to this process's sender, which pushes them to the channel
    layer in the background. Never blocks and never raises: anything lost here is replayed."""
    por_grupo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for evento in eventos:
        f = frame(evento)
        for grupo in evento.audiencia:
            por_grupo[grupo].append(f)
    emisor.encolar(por_grupo)


def eventos_podar(*, retencion: timedelta | None = None, lote: int = 10_000) -> int:
    """Delete events older than the retention (EVENTOS_RETENCION_H), in bounded chunks so the
    table is never locked for long, and record the watermark: a client whose cursor falls below it
    gets {"tipo": "resync"} on reconnect."""
    limite = timezone.now() - (retencion or timedelta(hours=settings.EVENTOS_RETENCION_H))
    total = 0
    hasta_id = 0
    # Whole days past the retention go at once: their partition is dropped (no row-by-row delete,
    # no bloat), after its largest id is recorded as the watermark.
    with transaction.atomic(), connection.cursor() as cursor:
        for nombre, _, fin in particiones.particiones(cursor, "realtime_evento"):
            if fin > limite:
                break
            cursor.execute(f'SELECT max(id), count(*) FROM "{nombre}"')
            maximo, n = cursor.fetchone()
            if maximo is not None:
                hasta_id = max(hasta_id, maximo)
                Poda.objects.create(hasta_id=hasta_id, borrados=n)
                total += n
            cursor.execute(f'DROP TABLE "{nombre}"')
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM realtime_evento WHERE id IN "
                "(SELECT id FROM realtime_evento WHERE creado_en < %s ORDER BY id LIMIT %s) RETURNING id",
                [limite, lote],
            )
            ids = [fila[0] for fila in cursor.fetchall()]
            if ids:
                hasta_id = max(hasta_id, *ids)
                Poda.objects.create(hasta_id=hasta_id, borrados=len(ids))
        total += len(ids)
        if len(ids) < lote:
            return total


def sockets_revisar(*, usuario_id: int | None = None, session_key: str | None = None, cerrar: bool = False) -> None:
    """Tell the open sockets of a user (or of one browser session) that their access changed, in
    every server process, through the channel layer: each re-reads its user and closes (4401:
    deactivated, new credentials, signed out; 4403: nothing left to see) or moves to the groups its
    new role or unidad gives it. `cerrar`: close them whatever the user now is. Called after
    commit. Redis down: the socket's own checks (group renewal) are the fallback."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from realtime import grupos

    destino = grupos.usuario(usuario_id) if usuario_id is not None else grupos.sesion(session_key or "")
    try:
        async_to_sync(get_channel_layer().group_send)(destino, {"type": "acceso.revisar", "cerrar": cerrar})
    except Exception:
        logger.warning("could not tell %s's sockets that their access changed", destino, exc_info=True)
