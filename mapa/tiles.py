"""Mapbox Vector Tiles for the heavy layers of the commanders' map, built by PostGIS (`ST_AsMVT`)
and cached in Redis.

A cache key carries the layer's version, the viewer's scope and the tile address, so nothing is
ever invalidated by deleting keys: an edited geocerca bumps the `geocercas` version (after commit)
and the next request misses; old entries expire on their own. The `efectivos` layer moves every
second, so its "version" is a short time bucket; `densidad` is bumped each time its materialized
view is refreshed.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from efectivos import alcance as efectivos_alcance
from efectivos.alcance import Solicitante
from gad_project import bd
from gad_project.exceptions import EntradaInvalida, NoEncontrado
from mapa import base, metrics

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
Z_MAX = 22
EXTENT = 4096
ERRORES_CACHE = (ConnectionInterrupted, RedisError, OSError)


@dataclass(frozen=True)
class AlcanceTeselas:
    """What the viewer may see, as far as tiles are concerned: everything, or one unidad."""

    clave: str
    unidad_id: int | None


def alcance_teselas(usuario: Solicitante) -> AlcanceTeselas | None:
    """Admins see every unidad, a commander their own; anyone else gets no tiles."""
    alcance = efectivos_alcance.alcance_de(usuario)
    if not alcance.es_mando or alcance.clave is None:
        return None
    return AlcanceTeselas(alcance.clave, alcance.unidad_id)


def coordenadas_validar(z: str, x: str, y: str) -> tuple[int, int, int]:
    """Parse a tile address; anything that is not a tile of the web-mercator pyramid is a 400."""
    try:
        zi, xi, yi = int(z), int(x), int(y)
    except ValueError as exc:
        raise EntradaInvalida(
            "La dirección de la tesela no es válida.", detalle={"z": z, "x": x, "y": y}, codigo="tesela_invalida"
        ) from exc
    if not 0 <= zi <= Z_MAX:
        raise EntradaInvalida(f"z debe estar entre 0 y {Z_MAX}.", detalle={"z": zi}, codigo="tesela_invalida")
    lado = 2**zi
    if not (0 <= xi < lado and 0 <= yi < lado):
        raise EntradaInvalida(
            f"En z={zi}, x e y deben estar entre 0 y {lado - 1}.",
            detalle={"z": zi, "x": xi, "y": yi},
            codigo="tesela_invalida",
        )
    return zi, xi, yi


# --- layers --------------------------------------------------------------------------------------

# Each query takes %(z)s %(x)s %(y)s %(unidad)s (NULL: every unidad) and returns one bytea, empty
# when no feature falls in the tile. Candidates come from the GiST index of the layer's geometry
# (`&&` against the tile envelope, in the column's own SRID so the index applies).
_SQL_EFECTIVOS = """
WITH t AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
f AS (
    SELECT e.id, e.codigo_interno AS codigo, e.apellido || ', ' || e.nombre AS nombre, e.estado,
           e.unidad_id AS unidad,
           floor(extract(epoch FROM now() - e.ultima_posicion_en))::int AS antiguedad_s,
           ST_AsMVTGeom(ST_Transform(e.ultima_posicion, 3857), t.env, 4096, 16, true) AS geom
    FROM efectivos_efectivo e, t
    WHERE e.ultima_posicion && ST_Transform(t.env, 4326)
      AND (%(unidad)s::bigint IS NULL OR e.unidad_id = %(unidad)s::bigint)
)
SELECT ST_AsMVT(f, 'efectivos', 4096, 'geom', 'id') FROM f WHERE f.geom IS NOT NULL
"""

# A fence applies to a unidad when it names it or names none (see geocercas.selectors). Two layers:
# the shapes (clipped to the tile) and, from z13, one label point per fence (ST_PointOnSurface:
# always inside the shape), in the one tile that holds it — a label placed on the clipped shapes
# would be drawn again in every tile the fence crosses. (ST_MaximumInscribedCircle centres labels
# better but made a z14 tile several times slower to build: benchmarks/README.md.)
_SQL_GEOCERCAS = """
WITH t AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
g AS (
    SELECT g.id, g.nombre, g.tipo, g.severidad, g.version, g.geom
    FROM geocercas_geocerca g, t
    WHERE g.activa
      AND g.geom && ST_Transform(t.env, 4326)
      AND (%(unidad)s::bigint IS NULL
           OR NOT EXISTS (SELECT 1 FROM geocercas_geocerca_unidades gu WHERE gu.geocerca_id = g.id)
           OR EXISTS (SELECT 1 FROM geocercas_geocerca_unidades gu
                      WHERE gu.geocerca_id = g.id AND gu.unidad_id = %(unidad)s::bigint))
),
f AS (
    SELECT g.id, g.nombre, g.tipo, g.severidad, g.version,
           ST_AsMVTGeom(ST_Transform(g.geom, 3857), t.env, 4096, 64, true) AS geom
    FROM g, t
),
n AS (
    SELECT g.id, g.nombre, g.tipo,
           ST_AsMVTGeom(ST_Transform(ST_PointOnSurface(g.geom), 3857), t.env, 4096, 0, true) AS geom
    FROM g, t
    WHERE %(z)s >= 13
)
SELECT coalesce((SELECT ST_AsMVT(f, 'geocercas', 4096, 'geom', 'id') FROM f WHERE f.geom IS NOT NULL), '')
    || coalesce((SELECT ST_AsMVT(n, 'geocercas_nombres', 4096, 'geom', 'id') FROM n WHERE n.geom IS NOT NULL), '')
