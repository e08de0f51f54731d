"""Streaming exports in the formats GIS tools read: GPX, KML, GeoJSON and CSV.

Rows come from the owning apps' selectors a few thousand at a time (a server-side cursor:
`gad_project.bd.filas_por_bloques`, or a queryset's chunked iterator), and each writer turns them
into text as they arrive, so a year of readings never sits in the process's memory. The response body is an *async* iterator that pulls each
block of rows on the request's own thread (`sync_to_async`, thread-sensitive): Django would
otherwise consume a sync iterator whole before serving it under ASGI.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import groupby, islice
from typing import Any
from xml.sax.saxutils import escape

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from django.utils import timezone

from efectivos.selectors import CAMPOS_RECORRIDO
from gad_project import rls
from gad_project.tiempo import iso

TIPOS: dict[str, tuple[str, str]] = {
    "gpx": ("application/gpx+xml", "gpx"),
    "kml": ("application/vnd.google-earth.kml+xml", "kml"),
    "geojson": ("application/geo+json", "geojson"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
}


async def _asincrono(partes: Iterable[str], contexto: rls.Contexto | None) -> AsyncIterator[bytes]:
    iterador = iter(partes)

    def siguiente() -> bytes:
        # Served after the view returned: the rows are read under the request's context still.
        with rls.usar(contexto):
            return "".join(islice(iterador, 500)).encode()

    leer = sync_to_async(siguiente, thread_sensitive=True)
    while bloque := await leer():
        yield bloque


def respuesta(partes: Iterable[str], *, formato: str, nombre: str) -> StreamingHttpResponse:
    tipo, extension = TIPOS[formato]
    return StreamingHttpResponse(
        _asincrono(partes, rls.actual()),
        content_type=tipo,
        headers={
            "Content-Disposition": f'attachment; filename="{nombre}.{extension}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _hora(t: datetime) -> str:
    return iso(timezone.localtime(t))


def _utc(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- tracks --------------------------------------------------------------------------------------
# Track rows as efectivos.selectors.recorridos_filas gives them (CAMPOS_RECORRIDO), ordered by
# efectivo and device time.


def recorrido_gpx(lecturas: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """GPX 1.1: one <trk> per efectivo; implausible readings are left out of the line (they are
    in the GeoJSON and CSV, flagged)."""
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="GRUPO_GAD" xmlns="http://www.topografix.com/GPX/1/1">\n'
    )
    for (_, codigo, nombre), grupo in groupby(lecturas, key=lambda f: (f[0], f[1], f[2])):
        yield f"<trk><name>{escape(f'{codigo} · {nombre}')}</name><trkseg>\n"
        for f in grupo:
            if f[10]:
                continue
            yield f'<trkpt lat="{f[4]:.7f}" lon="{f[3]:.7f}"><time>{_utc(f[5])}</time></trkpt>\n'
        yield "</trkseg></trk>\n"
    yield "</gpx>\n"


# Readings per gx:Track: a track lists all its times before its coordinates, so each piece is held
# in memory; a long track streams as a gx:MultiTrack of pieces that share their joining point.
KML_TRAMO = 5000


def recorrido_kml(lecturas: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """KML: one Placemark per efectivo with its track as a gx:Track, a time for every point
    (Google Earth replays it with its time slider; GDAL's LIBKML driver reads its begin and end)."""
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">'
        "<Document><name>Recorridos GRUPO_GAD</name>\n"
    )
    for (_, codigo, nombre), grupo in groupby(lecturas, key=lambda f: (f[0], f[1], f[2])):
        puntos = (f for f in grupo if not f[10])
        tramo = list(islice(puntos, KML_TRAMO))
        if not tramo:
            continue
        yield f"<Placemark><name>{escape(f'{codigo} · {nombre}')}</name><gx:MultiTrack>\n"
        while tramo:
            yield "<gx:Track>" + "".join(f"<when>{_utc(f[5])}</when>" for f in tramo) + "\n"
            yield "".join(f"<gx:coord>{f[3]:.7f} {f[4]:.7f} 0</gx:coord>\n" for f in tramo) + "</gx:Track>\n"
            siguiente = list(islice(puntos, KML_TRAMO - 1))
            tramo = [tramo[-1], *siguiente] if siguiente else []
        yield "</gx:MultiTrack></Placemark>\n"
    yield "</Document></kml>\n"


def recorrido_geojson(lecturas: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """GeoJSON: one Point feature per reading, with who, when (agency's zone) and its quality."""
    yield '{"type": "FeatureCollection", "features": [\n'
    primera = True
    for f in lecturas:
        props = {
            "efectivo_id": f[0],
            "codigo": f[1],
            "nombre": f[2],
            "registrada_en": _hora(f[5]),
            "precision_m": f[6],
            "velocidad_kmh": f[7],
            "rumbo": f[8],
            "fuente": f[9],
            "implausible": f[10],
            "registrada_por": f[11],
        }
        feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [f[3], f[4]]}, "properties": props}
        yield ("" if primera else ",\n") + json.dumps(feature, ensure_ascii=False)
        primera = False
    yield "\n]}\n"


# A text cell a spreadsheet would run as a formula (a task title "=HYPERLINK(...)", a geocerca
# named "+cmd|..."): written with a leading apostrophe, which spreadsheets show as plain text.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def celda_segura(valor: Any) -> Any:
    if isinstance(valor, datetime):
        return _hora(valor)
    if isinstance(valor, str) and valor.startswith(_FORMULA):
        return "'" + valor
    return valor


def csv_filas(encabezado: Iterable[str], datos: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV (RFC 4180, UTF-8 with BOM so spreadsheets read the accents), one line per row; text
    that a spreadsheet would take for a formula is neutralised (celda_segura)."""
    buffer = io.StringIO()
    escritor = csv.writer(buffer, lineterminator="\r\n")

    def linea(valores: Iterable[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        escritor.writerow(celda_segura(v) for v in valores)
        return buffer.getvalue()

    yield "\ufeff" + linea(encabezado)
    for fila in datos:
        yield linea(fila)


def recorrido_csv(lecturas: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    return csv_filas(CAMPOS_RECORRIDO, lecturas)


RECORRIDO: dict[str, Callable[[Iterable[tuple[Any, ...]]], Iterator[str]]] = {
    "gpx": recorrido_gpx,
    "kml": recorrido_kml,
    "geojson": recorrido_geojson,
    "csv": recorrido_csv,
}


def geojson_features(features: Iterable[dict[str, Any]]) -> Iterator[str]:
    yield '{"type": "FeatureCollection", "features": [\n'
    primera = True
    for feature in features:
        yield ("" if primera else ",\n") + json.dumps(feature, ensure_ascii=False, default=json_defecto)
        primera = False
    yield "\n]}\n"


def json_defecto(v: Any) -> Any:
    if isinstance(v, datetime):
        return _hora(v)
    raise TypeError(type(v).__name__)
