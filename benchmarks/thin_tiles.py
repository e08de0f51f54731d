"""Same-run reference for the cached-tile figure (`tiles.py`): the thinnest ASGI app that serves
the same tile bytes under the same server and the same wrk script. One Redis GET per request
(the tile, stored by `tiles.py` under THIN_PREFIJO + path), no session, scope or version check,
no metrics, no Django: what the server and one Redis round trip cost on this machine right now.

Ours divided by this is the ratio to report; an absolute tiles/s moves with the machine's load.

    PYTHONPATH=benchmarks daphne -p 8766 thin_tiles:application
"""

from __future__ import annotations

import os

import redis.asyncio as aioredis

PREFIJO = os.environ.get("THIN_PREFIJO", "gadbench:thin:")
_redis: aioredis.Redis | None = None


async def application(scope, receive, send) -> None:
    global _redis
    if scope["type"] == "lifespan":
        while True:
            mensaje = await receive()
            if mensaje["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif mensaje["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["path"] == "/health":
        await _responder(send, 200, b"text/plain", b"ok")
        return
    if _redis is None:
        _redis = aioredis.from_url(os.environ["REDIS_URL"])
    datos = await _redis.get(PREFIJO + scope["path"])
    if datos is None:
        await _responder(send, 404, b"text/plain", b"")
    elif not datos:
        await _responder(send, 204, b"application/vnd.mapbox-vector-tile", b"")
    else:
        await _responder(send, 200, b"application/vnd.mapbox-vector-tile", datos)


async def _responder(send, estado: int, tipo: bytes, cuerpo: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": estado,
            "headers": [(b"content-type", tipo), (b"content-length", str(len(cuerpo)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": cuerpo})