"""

# The view holds ~100 m cells; at lower zooms they are merged into cells of about 1/128 of the
# tile, so a city-wide tile stays a few thousand points.
_SQL_DENSIDAD = """
WITH t AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
celdas AS (
    SELECT ST_SnapToGrid(d.geom, greatest(100.0, (ST_XMax(t.env) - ST_XMin(t.env)) / 128)) AS geom,
           sum(d.lecturas)::int AS lecturas
    FROM mapa_densidad d, t
    WHERE d.geom && t.env
      AND (%(unidad)s::bigint IS NULL OR d.unidad_id = %(unidad)s::bigint)
    GROUP BY 1
),
f AS (SELECT c.lecturas, ST_AsMVTGeom(c.geom, t.env, 4096, 16, true) AS geom FROM celdas c, t)
SELECT ST_AsMVT(f, 'densidad', 4096, 'geom') FROM f WHERE f.geom IS NOT NULL
"""

# The base map's land (mapa.base): simplified to half a pixel first, so a world tile at z0 stays
# small and quick to build.
_SQL_BASE = """
WITH t AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
f AS (
    SELECT ST_AsMVTGeom(ST_Simplify(l.geom, (ST_XMax(t.env) - ST_XMin(t.env)) / 8192), t.env, 4096, 64, true) AS geom
    FROM mapa_tierra l, t
    WHERE l.geom && t.env
)
SELECT ST_AsMVT(f, 'tierra', 4096, 'geom') FROM f WHERE f.geom IS NOT NULL
"""

# `osm` has no query: its tiles come from the installed archive (mapa.base).
CAPAS: dict[str, str] = {
    "efectivos": _SQL_EFECTIVOS,
    "geocercas": _SQL_GEOCERCAS,
    "densidad": _SQL_DENSIDAD,
    "base": _SQL_BASE,
    "osm": "",
}
# The base map is the same for every viewer: one cached copy, under this scope key.
CAPAS_COMUNES = frozenset({"base", "osm"})
for _capa in CAPAS:  # every tile series exists from the start, at 0
    for _cache in ("acierto", "fallo", "sin_cache", "no_modificada"):
        metrics.TILES.labels(capa=_capa, cache=_cache)
CLAVE_COMUN = "comun"


def clave_alcance(capa: str, alcance: AlcanceTeselas) -> str:
    """The scope part of a tile's cache key and ETag."""
    return CLAVE_COMUN if capa in CAPAS_COMUNES else alcance.clave


