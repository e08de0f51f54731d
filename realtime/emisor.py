"""The per-process sender: one background thread with its own event loop that pushes committed
events to the channel layer.

Why a thread: `async_to_sync(group_send)` from a request thread builds a new event loop, and with
it a new Redis connection pool, on every call (benchmarks/README.md has the cost). One long-lived loop
keeps its connections, and the request that caused the events does not wait for Redis at all.
Sends run in FIFO order from one loop, so one process never reorders its own events. If Redis is down the send
fails, is counted, and the sockets get those events by replay from PostgreSQL.

Every message carries this sender's id (`origen`) and a per-group sequence number (`seq`) that
also counts the messages that never left (a failed send, a dropped backlog). The channel layer
drops silently what a slow socket cannot take (a channel over capacity, a full receive buffer);
a socket that sees its sequence jump knows it missed events and tells its client to resync.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
from collections import deque
from typing import Any

from channels.layers import get_channel_layer

from realtime import metrics

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_despertar: asyncio.Event | None = None
_cola: deque[tuple[dict[str, list[dict[str, Any]]], float]] = deque()
_pendientes = 0  # commits queued or being sent
_origen = uuid.uuid4().hex  # this sender, as the sockets see it
_secuencias: dict[str, int] = {}  # group -> number of the last message sent, or lost, to it
MAX_PENDIENTES = 10_000  # beyond this, Redis is clearly not keeping up: drop to replay


def _en_el_hijo() -> None:
    """A forked child (Celery's prefork pool, a server's workers) inherits the parent's loop
    object but not its thread, and the parent's id and sequences: it starts a sender of its own."""
    global _lock, _loop, _despertar, _pendientes, _origen
    _lock = threading.Lock()  # the parent's may have been held by another thread at fork time
    _loop, _despertar, _pendientes = None, None, 0
    _cola.clear()
    _origen = uuid.uuid4().hex
    _secuencias.clear()


os.register_at_fork(after_in_child=_en_el_hijo)


def _arrancar() -> asyncio.AbstractEventLoop:
    global _loop, _despertar
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            _despertar = asyncio.Event()
            hilo = threading.Thread(target=loop.run_forever, name="realtime-emisor", daemon=True)
            hilo.start()
            asyncio.run_coroutine_threadsafe(_bucle(), loop)
            _loop = loop
        return _loop


def encolar(por_grupo: dict[str, list[dict[str, Any]]]) -> None:
    global _pendientes
    if not por_grupo:
        return
    loop = _arrancar()
    with _lock:
        if _pendientes > MAX_PENDIENTES:
            for grupo in por_grupo:  # lost: the next message to each group shows the gap
                _secuencias[grupo] = _secuencias.get(grupo, 0) + 1
            metrics.ERRORES.inc()
            return
        _pendientes += 1
        _cola.append((por_grupo, time.time()))
    metrics.PENDIENTES.inc()
    assert _despertar is not None
    loop.call_soon_threadsafe(_despertar.set)


async def _bucle() -> None:
    """Takes every commit queued since the last pass and sends ONE message per group for all of
    them, frames in commit order. Under load a pass covers many commits, so the channel layer's
    per-message cost (two Redis round trips per group even when nobody listens) stops growing
    with the commit rate."""
    global _pendientes
    assert _despertar is not None
    layer = get_channel_layer()
    while True:
        await _despertar.wait()
        _despertar.clear()
        while True:
            with _lock:
                tomados = list(_cola)
                _cola.clear()
            if not tomados:
                break
            tomado_en = time.time()
            for _, encolado in tomados:
                metrics.ETAPA.labels(etapa="emisor").observe(max(0.0, tomado_en - encolado))
            por_grupo: dict[str, list[dict[str, Any]]] = {}
            for grupos, _ in tomados:
                for grupo, frames in grupos.items():
                    por_grupo.setdefault(grupo, []).extend(frames)
            # Groups are sent concurrently: each send costs three Redis round trips even when
            # nobody listens, and a commit's alert goes to three groups. Order within a group is
            # kept (one message per group per pass, passes in sequence); across groups no order
            # was ever promised (clients de-duplicate by id).
            with _lock:
                for grupo in por_grupo:
                    _secuencias[grupo] = _secuencias.get(grupo, 0) + 1
                mensajes = [
                    (
                        grupo,
                        {
                            "type": "eventos.enviar",
                            "eventos": frames,
                            "enviado": tomados[0][1],
                            "grupo": grupo,
                            "origen": _origen,
                            "seq": _secuencias[grupo],
                        },
                    )
                    for grupo, frames in por_grupo.items()
                ]
            a_capa = time.time()  # when the pass hands its messages to the channel layer
            for _, mensaje in mensajes:
                mensaje["a_capa"] = a_capa
            inicio = time.perf_counter()
            resultados = await asyncio.gather(
                *(layer.group_send(grupo, mensaje) for grupo, mensaje in mensajes), return_exceptions=True
            )
            metrics.CAPA.observe(time.perf_counter() - inicio)
            fallidos = [r for r in resultados if isinstance(r, BaseException)]
            metrics.DIFUSIONES.inc(len(resultados) - len(fallidos))
            if fallidos:  # the rows are committed; delivery falls back to replay
                metrics.ERRORES.inc()
                logger.warning("channel layer unavailable; events left for replay", exc_info=fallidos[0])
            with _lock:
                _pendientes -= len(tomados)
            metrics.PENDIENTES.dec(len(tomados))


def vaciar(timeout: float = 5.0) -> bool:
    """Wait until every queued send has been attempted (tests, and clean shutdown)."""
    fin = time.monotonic() + timeout
    while _pendientes and time.monotonic() < fin:
        time.sleep(0.005)
    return _pendientes == 0
