"""One heartbeat loop per process instead of one timer task per socket: with 10,000 sockets
that is 10,000 fewer asyncio tasks (memory) and one wake-up per interval instead of 10,000.
Each tick pings every socket and renews the group memberships that are due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from typing import Protocol

from django.conf import settings

from realtime import metrics

logger = logging.getLogger(__name__)


class Latible(Protocol):
    async def latir(self, ahora: float) -> None: ...

    async def renovar_grupos(self, ahora: float) -> None: ...


_sockets: weakref.WeakSet = weakref.WeakSet()
_tarea: asyncio.Task | None = None


def registrar(consumer: Latible) -> None:
    global _tarea
    _sockets.add(consumer)
    if _tarea is None or _tarea.done():
        _tarea = asyncio.get_running_loop().create_task(_bucle())


def quitar(consumer: Latible) -> None:
    _sockets.discard(consumer)


async def _bucle() -> None:
    while True:
        await asyncio.sleep(settings.WS_PING_S)
        ahora = time.monotonic()
        for consumer in list(_sockets):
            with contextlib.suppress(Exception):  # one broken socket must not stop the others' pings
                await consumer.latir(ahora)
                await consumer.renovar_grupos(ahora)
        metrics.LATIDO.set(time.time())