def tile_generar(*, capa: str, z: int, x: int, y: int, alcance: AlcanceTeselas) -> bytes:
    inicio = time.perf_counter()
    if capa == "osm":
        datos = base.osm_tile(z, x, y)
    else:
        with bd.cursor_tolerante() as cursor:  # tiles tolerate the replica's lag
            cursor.execute(CAPAS[capa], {"z": z, "x": x, "y": y, "unidad": alcance.unidad_id})
            datos = bytes(cursor.fetchone()[0] or b"")
    metrics.GENERACION.labels(capa=capa).observe(time.perf_counter() - inicio)
    return datos


# --- versions and cache --------------------------------------------------------------------------
# Raw Redis keys (not Django's cache API, which pickles): the ASGI fast path (mapa.asgi) reads the
# very same bytes without Django.


def _redis():
    return get_redis_connection("default")


def _prefijo() -> str:
    return f"{settings.REDIS_PREFIX}:tiles"


def clave_version(capa: str) -> str:
    return f"{_prefijo()}:v:{capa}"


def clave_tile(capa: str, version: int, alcance: str, z: int, x: int, y: int) -> str:
    antes, despues = clave_tile_partes(capa, z, x, y)
    return f"{antes}{version}:{alcance}{despues}"


def clave_tile_partes(capa: str, z: int, x: int, y: int) -> tuple[str, str]:
    """A tile key around its "<version>:<scope>" (the fast path completes it inside Redis)."""
    return f"{_prefijo()}:t:{capa}:", f":{z}:{x}:{y}"


def clave_sesion(session_key: str) -> str:
    return f"{_prefijo()}:s:{session_key}"


