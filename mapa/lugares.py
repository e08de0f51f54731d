"""Streets, places and areas of the installed OpenStreetMap extract, offline: an index built from
its tiles (one zoom, every named feature), the search over it (names, and street intersections
"Av. de Mayo y Perú"), and reverse geocoding (naming where a point is: "Plaza de Mayo",
"Avenida de Mayo y Bolívar", "Bolívar"). Without an extract there is nothing to name and the
callers fall back to coordinates."""

from __future__ import annotations

import json
import math
import re

import mapbox_vector_tile
from django.db import connection, transaction

from mapa import base
from mapa.models import TipoLugar

# Tiles of this zoom (or the archive's highest, if lower) are read: streets carry their names
# there in the Protomaps basemap schema, and a city is a few hundred of them.
ZOOM_INDICE = 14
# The schema's layers that name things, and what each becomes.
CAPAS = {"roads": TipoLugar.CALLE, "places": TipoLugar.LUGAR, "pois": TipoLugar.PUNTO}
CAPAS_AREA = ("landuse", "water", "landcover")

# Reverse geocoding is the SQL function gad_lugar_de (migration mapa 0005): the nearest named
# street within 60 m, and a crossing street whose intersection with it is within 80 m of the point,
# make "A y B".

_SQL_CONSOLIDAR = """
INSERT INTO mapa_lugar (nombre, normalizado, tipo, geom)
SELECT nombre, lower(unaccent(nombre)), tipo,
       CASE WHEN tipo = 'calle' THEN ST_LineMerge(ST_Union(geom))
            WHEN tipo = 'area' THEN ST_Union(ST_MakeValid(geom))
            ELSE ST_PointOnSurface(ST_Collect(geom)) END
FROM jsonb_to_recordset(%s::jsonb) AS t(nombre text, tipo text, g text)
CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_GeomFromGeoJSON(t.g), 4326) AS geom) AS x
WHERE NOT ST_IsEmpty(geom)
GROUP BY nombre, tipo
"""


def _a_lonlat(z: int, tx: int, ty: int, extension: int):
    n = 2**z

    def convertir(x: float, y: float) -> tuple[float, float]:
        lon = (tx + x / extension) / n * 360.0 - 180.0
        lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (ty + y / extension) / n))))
        return lon, lat

    return convertir


def _convertir(geometria: dict, convertir) -> dict:
    def mapear(c):
        if isinstance(c[0], (int, float)):
            return list(convertir(c[0], c[1]))
        return [mapear(x) for x in c]

    return {"type": geometria["type"], "coordinates": mapear(geometria["coordinates"])}


def indexar() -> int:
    """(Re)build the index from the installed extract; returns how many names it holds."""
    abierto = base._abierto.obtener()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM mapa_lugar")
        if abierto is None:
            return 0
        _, info = abierto
        z = max(info.minzoom, min(ZOOM_INDICE, info.maxzoom))
        filas: list[dict] = []
        from mapa import tiles

        for tz, tx, ty in tiles.tiles_de_zona(bbox=info.bounds, zooms=range(z, z + 1)):
            datos = base.osm_tile(tz, tx, ty)
            if not datos:
                continue
            capas = mapbox_vector_tile.decode(datos, default_options={"y_coord_down": True})
            for nombre_capa, capa in capas.items():
                tipo = CAPAS.get(nombre_capa) or (TipoLugar.AREA if nombre_capa in CAPAS_AREA else None)
                if tipo is None:
                    continue
                convertir = _a_lonlat(tz, tx, ty, capa.get("extent", 4096))
                for f in capa["features"]:
                    nombre = (f["properties"].get("name") or "").strip()
                    if not nombre or f["geometry"] is None:
                        continue
                    if tipo == TipoLugar.AREA and "Polygon" not in f["geometry"]["type"]:
                        continue
                    filas.append(
                        {"nombre": nombre[:200], "tipo": tipo, "g": json.dumps(_convertir(f["geometry"], convertir))}
                    )
        if filas:
            cursor.execute(_SQL_CONSOLIDAR, [json.dumps(filas)])
        cursor.execute("SELECT count(*) FROM mapa_lugar")
        total = int(cursor.fetchone()[0])
    renombrar()
    return total


# What is still being worked on is named again when an extract is installed; closed rows keep the
# name they had (or none), as the record of that time.
_ABIERTOS = (
    ("geocercas_alerta", "punto", "estado <> 'resuelta'"),
    ("tareas_tarea", "ubicacion", "estado NOT IN ('finalizada', 'cancelada')"),
    ("seguridad_sos", "punto", "estado = 'activo'"),
)


