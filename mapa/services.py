"""Writes behind the map: the density view and the tile caches."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from efectivos.models import Unidad
from mapa import base, metrics, selectors, tiles

logger = logging.getLogger(__name__)


def densidad_refrescar() -> int:
    """Recompute the density view (CONCURRENTLY: tiles keep reading the old rows meanwhile), move
    the `densidad` layer to a new version, and warm its tiles. Returns the tiles built."""
    inicio = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY mapa_densidad")
    metrics.DENSIDAD_REFRESCO.observe(time.perf_counter() - inicio)
    tiles.capa_invalidar("densidad")
    return tiles_calentar(capa="densidad")


def base_cargar() -> int:
    """Load the Natural Earth land and move the `base` layer to a new version."""
    piezas = base.tierra_cargar()
    capa_cambiada(capa="base")
    return piezas


def osm_instalar(origen: Path) -> base.InfoArchivo:
    """Install an OpenStreetMap archive and move the `osm` layer to a new version."""
    info = base.osm_instalar(origen)
    capa_cambiada(capa="osm")
    from mapa import lugares

    lugares.indexar()  # its streets and places, for the search and for naming where things happen
    return info


def capa_cambiada(*, capa: str) -> None:
    """A layer's data changed (call after commit): new version now, warm tiles in the background."""
    from mapa.tasks import tiles_calentar as tarea

    try:
        tiles.capa_invalidar(capa)
        tarea.delay(capa)
    except Exception:  # the change is committed; a cache outage must not turn it into an error
        logger.exception("could not move tile layer %s to a new version", capa)


def tiles_calentar(*, capa: str) -> int:
    """Build the operating area's tiles of a layer for every scope a commander or admin can have,
    so the first map of the shift opens from the cache."""
    alcances = [tiles.AlcanceTeselas("todo", None)]
    if capa not in tiles.CAPAS_COMUNES:
        alcances += [
            tiles.AlcanceTeselas(f"u{pk}", pk) for pk in Unidad.objects.order_by("pk").values_list("pk", flat=True)
        ]
    desde, hasta = settings.TILES_CALENTAR_ZOOM
    return tiles.tiles_calentar(
        capa=capa, alcances=alcances, bbox=selectors.zona_operativa(), zooms=range(desde, hasta + 1)
    )
