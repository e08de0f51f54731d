"""The per-process sender: one background thread with its own event loop that pushes committed
events to the channel layer.

Why a thread: `async_to_sync(group_send)` from a request thread builds a new event loop, and with
it a new Redis connection pool, on every call (about 9 ms per batch, measured). One long-lived loop
keeps its connections, and the request that caused the events does not wait for Redis at all.
Sends run in FIFO order, so one process never reorders its own events. If Redis is down the send
fails, is counted, and the sockets get those events by replay from PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from channels.layers import get_channel_layer

from realtime import metrics

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_pendientes = 0
MAX_PENDIENTES = 10_000  # beyond this, Redis is clearly not keeping up: drop to replay


def _arrancar() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            hilo = threading.Thread(target=loop.run_forever, name="realtime-emisor", daemon=True)
            hilo.start()
            _loop = loop
        return _loop


def encolar(por_grupo: dict[str, list[dict[str, Any]]]) -> None:
    global _pendientes
    if not por_grupo:
        return
    if _pendientes > MAX_PENDIENTES:
        metrics.SEND_ERRORS.inc()
        return
    with _lock:
        _pendientes += 1
    asyncio.run_coroutine_threadsafe(_enviar(por_grupo, time.time()), _arrancar())


async def _enviar(por_grupo: dict[str, list[dict[str, Any]]], encolado: float) -> None:
    global _pendientes
    try:
        layer = get_channel_layer()
        for grupo, frames in por_grupo.items():
            await layer.group_send(grupo, {"type": "eventos.enviar", "eventos": frames, "enviado": encolado})
            metrics.BROADCASTS.inc()
    except Exception:  # the rows are committed; delivery falls back to replay
        metrics.SEND_ERRORS.inc()
        logger.warning("channel layer unavailable; events left for replay", exc_info=True)
    finally:
        with _lock:
            _pendientes -= 1


def vaciar(timeout: float = 5.0) -> bool:
    """Wait until every queued send has been attempted (tests, and clean shutdown)."""
    fin = time.monotonic() + timeout
    while _pendientes and time.monotonic() < fin:
        time.sleep(0.005)
    return _pendientes == 0
