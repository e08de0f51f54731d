"""Geocerca shapes in and out: reading a GeoJSON or KML someone drew elsewhere (a file or pasted
text), the validation every shape goes through (API, admin, import), and export to both formats.

GDAL (through GeoDjango) reads KML; GEOS validates. Errors are EntradaInvalida with a Spanish
message that says what to fix."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import escape

from django.contrib.gis.gdal import DataSource, GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, LinearRing, LineString, MultiPolygon, Polygon

from gad_project.exceptions import EntradaInvalida

VERTICES_MAX = 10_000
TAMANO_MAX = 5 * 1024 * 1024  # bytes of an imported file


def _error(mensaje: str) -> EntradaInvalida:
    return EntradaInvalida(mensaje, codigo="geometria_invalida")


def geometria_validar(geom: GEOSGeometry) -> MultiPolygon | LineString:
    """A fence's area (Polygon/MultiPolygon, returned as MultiPolygon) or a corridor's route
    (LineString), in EPSG:4326, checked: in range, not empty, valid (no self-intersections), not
    degenerate, at most VERTICES_MAX vertices."""
    if geom.srid not in (None, 4326):
        geom.transform(4326)
    if geom.num_coords > VERTICES_MAX:
        raise _error(
            f"La geometría tiene {geom.num_coords:,} vértices (máximo {VERTICES_MAX:,}): simplifíquela.".replace(
                ",", "."
            )
        )
    if isinstance(geom, LineString) and not isinstance(geom, LinearRing):
        return _ruta_validar(geom)
    if isinstance(geom, Polygon):
        geom = MultiPolygon(geom, srid=4326)
    if not isinstance(geom, MultiPolygon):
        raise _error(
            f"La geometría debe ser un Polygon o MultiPolygon (o la LineString de un corredor), no {geom.geom_type}."
        )
    if geom.empty:
        raise _error("La geometría está vacía.")
    _en_rango(geom)
    if not geom.valid:
        raise _error(f"Geometría inválida: {geom.valid_reason}.")
    if geom.area == 0:
        raise _error("La geometría no tiene superficie.")
    geom.srid = 4326
    return geom


def _en_rango(geom: GEOSGeometry) -> None:
    x0, y0, x1, y1 = geom.extent
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise _error("Coordenadas fuera de rango (lon -180..180, lat -90..90).")


def _ruta_validar(ruta: LineString) -> LineString:
    ruta.srid = 4326
    _en_rango(ruta)
    if len(ruta.coords) < 2 or ruta.length == 0:
        raise _error("La ruta no tiene longitud.")
    if not ruta.simple:
        raise _error("La ruta del corredor se cruza a sí misma.")
    return ruta


# --- reading -------------------------------------------------------------------------------------


def leer(contenido: bytes | str, nombre: str = "") -> MultiPolygon | LineString:
    """The one shape in a GeoJSON (geometry, Feature or FeatureCollection) or KML document,
    validated. Several polygons become one MultiPolygon; anything else ambiguous is an error."""
    if isinstance(contenido, str):
        contenido = contenido.encode()
    if len(contenido) > TAMANO_MAX:
        raise _error(f"El archivo supera {TAMANO_MAX // (1024 * 1024)} MB.")
    texto = contenido.lstrip()
    if not texto:
        raise _error("No hay nada que importar.")
    es_kml = nombre.lower().endswith((".kml", ".xml")) or texto.startswith(b"<")
    geometrias = _de_kml(contenido) if es_kml else _de_geojson(contenido)
    if not geometrias:
        raise _error("El documento no contiene ninguna geometría.")
    poligonos = [g for g in geometrias if isinstance(g, Polygon | MultiPolygon)]
    if len(poligonos) == len(geometrias):
        partes = [p for g in poligonos for p in (g if isinstance(g, MultiPolygon) else [g])]
        return geometria_validar(MultiPolygon(*partes, srid=4326))
    if len(geometrias) == 1:
        return geometria_validar(geometrias[0])
    tipos = ", ".join(sorted({g.geom_type for g in geometrias}))
    raise _error(f"El documento mezcla geometrías ({tipos}): importe un área o una ruta, no ambas.")


def _de_geojson(contenido: bytes) -> list[GEOSGeometry]:
    try:
        doc = json.loads(contenido)
    except ValueError as exc:
        raise _error(f"No es un GeoJSON válido: {exc}.") from exc
    if not isinstance(doc, dict) or "type" not in doc:
        raise _error("No es un GeoJSON: falta «type».")
    if doc["type"] == "FeatureCollection":
        crudas = [f.get("geometry") for f in doc.get("features") or [] if isinstance(f, dict)]
    elif doc["type"] == "Feature":
        crudas = [doc.get("geometry")]
    else:
        crudas = [doc]
    geometrias = []
    for cruda in crudas:
        if not cruda:
            continue
        try:
            g = GEOSGeometry(json.dumps(cruda))
        except (GEOSException, GDALException, ValueError, TypeError) as exc:
            raise _error(f"Geometría GeoJSON ilegible: {exc}.") from exc
        g.srid = 4326  # RFC 7946: GeoJSON is WGS 84 lon/lat
        geometrias.append(g)
    return geometrias


def _de_kml(contenido: bytes) -> list[GEOSGeometry]:
    with tempfile.NamedTemporaryFile(suffix=".kml") as f:
        f.write(contenido)
        f.flush()
        try:
            fuente = DataSource(f.name)
            geometrias = []
            for capa in (fuente[i] for i in range(len(fuente))):
                for feature in capa:
                    g = feature.geom.clone()
                    g.set_3d(False)  # KML carries altitude; a fence is flat
                    geometrias.append(GEOSGeometry(g.wkt, srid=4326))
        except (GDALException, GEOSException, ValueError) as exc:
            raise _error(f"No es un KML válido: {exc}.") from exc
    return geometrias


# --- writing -------------------------------------------------------------------------------------


def _geometria_de(geocerca) -> GEOSGeometry:
    return geocerca.ruta if geocerca.tipo == "corredor" and geocerca.ruta else geocerca.geom


def a_feature(geocerca) -> dict:
    propiedades = {
        "id": geocerca.pk,
        "nombre": geocerca.nombre,
        "tipo": geocerca.tipo,
        "severidad": geocerca.severidad,
        "activa": geocerca.activa,
    }
    if geocerca.tipo == "corredor":
        propiedades["ancho_m"] = geocerca.ancho_m
    return {"type": "Feature", "properties": propiedades, "geometry": json.loads(_geometria_de(geocerca).geojson)}


def a_geojson(geocerca) -> str:
    return json.dumps(a_feature(geocerca), ensure_ascii=False, indent=2)


_KML_INICIO = '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'


def _placemark(geocerca) -> str:
    return (
        f"<Placemark><name>{escape(geocerca.nombre)}</name>"
        f"<description>{escape(geocerca.get_tipo_display())} · {escape(geocerca.get_severidad_display())}</description>"
        f"{_geometria_de(geocerca).kml}</Placemark>\n"
    )


def a_kml(geocerca) -> str:
    return f"{_KML_INICIO}<name>{escape(geocerca.nombre)}</name>{_placemark(geocerca)}</Document></kml>\n"


def a_kml_varias(geocercas: Iterable) -> Iterator[str]:
    yield f"{_KML_INICIO}<name>Geocercas GRUPO_GAD</name>\n"
    for g in geocercas:
        yield _placemark(g)
    yield "</Document></kml>\n"
