"""The base map's own data: Natural Earth land polygons, drawn under every other layer."""

from __future__ import annotations

from django.contrib.gis.db import models


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
