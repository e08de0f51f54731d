"""Geocerca shapes in and out: reading a GeoJSON or KML someone drew elsewhere (a file or pasted
text), the validation every shape goes through (API, admin, import), and export to both formats.

KML is read here with a hardened XML parser (defusedxml: no DTD, no entities, no external
references) and only its geometry elements are turned into GEOS geometries; GDAL never opens what a
user sends (its format auto-detection would take an OGR VRT for KML, and a VRT can read server
files or fetch URLs). GEOS validates. Errors are EntradaInvalida with a Spanish message that says
what to fix."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Iterator
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as xml_leer
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, LinearRing, LineString, MultiPolygon, Point, Polygon

from gad_project.exceptions import EntradaInvalida

VERTICES_MAX = 10_000
# A corridor's area is the route's buffer, computed when it is saved, and a pathological route (a
# tight zigzag whose buffers all overlap) grows its cost steeply with the vertices: bounded here so
# one request stays cheap (figures in benchmarks/README.md).
CORREDOR_VERTICES_MAX = 2_000
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
    if not geom.empty:
        _en_rango(geom)
        _antimeridiano(geom)
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


def _antimeridiano(geom: GEOSGeometry) -> None:
    """Two consecutive vertices more than 180° of longitude apart: the shape crosses the
    antimeridian, which lon/lat geometry reads as going the long way round the globe."""
    anillos = [geom] if isinstance(geom, LineString) else [anillo for p in _poligonos(geom) for anillo in p]
    for anillo in anillos:
        lons = [c[0] for c in anillo.coords]
        if any(abs(b - a) > 180 for a, b in itertools.pairwise(lons)):
            raise _error("La geometría cruza el antimeridiano (±180° de longitud): divídala a cada lado de él.")


def _poligonos(geom: GEOSGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    return [g for g in geom if isinstance(g, Polygon)] if isinstance(geom, MultiPolygon) else []


def _ruta_validar(ruta: LineString) -> LineString:
    ruta.srid = 4326
    _en_rango(ruta)
    if ruta.num_coords > CORREDOR_VERTICES_MAX:
        raise _error(
            f"La ruta tiene {ruta.num_coords:,} vértices (máximo {CORREDOR_VERTICES_MAX:,} para un corredor): "
            "simplifíquela.".replace(",", ".")
        )
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


# A `crs` member naming WGS 84 lon/lat (what RFC 7946 GeoJSON always is) is accepted; any other
# is refused, never resolved: GDAL < 3.9 would read or fetch a "link" CRS, and a projected one
# would silently be reinterpreted. One rule for the API and the admin's import.
_CRS_WGS84 = {
    "epsg:4326",
    "crs84",
    "ogc:crs84",
    "wgs84",
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "urn:ogc:def:crs:ogc::crs84",
    "urn:ogc:def:crs:epsg::4326",
    "urn:ogc:def:crs:epsg:6.6:4326",
}


def crs_validar(doc: object) -> None:
    """Refuses a GeoJSON document (or any part of one) that declares a coordinate reference system
    other than WGS 84 lon/lat, wherever the `crs` member sits."""
    pendientes = [doc]
    while pendientes:
        actual = pendientes.pop()
        if isinstance(actual, list):
            pendientes.extend(x for x in actual if isinstance(x, dict | list))
            continue
        if not isinstance(actual, dict):
            continue
        for clave, valor in actual.items():
            clave = str(clave).split("\0", 1)[0].lower()  # as GDAL compares member names
            if clave == "crs" and valor is not None:
                _crs_wgs84(valor)
            elif clave in ("geometry", "geometries", "features"):
                pendientes.append(valor)


def _crs_wgs84(crs: object) -> None:
    nombre = None
    if isinstance(crs, dict) and str(crs.get("type", "")).lower() == "name":
        propiedades = crs.get("properties")
        nombre = propiedades.get("name") if isinstance(propiedades, dict) else None
    if isinstance(nombre, str) and nombre.strip().lower() in _CRS_WGS84:
        return
    descripcion = nombre if isinstance(nombre, str) else json.dumps(crs, ensure_ascii=False)[:80]
    raise _error(
        f"El GeoJSON declara el sistema de coordenadas «{descripcion[:80]}»: solo se acepta WGS 84 "
        "(lon/lat, EPSG:4326, como exige RFC 7946). Reproyéctelo o quite «crs»."
    )


def _de_geojson(contenido: bytes) -> list[GEOSGeometry]:
    try:
        doc = json.loads(contenido)
    except ValueError as exc:
        raise _error(f"No es un GeoJSON válido: {exc}.") from exc
    if not isinstance(doc, dict) or "type" not in doc:
        raise _error("No es un GeoJSON: falta «type».")
    crs_validar(doc)
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
            g = GEOSGeometry(json.dumps({k: v for k, v in cruda.items() if k.lower() != "crs"}))
        except (GEOSException, GDALException, ValueError, TypeError, AttributeError) as exc:
            raise _error(f"Geometría GeoJSON ilegible: {exc}.") from exc
        g.srid = 4326  # RFC 7946: GeoJSON is WGS 84 lon/lat
        geometrias.append(g)
    return geometrias


KML_NS = "http://www.opengis.net/kml/2.2"
_K = f"{{{KML_NS}}}"


def _de_kml(contenido: bytes) -> list[GEOSGeometry]:
    """The Polygons (with their holes), LineStrings and Points of a KML 2.2 document, wherever they
    sit (Placemarks, MultiGeometry, folders). Altitudes are dropped: a fence is flat."""
    try:
        raiz = xml_leer(contenido, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise _error("El KML declara un DTD o entidades, que no se aceptan: expórtelo de nuevo sin ellos.") from exc
    except ParseError as exc:
        raise _error(f"No es un KML válido: {exc}.") from exc
    if raiz.tag != f"{_K}kml":
        raise _error(f"No es un documento KML 2.2 (raíz «{raiz.tag}», se esperaba «kml» de {KML_NS}).")
    geometrias: list[GEOSGeometry] = []
    try:
        for poligono in raiz.iter(f"{_K}Polygon"):
            exterior = poligono.find(f"{_K}outerBoundaryIs/{_K}LinearRing/{_K}coordinates")
            if exterior is None:
                raise _error("Un Polygon del KML no tiene borde exterior (outerBoundaryIs).")
            agujeros = poligono.findall(f"{_K}innerBoundaryIs/{_K}LinearRing/{_K}coordinates")
            geometrias.append(
                Polygon(LinearRing(_coordenadas(exterior)), *(LinearRing(_coordenadas(a)) for a in agujeros), srid=4326)
            )
        for linea in raiz.iter(f"{_K}LineString"):
            geometrias.append(LineString(_coordenadas(linea.find(f"{_K}coordinates")), srid=4326))
        for punto in raiz.iter(f"{_K}Point"):
            geometrias.append(Point(_coordenadas(punto.find(f"{_K}coordinates"))[0], srid=4326))
    except (GEOSException, ValueError, TypeError, IndexError) as exc:
        raise _error(f"Geometría KML ilegible: {exc}.") from exc
    return geometrias


def _coordenadas(elemento: Element | None) -> list[tuple[float, float]]:
    """KML's `lon,lat[,alt]` tuples separated by whitespace, as (lon, lat)."""
    texto = (elemento.text or "") if elemento is not None else ""
    puntos = []
    for tupla in texto.split():
        partes = tupla.split(",")
        if len(partes) not in (2, 3):
            raise _error(f"Coordenada KML ilegible: «{tupla[:40]}» (se espera lon,lat o lon,lat,alt).")
        try:
            lon, lat = float(partes[0]), float(partes[1])
        except ValueError as exc:
            raise _error(f"Coordenada KML ilegible: «{tupla[:40]}».") from exc
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise _error("Coordenadas fuera de rango (lon -180..180, lat -90..90).")
        puntos.append((lon, lat))
    if not puntos:
        raise _error("Una geometría del KML no tiene coordenadas.")
    return puntos


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
