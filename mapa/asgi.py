"""ASGI fast path for cached vector tiles.

Measured on the 2-core machine: the Django stack alone (middleware, session, user) serves about
360 requests/s per daphne process even for `/health`, while a map in use asks for tiles by the
dozen. A tile that is already cached for a browser session that Django has already authorized
is therefore answered here, from Redis, without entering Django, in one round trip: a server-side
script (`_LEER`) reads the session's presence in the session cache, its tile scope and the layer's
version, and with them the tile itself (or nothing, when the client's ETag already matches).
(One round trip instead of two, a pipeline and then the tile: compared in benchmarks/README.md,
measured by benchmarks/tiles.py.) Anything else — first
tile of a session or of a JWT client, a miss, a bad address, an outage — goes to the Django view
(mapa.views.tile), which builds, caches and authorizes. A JWT client (a phone, a script) is served
here the same way once Django has seen its token: the token is verified here (signature, expiry)
and its user and password fingerprint stand for the session (tiles.clave_portador).

Signing out deletes the session from the cache, so its tiles stop here at once."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie

import redis.asyncio as aioredis
from django.conf import settings
from django.contrib.sessions.backends.cached_db import KEY_PREFIX as SESION_PREFIJO
from django.core.cache import caches
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from gad_project.asgi_util import cabecera
from mapa import metrics, tiles

logger = logging.getLogger(__name__)

# KEYS: session in the session cache, the session's tile scope, the layer's version.
# ARGV: the tile key's prefix and suffix (around "<version>:<scope>"), the version when the layer
# has no version key (efectivos: a time bucket), the scope when the layer is common to everyone,
# the layer name and the client's If-None-Match.
# Returns {status, version, scope, tile}: status 0 = not servable here (Django decides), 1 = the
# ETag matches (no tile read), 2 = tile read (nil when not cached). The tile key is built from
# values read inside the script, so this Redis must not be a cluster (it is one server).
_LEER = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local alcance = redis.call('GET', KEYS[2])
if not alcance then return {0} end
if ARGV[4] ~= '' then alcance = ARGV[4] end
local version = ARGV[3]
if version == '' then
  version = redis.call('GET', KEYS[3])
  if not version then return {0} end
end
if ARGV[6] == '"' .. ARGV[5] .. '-' .. version .. '-' .. alcance .. '"' then return {1, version, alcance} end
return {2, version, alcance, redis.call('GET', ARGV[1] .. version .. ':' .. alcance .. ARGV[2])}
"""

RUTA = re.compile(r"^/tiles/(efectivos|geocercas|densidad|base|osm)/(\d{1,2})/(\d{1,7})/(\d{1,7})\.pbf$")


class TeselasRapidas:
    def __init__(self, app) -> None:
        self.app = app
        self.redis: aioredis.Redis | None = None
        self.leer: AsyncScript | None = None  # _LEER by EVALSHA, loaded again if Redis lost it
        # The session cache's make_key: a pure function, looked up once (not per request).
        self.clave_sesion: Callable[[str], str] | None = None

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
        if self.redis is None:
            self.redis = aioredis.from_url(settings.REDIS_URL)
            self.leer = self.redis.register_script(_LEER)
            self.clave_sesion = caches[settings.SESSION_CACHE_ALIAS].make_key
        assert self.leer is not None and self.clave_sesion is not None
        session_key = _cookie(scope, settings.SESSION_COOKIE_NAME)
        if session_key and session_key.isalnum():
            # The session must still be in the session cache, and have been given a tile scope.
            vive, alcance_clave = self.clave_sesion(SESION_PREFIJO + session_key), tiles.clave_sesion(session_key)
        else:
            # A JWT client: a token that verifies here, whose user and password fingerprint
            # Django has already given a tile scope (tiles.clave_portador). As Django does, the
            # session wins when both are sent; a token that does not verify goes to Django.
            portador = _portador(scope)
            if portador is None:
                return False
            vive = alcance_clave = tiles.clave_sesion(portador)
        fija = str(int(time.time() // settings.TILES_EFECTIVOS_TTL_S)) if capa == "efectivos" else ""
        antes, despues = tiles.clave_tile_partes(capa, z, x, y)
        respuesta = await self.leer(
            keys=[vive, alcance_clave, tiles.clave_version(capa)],
            args=[
                antes,
                despues,
                fija,
                tiles.CLAVE_COMUN if capa in tiles.CAPAS_COMUNES else "",
                capa,
                cabecera(scope, b"if-none-match") or b"",
            ],
        )
        if respuesta[0] == 0:
            return False
        etag = b'"%s-%s-%s"' % (capa.encode(), respuesta[1], respuesta[2])
        cabeceras = [
            (b"cache-control", f"private, max-age={tiles.max_age_de(capa)}".encode()),
            (b"vary", b"Cookie, Authorization"),
            (b"etag", etag),
            (b"x-content-type-options", b"nosniff"),
        ]
        if respuesta[0] == 1:
            await _responder(send, 304, cabeceras, b"")
            metrics.TILES.labels(capa=capa, cache="no_modificada").inc()
            return True
        datos = respuesta[3] if len(respuesta) > 3 else None
        if datos is None:
            return False
        metrics.TILES.labels(capa=capa, cache="acierto").inc()
        if not datos:
            await _responder(send, 204, cabeceras, b"")
        else:
            await _responder(send, 200, [(b"content-type", tiles.CONTENT_TYPE.encode()), *cabeceras], datos)
        return True


def _portador(scope) -> str | None:
    autorizacion = cabecera(scope, b"authorization")
    if not autorizacion or not autorizacion.startswith(b"Bearer "):
        return None
    from posiciones.asgi import usuario_del_token

    verificado = usuario_del_token(autorizacion[7:].strip())
    return tiles.clave_portador(*verificado) if verificado is not None else None


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