def capa_version(capa: str) -> int:
    """The layer's current version. A lost counter (Redis flushed or evicted) restarts from the
    clock, so it can never fall back to a number an old cached tile was stored under."""
    if capa == "efectivos":
        return int(time.time() // settings.TILES_EFECTIVOS_TTL_S)
    r = _redis()
    version = r.get(clave_version(capa))
    if version is None:
        r.set(clave_version(capa), time.time_ns() // 1000, nx=True)
        version = r.get(clave_version(capa))
    return int(version)


def capa_invalidar(capa: str) -> int:
    """Move a layer to a new version: every cached tile of it is stale from now on. Call it after
    the change is committed (transaction.on_commit), or a request in between could cache the old
    data under the new version."""
    r = _redis()
    r.set(clave_version(capa), time.time_ns() // 1000, nx=True)
    return int(r.incr(clave_version(capa)))


def sesion_recordar(session_key: str, alcance: AlcanceTeselas, *, usuario_id: int) -> None:
    """Let the fast path serve this browser session's cached tiles without Django. It only does
    while the session itself is in the cache, so signing out stops it at once; the user's
    sessions are listed so that a change of access (deactivation, role, unidad, password) forgets
    them at once (sesiones_olvidar)."""
    tubo = _redis().pipeline(transaction=False)
    tubo.set(clave_sesion(session_key), alcance.clave, ex=SESION_TTL_S)
    tubo.sadd(clave_sesiones_de(usuario_id), session_key)
    tubo.expire(clave_sesiones_de(usuario_id), SESION_TTL_S)
    tubo.execute()


def clave_portador(usuario_id: Any, huella: Any) -> str:
    """What stands for a session when a JWT client (a phone, a script) asks for tiles: its user and
    the password fingerprint its token carries. Every token of that user and password shares it;
    a change of access forgets it with the user's sessions (sesiones_olvidar), and a token issued
    before a password change carries another fingerprint, which Django alone judges."""
    resumen = hashlib.sha256(str(huella).encode()).hexdigest()[:20]
    return f"jwt{usuario_id}x{resumen}"


def clave_sesiones_de(usuario_id: int) -> str:
    return f"{_prefijo()}:su:{usuario_id}"


def sesion_olvidar(session_key: str) -> None:
    _redis().delete(clave_sesion(session_key))


def sesiones_olvidar(usuario_id: int) -> None:
    """The fast path stops serving every session of this user: the next tile goes through Django,
    which sees the user as they are now."""
    r = _redis()
    claves = [
        clave_sesion(k.decode() if isinstance(k, bytes) else k) for k in r.smembers(clave_sesiones_de(usuario_id))
    ]
    r.delete(clave_sesiones_de(usuario_id), *claves)


SESION_TTL_S = 300


def cache_vaciar() -> None:
    r = _redis()
    for clave in r.scan_iter(match=f"{_prefijo()}:*", count=1000):
        r.delete(clave)


def tile_obtener(*, capa: str, z: int, x: int, y: int, alcance: AlcanceTeselas, version: int | None = None) -> bytes:
    """The tile's bytes (b"" when empty), from the cache or built and cached. Without Redis the
    map keeps working: the tile is built every time."""
    if capa not in CAPAS:
        raise NoEncontrado(f"Capa desconocida: {capa}.", detalle={"capas": sorted(CAPAS)})
    try:
        version = capa_version(capa) if version is None else version
        clave = clave_tile(capa, version, clave_alcance(capa, alcance), z, x, y)
        datos = _redis().get(clave)
    except ERRORES_CACHE:
        logger.warning("tile cache unavailable; building %s/%s/%s/%s uncached", capa, z, x, y)
        metrics.TILES.labels(capa=capa, cache="sin_cache").inc()
        return tile_generar(capa=capa, z=z, x=x, y=y, alcance=alcance)
    if datos is not None:
        metrics.TILES.labels(capa=capa, cache="acierto").inc()
        return datos
    metrics.TILES.labels(capa=capa, cache="fallo").inc()
    datos = tile_generar(capa=capa, z=z, x=x, y=y, alcance=alcance)
    try:
        _redis().set(clave, datos, ex=ttl_de(capa))
    except ERRORES_CACHE:
        logger.warning("tile cache unavailable; %s not stored", clave)
    return datos


def ttl_de(capa: str) -> int:
    return settings.TILES_EFECTIVOS_TTL_S * 2 if capa == "efectivos" else settings.TILES_CACHE_TTL_S


def max_age_de(capa: str) -> int:
    """How long a browser may reuse a tile without asking: short for moving efectivos, a few
    minutes for the base map (it changes when an archive is installed); the other versioned layers
    are revalidated with the ETag (a 304 costs one Redis read)."""
    if capa in CAPAS_COMUNES:
        return BASE_MAX_AGE_S
    return settings.TILES_EFECTIVOS_TTL_S if capa == "efectivos" else 0


BASE_MAX_AGE_S = 300


# --- warming -------------------------------------------------------------------------------------


def tiles_de_zona(*, bbox: tuple[float, float, float, float], zooms: range) -> list[tuple[int, int, int]]:
    """Every tile address covering a lon/lat bbox at the given zooms."""

    def a_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
        n = 2**z
        xt = int((lon + 180.0) / 360.0 * n)
        lat_r = math.radians(lat)
        yt = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
        return min(max(xt, 0), n - 1), min(max(yt, 0), n - 1)

    tiles = []
    for z in zooms:
        x0, y0 = a_tile(bbox[0], bbox[3], z)
        x1, y1 = a_tile(bbox[2], bbox[1], z)
        tiles += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return tiles


def tiles_calentar(
    *, capa: str, alcances: list[AlcanceTeselas], bbox: tuple[float, float, float, float], zooms: range
) -> int:
    """Build and cache a layer's tiles over the operating area for each scope; returns how many
    were built (the ones already cached are skipped)."""
    version = capa_version(capa)
    r = _redis()
    construidas = 0
    for z, x, y in tiles_de_zona(bbox=bbox, zooms=zooms):
        for alcance in alcances:
            clave = clave_tile(capa, version, clave_alcance(capa, alcance), z, x, y)
            if not r.exists(clave):
                r.set(clave, tile_generar(capa=capa, z=z, x=x, y=y, alcance=alcance), ex=ttl_de(capa))
                construidas += 1
    return construidas
