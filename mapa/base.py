"""The base map, offline: land from Natural Earth (installed with the front-end assets) and, when
the agency supplies one, an OpenStreetMap extract as a PMTiles or MBTiles archive.

Both are served as vector tiles through the same view, fast path and Redis cache as the other
layers (mapa.tiles): `base` is built by PostGIS from `mapa_tierra`, `osm` is read from the
installed archive. Neither depends on who is looking, so every viewer shares one cached copy.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import connection, transaction
from pmtiles.convert import mbtiles_to_pmtiles
from pmtiles.reader import MmapSource, Reader
from pmtiles.tile import Compression, MagicNumberNotFound, SpecVersionUnsupported, TileType

from gad_project.exceptions import EntradaInvalida

TIERRA_ORIGEN = settings.BASE_DIR / "node_modules" / "world-atlas" / "land-10m.json"

# One land polygon: repaired, wrapped back into -180..180 (see _desplegar), clipped to Web
# Mercator's latitude range and cut into pieces of at most 256 vertices (so a tile's GiST lookup
# touches only the pieces near it).
_SQL_TIERRA = """
INSERT INTO mapa_tierra (geom)
WITH v AS (
    SELECT ST_CollectionExtract(ST_MakeValid(ST_ClipByBox2D(
               ST_WrapX(ST_MakeValid(ST_SetSRID(ST_GeomFromWKB(%s), 4326)), 180, -360),
               ST_MakeEnvelope(-180, -85.05, 180, 85.05, 4326))), 3) AS g
)
SELECT s FROM (SELECT ST_Subdivide(ST_Transform(g, 3857), 256) AS s FROM v WHERE NOT ST_IsEmpty(g)) x
WHERE GeometryType(s) = 'POLYGON'
"""


def _desplegar(poligono) -> bytes | None:
    """world-atlas is spherical TopoJSON: a polygon across the antimeridian (Chukotka, Fiji) jumps
    from 180 to -180 and back, which read as a plane is a band around the world. Its western
    vertices are moved past 180 so the ring is continuous; ST_WrapX then splits it back at 180.
    Antarctica, a ring around the pole, is left out (no plane reading of it is right)."""
    from django.contrib.gis.geos import Polygon

    xmin, ymin, xmax, _ = poligono.extent
    if ymin < -80:
        return None
    if xmax - xmin <= 180:
        return bytes(poligono.wkb)
    anillos = [[(x + 360 if x < -100 else x, y) for x, y, *_ in anillo.tuple] for anillo in poligono]
    return bytes(Polygon(*anillos).wkb)


def tierra_cargar(origen: Path = TIERRA_ORIGEN) -> int:
    """(Re)load the land polygons; returns how many pieces were stored (seconds for the 1:10 m world:
    it runs in a migration, once)."""
    from django.contrib.gis.gdal import DataSource

    capa = DataSource(str(origen))[0]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM mapa_tierra")
        for feature in capa:
            geom = feature.geom
            poligonos = list(geom) if geom.geom_type == "MultiPolygon" else [geom]  # type: ignore[call-overload]
            for poligono in poligonos:
                if (wkb := _desplegar(poligono)) is not None:
                    cursor.execute(_SQL_TIERRA, [wkb])
        cursor.execute("SELECT count(*) FROM mapa_tierra")
        piezas = int(cursor.fetchone()[0])
    return piezas


# --- the OpenStreetMap archive -------------------------------------------------------------------


def archivo_osm() -> Path:
    return Path(settings.MAPA_BASE_DIR) / "osm.pmtiles"


@dataclass(frozen=True)
class InfoArchivo:
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float]
    capas: tuple[str, ...]
    bytes: int


def _leer_info(reader: Reader, tamano: int) -> InfoArchivo:
    h = reader.header()
    if h["tile_type"] != TileType.MVT:
        raise EntradaInvalida(
            "El archivo no contiene teselas vectoriales (MVT).",
            detalle={"tipo": h["tile_type"].name},
            codigo="archivo_invalido",
        )
    meta = reader.metadata() or {}
    if "vector_layers" not in meta and isinstance(meta.get("json"), str):  # converted from MBTiles
        try:
            meta = json.loads(meta["json"])
        except ValueError:
            meta = {}
    capas = tuple(c.get("id", "") for c in meta.get("vector_layers", []) if isinstance(c, dict))
    return InfoArchivo(
        minzoom=h["min_zoom"],
        maxzoom=h["max_zoom"],
        bounds=(h["min_lon_e7"] / 1e7, h["min_lat_e7"] / 1e7, h["max_lon_e7"] / 1e7, h["max_lat_e7"] / 1e7),
        capas=capas,
        bytes=tamano,
    )


def osm_instalar(origen: Path) -> InfoArchivo:
    """Validate an archive (PMTiles v3, or MBTiles converted to it) and put it in place atomically:
    processes serving tiles meanwhile switch to it on their next tile. The caller moves the `osm`
    layer to a new version so no old cached tile is served."""
    if not origen.is_file():
        raise EntradaInvalida(f"No existe el archivo {origen}.", codigo="archivo_invalido")
    destino = archivo_osm()
    destino.parent.mkdir(parents=True, exist_ok=True)
    fd, temporal = tempfile.mkstemp(dir=destino.parent, suffix=".pmtiles")
    os.close(fd)
    try:
        with open(origen, "rb") as f:
            es_pmtiles = f.read(7) == b"PMTiles"
        if es_pmtiles:
            shutil.copyfile(origen, temporal)
        else:
            try:
                mbtiles_to_pmtiles(str(origen), temporal, maxzoom=None)
            except Exception as exc:  # sqlite3.DatabaseError, KeyError on missing metadata, ...
                raise EntradaInvalida(
                    "El archivo no es un PMTiles v3 ni un MBTiles válido.",
                    detalle={"error": str(exc)},
                    codigo="archivo_invalido",
                ) from exc
        with open(temporal, "rb") as f:
            try:
                info = _leer_info(Reader(MmapSource(f)), os.path.getsize(temporal))
            except (MagicNumberNotFound, SpecVersionUnsupported, ValueError) as exc:
                raise EntradaInvalida(
                    "El archivo no es un PMTiles v3 válido.", detalle={"error": repr(exc)}, codigo="archivo_invalido"
                ) from exc
        os.replace(temporal, destino)
    finally:
        if os.path.exists(temporal):
            os.unlink(temporal)
    return info


class _Abierto:
    """The installed archive, memory-mapped once per process and reopened when it is replaced."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.firma: tuple[int, int] | None = None
        self.reader: Reader | None = None
        self.info: InfoArchivo | None = None
        self.archivo: BinaryIO | None = None

    def obtener(self) -> tuple[Reader, InfoArchivo] | None:
        ruta = archivo_osm()
        try:
            st = ruta.stat()
        except FileNotFoundError:
            return None
        firma = (st.st_ino, st.st_mtime_ns)
        with self.lock:
            if firma != self.firma:
                if self.archivo is not None:
                    self.archivo.close()
                self.archivo = open(ruta, "rb")  # noqa: SIM115 - kept open: the map reads it for the process lifetime
                self.reader = Reader(MmapSource(self.archivo))
                self.info = _leer_info(self.reader, st.st_size)
                self.firma = firma
            assert self.reader is not None and self.info is not None
            return self.reader, self.info


_abierto = _Abierto()


def osm_info() -> InfoArchivo | None:
    """The installed archive's zooms, bounds and layers, or None without one."""
    abierto = _abierto.obtener()
    return abierto[1] if abierto else None


def osm_tile(z: int, x: int, y: int) -> bytes:
    """One tile of the archive, uncompressed (b"" where it has none)."""
    abierto = _abierto.obtener()
    if abierto is None:
        return b""
    reader, _ = abierto
    with _abierto.lock:
        datos = reader.get(z, x, y)
        compresion = reader.header()["tile_compression"]
    if not datos:
        return b""
    datos = bytes(datos)
    if compresion == Compression.GZIP or datos[:2] == b"\x1f\x8b":
        datos = gzip.decompress(datos)
    return datos
