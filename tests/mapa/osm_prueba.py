"""A small OpenStreetMap-like archive the tests build themselves: a few streets, a park, water and
a place name around Plaza de Mayo, in the Protomaps basemap schema, encoded by PostGIS
(ST_AsMVT) and written with the pmtiles library, as PMTiles or as MBTiles."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

from django.db import connection
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write

from mapa import tiles

PLAZA_DE_MAYO = (-58.3722, -34.6083)
BBOX = (-58.3900, -34.6200, -58.3550, -34.5980)
ZOOMS = range(12, 17)
CALLE = "Avenida de Mayo"
LUGAR = "Monserrat"

# Each layer: (name, WKT in EPSG:4326, properties)
RASGOS = [
    (
        "earth",
        "POLYGON((-58.40 -34.63, -58.34 -34.63, -58.34 -34.59, -58.40 -34.59, -58.40 -34.63))",
        {"kind": "earth"},
    ),
    (
        "water",
        "POLYGON((-58.362 -34.612, -58.350 -34.612, -58.350 -34.600, -58.362 -34.600, -58.362 -34.612))",
        {"kind": "water"},
    ),
    (
        "landuse",
        "POLYGON((-58.3735 -34.6090, -58.3710 -34.6090, -58.3710 -34.6076, -58.3735 -34.6076, -58.3735 -34.6090))",
        {"kind": "park", "name": "Plaza de Mayo"},
    ),
    ("roads", "LINESTRING(-58.3930 -34.6090, -58.3735 -34.6086)", {"kind": "major_road", "name": CALLE}),
    ("roads", "LINESTRING(-58.3740 -34.6150, -58.3738 -34.6000)", {"kind": "minor_road", "name": "Bolívar"}),
    ("places", "POINT(-58.3800 -34.6120)", {"kind": "neighbourhood", "name": LUGAR}),
]


def _tile(z: int, x: int, y: int) -> bytes:
    datos = b""
    with connection.cursor() as c:
        for capa in dict.fromkeys(n for n, _, _ in RASGOS):
            rasgos = [{"wkt": wkt, "kind": p.get("kind"), "name": p.get("name")} for n, wkt, p in RASGOS if n == capa]
            c.execute(
                """
                WITH t AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
                f AS (SELECT r.kind, r.name,
                             ST_AsMVTGeom(ST_Transform(ST_GeomFromText(r.wkt, 4326), 3857), t.env) AS geom
                      FROM json_to_recordset(%(rasgos)s::json) AS r(wkt text, kind text, name text), t)
                SELECT ST_AsMVT(f, %(capa)s, 4096, 'geom') FROM f WHERE geom IS NOT NULL
                """,
                {"z": z, "x": x, "y": y, "rasgos": json.dumps(rasgos), "capa": capa},
            )
            datos += bytes(c.fetchone()[0] or b"")
    return datos


def tiles_del_archivo() -> dict[tuple[int, int, int], bytes]:
    out = {}
    for z, x, y in tiles.tiles_de_zona(bbox=BBOX, zooms=ZOOMS):
        datos = _tile(z, x, y)
        if datos:
            out[(z, x, y)] = datos
    return out


def _metadatos() -> dict:
    return {
        "name": "prueba",
        "vector_layers": [{"id": n, "fields": {}} for n in dict.fromkeys(n for n, _, _ in RASGOS)],
        "attribution": "© OpenStreetMap",
    }


def construir_pmtiles(ruta: Path) -> dict[tuple[int, int, int], bytes]:
    teselas = tiles_del_archivo()
    escribir_pmtiles(ruta, teselas, bbox=BBOX, centro=PLAZA_DE_MAYO, zoom_centro=14, metadatos=_metadatos())
    return teselas


def escribir_pmtiles(
    ruta: Path,
    teselas: dict[tuple[int, int, int], bytes],
    *,
    bbox: tuple[float, float, float, float],
    centro: tuple[float, float],
    zoom_centro: int,
    metadatos: dict,
) -> None:
    """MVT tiles (z, x, y) -> an archive as the Protomaps builds are: gzip, in tile-id order (the
    benchmarks build a city's with it too)."""
    with write(str(ruta)) as w:
        for (z, x, y), datos in sorted(teselas.items(), key=lambda kv: zxy_to_tileid(*kv[0])):
            w.write_tile(zxy_to_tileid(z, x, y), gzip.compress(datos, mtime=0))
        w.finalize(
            {
                "tile_type": TileType.MVT,
                "tile_compression": Compression.GZIP,
                "min_lon_e7": int(bbox[0] * 1e7),
                "min_lat_e7": int(bbox[1] * 1e7),
                "max_lon_e7": int(bbox[2] * 1e7),
                "max_lat_e7": int(bbox[3] * 1e7),
                "center_zoom": zoom_centro,
                "center_lon_e7": int(centro[0] * 1e7),
                "center_lat_e7": int(centro[1] * 1e7),
            },
            metadatos,
        )


def construir_mbtiles(ruta: Path) -> dict[tuple[int, int, int], bytes]:
    teselas = tiles_del_archivo()
    bd = sqlite3.connect(ruta)
    bd.executescript(
        "CREATE TABLE metadata (name text, value text);"
        "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob);"
    )
    meta = {
        "name": "prueba",
        "format": "pbf",
        "minzoom": str(ZOOMS.start),
        "maxzoom": str(ZOOMS.stop - 1),
        "bounds": ",".join(str(v) for v in BBOX),
        "center": f"{PLAZA_DE_MAYO[0]},{PLAZA_DE_MAYO[1]},14",
        "json": json.dumps({"vector_layers": _metadatos()["vector_layers"]}),
    }
    bd.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
    bd.executemany(
        "INSERT INTO tiles VALUES (?, ?, ?, ?)",
        [(z, x, (1 << z) - 1 - y, gzip.compress(d, mtime=0)) for (z, x, y), d in teselas.items()],
    )
    bd.commit()
    bd.close()
    return teselas
