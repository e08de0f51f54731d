"""An area of a remote PMTiles archive (a public OpenStreetMap basemap build), fetched with HTTP
range requests, as `pmtiles extract` does: the header, the directories that address the area's
tiles, then only those tiles' bytes, in blocks that merge nearby ranges.

Resumable: each block is saved in a work directory beside the destination as it arrives, under
the archive's identity (its URL, size and ETag, and its header's bytes); a second run with the same
archive fetches only the blocks that are missing, and a changed archive starts over. Validated:
the header must be PMTiles v3 with vector tiles, every block must come back whole (206 with the
asked length), and the extract written is read back tile by tile before it is returned.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx
from pmtiles.tile import (
    Compression,
    SpecVersionUnsupported,
    TileType,
    deserialize_directory,
    deserialize_header,
    find_tile,
    zxy_to_tileid,
)
from pmtiles.writer import write

from gad_project.exceptions import EntradaInvalida
from mapa import tiles

# Ranges closer than this are fetched in one request (the bytes between are thrown away), and a
# request is at most BLOQUE_MAX bytes: few requests, little waste, bounded memory.
SOBRANTE_MAX = 256 * 1024
REINTENTOS = 3
BLOQUE_MAX = 8 * 1024 * 1024
CABECERA = 16384  # the header and, in an archive written to the spec, the root directory


@dataclass(frozen=True)
class Extracto:
    destino: Path
    teselas: int
    bloques: int
    descargados: int  # blocks fetched by this run (the others came from an earlier one)
    bytes_descargados: int
    zooms: tuple[int, int]


class _Remoto:
    """The remote archive, read by byte ranges."""

    def __init__(self, url: str, cliente: httpx.Client) -> None:
        self.url, self.cliente = url, cliente
        self.pedidos = 0

    def rango(self, inicio: int, largo: int, *, hasta_el_final: bool = False) -> tuple[bytes, httpx.Headers]:
        """`largo` bytes from `inicio` (with `hasta_el_final`, fewer if the archive ends first)."""
        r, error = None, ""
        for intento in range(REINTENTOS):
            self.pedidos += 1
            try:
                r = self.cliente.get(self.url, headers={"Range": f"bytes={inicio}-{inicio + largo - 1}"})
            except httpx.HTTPError as exc:
                error = str(exc) or type(exc).__name__
            else:
                if r.status_code < 500:
                    break
                error = f"el servidor respondió {r.status_code}"
            if intento + 1 < REINTENTOS:
                time.sleep(0.5 * 2**intento)  # a dropped link or a busy server: a moment, then again
        if r is None or r.status_code >= 500:
            raise EntradaInvalida(
                f"No se pudo leer {self.url} ({error}). Vuelva a correr el comando: sigue donde quedó.",
                codigo="descarga_fallida",
            )
        if r.status_code == 200:
            raise EntradaInvalida(
                "El servidor devolvió el archivo entero a un pedido de rango: hace falta uno que sirva "
                "rangos HTTP (como cualquier almacenamiento de objetos o un servidor web estático).",
                codigo="descarga_fallida",
            )
        if r.status_code != 206:
            raise EntradaInvalida(f"El servidor respondió {r.status_code} a {self.url}.", codigo="descarga_fallida")
        total = r.headers.get("content-range", "").rpartition("/")[2]
        if hasta_el_final and total.isdigit():
            largo = min(largo, int(total) - inicio)
        if len(r.content) != largo:
            raise EntradaInvalida(
                f"Bloque incompleto ({len(r.content)} de {largo} bytes en {inicio}). Vuelva a correr el comando.",
                codigo="descarga_fallida",
            )
        return r.content, r.headers


def extraer(
    url: str,
    *,
    bbox: tuple[float, float, float, float],
    destino: Path,
    zoom_max: int | None = None,
    cliente: httpx.Client | None = None,
    progreso: Callable[[str], None] = lambda _: None,
) -> Extracto:
    """Write to `destino` a PMTiles archive with the tiles of `url` that cover `bbox` (lon/lat),
    from its lowest zoom to `zoom_max` (default: its highest)."""
    propio = cliente is None
    cliente = cliente or httpx.Client(timeout=60, follow_redirects=True)
    try:
        return _extraer(_Remoto(url, cliente), bbox=bbox, destino=destino, zoom_max=zoom_max, progreso=progreso)
    finally:
        if propio:
            cliente.close()


def _extraer(remoto: _Remoto, *, bbox, destino: Path, zoom_max: int | None, progreso) -> Extracto:
    inicio, cabeceras = remoto.rango(0, CABECERA, hasta_el_final=True)
    if inicio[:7] != b"PMTiles":
        raise EntradaInvalida("La URL no es un archivo PMTiles.", codigo="archivo_invalido")
    try:
        h = deserialize_header(inicio[:127])
    except SpecVersionUnsupported as exc:
        raise EntradaInvalida("Sólo se leen archivos PMTiles versión 3.", codigo="archivo_invalido") from exc
    if h["tile_type"] != TileType.MVT:
        raise EntradaInvalida(
            "El archivo no contiene teselas vectoriales (MVT).",
            detalle={"tipo": h["tile_type"].name},
            codigo="archivo_invalido",
        )
    total = cabeceras.get("content-range", "").rpartition("/")[2]
    identidad = {
        "url": remoto.url,
        "tamano": total,
        "etag": cabeceras.get("etag", ""),
        "cabecera": hashlib.sha256(inicio[:127]).hexdigest(),
    }
    trabajo = destino.with_name(destino.name + ".parcial")
    plan = trabajo / "archivo.json"
    if trabajo.exists() and (not plan.exists() or json.loads(plan.read_text()) != identidad):
        progreso("El archivo remoto cambió desde la descarga anterior: se empieza de nuevo.")
        shutil.rmtree(trabajo)
    trabajo.mkdir(parents=True, exist_ok=True)
    plan.write_text(json.dumps(identidad))

    compresion = h["internal_compression"]

    def leer(desde: int, largo: int) -> bytes:
        if desde + largo <= len(inicio):
            return inicio[desde : desde + largo]
        return remoto.rango(desde, largo)[0]

    if compresion != Compression.GZIP:  # the pmtiles library reads gzip-compressed directories only
        raise EntradaInvalida(f"Compresión interna no soportada: {compresion.name}.", codigo="archivo_invalido")
    raiz = deserialize_directory(leer(h["root_offset"], h["root_length"]))
    metadatos = json.loads(gzip.decompress(leer(h["metadata_offset"], h["metadata_length"])) or b"{}")
    hojas: dict[int, list] = {}

    def entrada(tile_id: int):
        """The entry addressing `tile_id` (None: not in the archive), through leaf directories."""
        directorio = raiz
        for _ in range(4):  # the spec allows a depth of at most 3 below the root
            e = find_tile(directorio, tile_id)
            if e is None or e.run_length > 0:
                return e
            desde = h["leaf_directory_offset"] + e.offset
            if desde not in hojas:
                hojas[desde] = deserialize_directory(leer(desde, e.length))
            directorio = hojas[desde]
        return None

    z_min, z_max = h["min_zoom"], min(h["max_zoom"], zoom_max if zoom_max is not None else h["max_zoom"])
    if z_max < z_min:
        raise EntradaInvalida(
            f"El archivo va del zoom {z_min} al {h['max_zoom']}: nada hasta el zoom {zoom_max}.",
            codigo="archivo_invalido",
        )
    progreso(f"Archivo: zoom {z_min}–{h['max_zoom']}; se extrae {z_min}–{z_max} del área {bbox}.")
    ubicadas: list[tuple[int, int, int]] = []  # (tile_id, offset in the tile data, length)
    for z, x, y in tiles.tiles_de_zona(bbox=bbox, zooms=range(z_min, z_max + 1)):
        tile_id = zxy_to_tileid(z, x, y)
        if (e := entrada(tile_id)) is not None:
            ubicadas.append((tile_id, e.offset, e.length))
    if not ubicadas:
        raise EntradaInvalida("El archivo no tiene teselas en esa área.", detalle={"bbox": bbox}, codigo="area_vacia")
    progreso(f"{len(ubicadas)} teselas en el área ({len(hojas)} directorios hoja leídos).")

    bloques = list(_bloques((o, n) for _, o, n in ubicadas))
    a_bajar = [(o, n) for o, n in bloques if not _bloque_ruta(trabajo, o, n).exists()]
    total_bytes, hechos, bajados = sum(n for _, n in a_bajar), 0, 0
    if len(a_bajar) < len(bloques):
        progreso(f"Se retoma la descarga: {len(bloques) - len(a_bajar)} de {len(bloques)} bloques ya estaban.")
    for k, (o, n) in enumerate(a_bajar, 1):
        datos, _ = remoto.rango(h["tile_data_offset"] + o, n)
        ruta = _bloque_ruta(trabajo, o, n)
        temporal = ruta.with_suffix(".tmp")
        temporal.write_bytes(datos)
        temporal.replace(ruta)  # a block is there whole or not at all
        hechos, bajados = hechos + n, bajados + 1
        progreso(f"Bloque {k}/{len(a_bajar)} · {hechos / 1e6:.1f} de {total_bytes / 1e6:.1f} MB")

    # The extract: the area's tiles in tile-id order, each read from its block.
    ubicadas.sort()
    temporal_destino = destino.with_name(destino.name + ".tmp")
    with write(str(temporal_destino)) as w:
        for tile_id, o, n in ubicadas:
            w.write_tile(tile_id, _tesela(trabajo, bloques, o, n))
        w.finalize(
            {
                "tile_type": TileType.MVT,
                "tile_compression": h["tile_compression"],
                "min_lon_e7": int(max(bbox[0], h["min_lon_e7"] / 1e7) * 1e7),
                "min_lat_e7": int(max(bbox[1], h["min_lat_e7"] / 1e7) * 1e7),
                "max_lon_e7": int(min(bbox[2], h["max_lon_e7"] / 1e7) * 1e7),
                "max_lat_e7": int(min(bbox[3], h["max_lat_e7"] / 1e7) * 1e7),
                "center_zoom": min(max(z_min, 14), z_max),
                "center_lon_e7": int((bbox[0] + bbox[2]) / 2 * 1e7),
                "center_lat_e7": int((bbox[1] + bbox[3]) / 2 * 1e7),
            },
            metadatos,
        )
    _verificar(temporal_destino, trabajo, bloques, ubicadas)
    temporal_destino.replace(destino)
    shutil.rmtree(trabajo)
    return Extracto(destino, len(ubicadas), len(bloques), bajados, hechos, (z_min, z_max))


def _bloques(rangos: Iterable[tuple[int, int]]) -> Iterable[tuple[int, int]]:
    """Byte ranges (offset, length) merged into blocks: one request for ranges closer than
    SOBRANTE_MAX, no block longer than BLOQUE_MAX (unless a single tile is)."""
    actual: tuple[int, int] | None = None
    for o, n in sorted(set(rangos)):
        if actual is not None:
            a_o, a_n = actual
            fin = max(a_o + a_n, o + n)
            if o - (a_o + a_n) <= SOBRANTE_MAX and fin - a_o <= BLOQUE_MAX:
                actual = (a_o, fin - a_o)
                continue
            yield actual
        actual = (o, n)
    if actual is not None:
        yield actual


def _bloque_ruta(trabajo: Path, o: int, n: int) -> Path:
    return trabajo / f"{o:016d}-{n}.bin"


def _tesela(trabajo: Path, bloques: list[tuple[int, int]], o: int, n: int) -> bytes:
    from bisect import bisect_right

    b_o, b_n = bloques[bisect_right(bloques, (o, float("inf"))) - 1]
    with open(_bloque_ruta(trabajo, b_o, b_n), "rb") as f:
        f.seek(o - b_o)
        return f.read(n)


def _verificar(ruta: Path, trabajo: Path, bloques, ubicadas) -> None:
    """Read the extract back: every tile there, with the bytes fetched for it."""
    from pmtiles.reader import MmapSource, Reader
    from pmtiles.tile import tileid_to_zxy

    with open(ruta, "rb") as f:
        lector = Reader(MmapSource(f))
        for tile_id, o, n in ubicadas:
            if lector.get(*tileid_to_zxy(tile_id)) != _tesela(trabajo, bloques, o, n):
                raise EntradaInvalida("El extracto escrito no coincide con lo descargado.", codigo="archivo_invalido")