def renombrar() -> int:
    """Name again the open alerts, tasks and SOS from the index now installed; returns how many."""
    total = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for tabla, columna, abierto in _ABIERTOS:
            cursor.execute(
                f"UPDATE {tabla} SET lugar = coalesce(gad_lugar_de(ST_X({columna}), ST_Y({columna})), '') "
                f"WHERE {columna} IS NOT NULL AND {abierto}"
            )
            total += cursor.rowcount
    return total


def _palabras(q: str) -> list[str]:
    return [p for p in re.split(r"\s+", q.strip()) if p]


# The geometry's point and box only for the rows kept: a common word matches thousands.
_SQL_BUSCAR = """
SELECT id, nombre, tipo, ST_X(c), ST_Y(c), ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)
FROM (SELECT id, nombre, tipo, geom FROM mapa_lugar WHERE {condicion}
      ORDER BY (normalizado = lower(unaccent(%(q)s))) DESC, length(nombre), nombre
      LIMIT %(limite)s) AS x
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(geom) AS c) AS p
ORDER BY (lower(unaccent(nombre)) = lower(unaccent(%(q)s))) DESC, length(nombre), nombre
"""

_SQL_ESQUINA = """
WITH a AS (SELECT nombre, geom FROM mapa_lugar WHERE tipo = 'calle' AND {a} ORDER BY length(nombre) LIMIT 5),
     b AS (SELECT nombre, geom FROM mapa_lugar WHERE tipo = 'calle' AND {b} ORDER BY length(nombre) LIMIT 5)
SELECT a.nombre, b.nombre, ST_X(p), ST_Y(p)
FROM a JOIN b ON a.nombre <> b.nombre AND ST_Intersects(a.geom, b.geom)
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(ST_Intersection(a.geom, b.geom)) AS p) AS x
ORDER BY length(a.nombre) + length(b.nombre)
LIMIT %(limite)s
"""


def _condicion(palabras: list[str], prefijo: str, parametros: dict) -> str:
    partes = []
    for k, palabra in enumerate(palabras):
        clave = f"{prefijo}{k}"
        # LIKE's own characters in what was typed are taken literally (a lone backslash would be an error).
        literal = palabra.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        parametros[clave] = f"%{literal}%"
        partes.append(f"normalizado LIKE lower(unaccent(%({clave})s))")
    return " AND ".join(partes) or "false"


def buscar(q: str, limite: int = 8) -> list[dict]:
    """Places whose name holds every word of `q`, and, for "A y B" (or "A e B", "A & B"), the
    intersections of streets named like A and like B."""
    resultados: list[dict] = []
    partes = re.split(r"\s+(?:y|e|&|esq\.?|esquina)\s+", q.strip(), maxsplit=1, flags=re.IGNORECASE)
    with connection.cursor() as cursor:
        if len(partes) == 2 and all(_palabras(p) for p in partes):
            parametros: dict = {"limite": limite}
            sql = _SQL_ESQUINA.format(
                a=_condicion(_palabras(partes[0]), "a", parametros), b=_condicion(_palabras(partes[1]), "b", parametros)
            )
            cursor.execute(sql, parametros)
            for a, b, lon, lat in cursor.fetchall():
                resultados.append(
                    {
                        "tipo": "esquina",
                        "id": None,
                        "titulo": f"{a} y {b}",
                        "detalle": "Esquina",
                        "lon": lon,
                        "lat": lat,
                        "bbox": None,
                    }
                )
        parametros = {"q": q, "limite": limite}
        cursor.execute(_SQL_BUSCAR.format(condicion=_condicion(_palabras(q), "p", parametros)), parametros)
        etiquetas = dict(TipoLugar.choices)
        for pk, nombre, tipo, lon, lat, x0, y0, x1, y1 in cursor.fetchall():
            resultados.append(
                {
                    "tipo": "lugar",
                    "id": pk,
                    "titulo": nombre,
                    "detalle": etiquetas.get(tipo, tipo),
                    "lon": lon,
                    "lat": lat,
                    "bbox": [x0, y0, x1, y1] if tipo in (TipoLugar.CALLE, TipoLugar.AREA) else None,
                }
            )
    return resultados


def lugar_de(lon: float | None, lat: float | None) -> str | None:
    """Where a point is, named: the named area it is in ("Plaza de Mayo"), else the nearest street
    and the one crossing it nearby ("Avenida de Mayo y Bolívar"), else the nearest street. None
    without an index or with nothing named near (the caller shows coordinates)."""
    if lon is None or lat is None:
        return None
    with connection.cursor() as cursor:
        # The function (migration mapa 0005) is what the alerts' INSERT and the tasks call too.
        cursor.execute("SELECT gad_lugar_de(%s, %s)", [lon, lat])
        return cursor.fetchone()[0]
