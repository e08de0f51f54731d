"""The base map's own data: Natural Earth land polygons, drawn under every other layer."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex, OpClass


class Tierra(models.Model):
    """One piece of land, in Web Mercator (the tiles' own SRID, so a tile query transforms
    nothing). Cut with ST_Subdivide into pieces of a few hundred vertices: a tile's GiST lookup
    then touches only the pieces near it, never a whole continent.

    Unmanaged (the migration creates the table and loads it): it is reference data, and Django's
    test flush between transactional tests skips unmanaged tables, so the land stays loaded."""

    geom = models.PolygonField(srid=3857)

    class Meta:
        managed = False
        db_table = "mapa_tierra"
        verbose_name = "tierra"
        verbose_name_plural = "tierra"

    def __str__(self) -> str:
        return f"Tierra {self.pk}"


class TipoLugar(models.TextChoices):
    CALLE = "calle", "Calle"
    LUGAR = "lugar", "Lugar"  # a neighbourhood, a locality
    AREA = "area", "Área"  # a park, a square, water: named polygons
    PUNTO = "punto", "Punto de interés"


class Lugar(models.Model):
    """A named street, place, area or point of interest of the installed OpenStreetMap extract
    (mapa.lugares), for the map's search and for naming where something happened. A street is one
    row per name, all its pieces together. Rebuilt whenever an extract is installed."""

    nombre = models.CharField(max_length=200)
    # lower(unaccent(nombre)), written with the row: what the search compares (trigram index).
    normalizado = models.CharField(max_length=200, editable=False)
    tipo = models.CharField(max_length=8, choices=TipoLugar.choices)
    geom = models.GeometryField(srid=4326)

    class Meta:
        verbose_name = "lugar"
        verbose_name_plural = "lugares"
        indexes = [
            GinIndex(OpClass("normalizado", name="gin_trgm_ops"), name="lugar_normalizado_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.nombre} ({self.get_tipo_display()})"
