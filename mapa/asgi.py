"""ASGI fast path for cached vector tiles.

Measured on the 2-core machine: the Django stack alone (middleware, session, user) serves about
360 requests/s per daphne process even for `/health`, while a map in use asks for tiles by the
dozen. A tile that is already cached for a browser session that Django has already authorized
is therefore answered here, from Redis, without entering Django: three keys read in one round
trip (the session still in the session cache, its tile scope, the layer version) and the tile
itself. Anything else — first tile of a session, JWT clients, a miss, a bad address, an outage —
goes to the Django view (mapa.views.tile), which builds, caches and authorizes.

Signing out deletes the session from the cache, so its tiles stop here at once."""

from __future__ import annotations

import logging
import re
import time
from http.cookies import CookieError, SimpleCookie

import redis.asyncio as aioredis
from django.conf import settings
from django.contrib.sessions.backends.cached_db import KEY_PREFIX as SESION_PREFIJO
from django.core.cache import caches
from redis.exceptions import RedisError

from gad_project.asgi_util import cabecera
from mapa import metrics, tiles

logger = logging.getLogger(__name__)
RUTA = re.compile(r"^/tiles/(efectivos|geocercas|densidad|base|osm)/(\d{1,2})/(\d{1,7})/(\d{1,7})\.pbf$")


class TeselasRapidas:
    def __init__(self, app) -> None:
        self.app = app
        self.redis: aioredis.Redis | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and (m := RUTA.match(scope["path"])):
            try:
                if await self._servir(scope, send, m):
                    return
            except (RedisError, OSError):
                logger.debug("tile fast path unavailable; Django serves it", exc_info=True)
        await self.app(scope, receive, send)

    async def _servir(self, scope, send, m: re.Match) -> bool:
        capa, z, x, y = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))
        if z > tiles.Z_MAX or x >= 2**z or y >= 2**z:
            return False
        session_key = _cookie(scope, settings.SESSION_COOKIE_NAME)
        if not session_key or not session_key.isalnum():
            return False
        if self.redis is None:
            self.redis = aioredis.from_url(settings.REDIS_URL)
        clave_sesion = caches[settings.SESSION_CACHE_ALIAS].make_key(SESION_PREFIJO + session_key)
        async with self.redis.pipeline(transaction=False) as p:
            p.exists(clave_sesion)
            p.get(tiles.clave_sesion(session_key))
            p.get(tiles.clave_version(capa))
            viva, alcance, version = await p.execute()
        if not viva or not alcance:
            return False
        alcance = tiles.CLAVE_COMUN if capa in tiles.CAPAS_COMUNES else alcance.decode()
        if capa == "efectivos":
            version = int(time.time() // settings.TILES_EFECTIVOS_TTL_S)
        elif version is None:
            return False
        else:
            version = int(version)
        etag = f'"{capa}-{version}-{alcance}"'.encode()
        cabeceras = [
            (b"cache-control", f"private, max-age={tiles.max_age_de(capa)}".encode()),
            (b"vary", b"Cookie, Authorization"),
            (b"etag", etag),
            (b"x-content-type-options", b"nosniff"),
        ]
        if cabecera(scope, b"if-none-match") == etag:
            await _responder(send, 304, cabeceras, b"")
            metrics.TILES.labels(capa=capa, cache="no_modificada").inc()
            return True
        datos = await self.redis.get(tiles.clave_tile(capa, version, alcance, z, x, y))
        if datos is None:
            return False
        metrics.TILES.labels(capa=capa, cache="acierto").inc()
        if not datos:
            await _responder(send, 204, cabeceras, b"")
        else:
            await _responder(send, 200, [(b"content-type", tiles.CONTENT_TYPE.encode()), *cabeceras], datos)
        return True


def _cookie(scope, nombre: str) -> str | None:
    crudo = cabecera(scope, b"cookie")
    if not crudo:
        return None
    galletas = SimpleCookie()
    try:
        galletas.load(crudo.decode("latin-1"))
    except CookieError:  # a malformed Cookie header: let Django deal with it
        return None
    return galletas[nombre].value if nombre in galletas else None


async def _responder(send, estado: int, cabeceras: list[tuple[bytes, bytes]], cuerpo: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": estado,
            "headers": [*cabeceras, (b"content-length", str(len(cuerpo)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": cuerpo})
