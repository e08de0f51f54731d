"""`manage.py base_instalar ARCHIVO`: install the agency's OpenStreetMap extract (PMTiles v3 or
MBTiles, vector tiles in the Protomaps basemap schema) as the map's streets and labels."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gad_project.exceptions import EntradaInvalida
from mapa import services


class Command(BaseCommand):
    help = "Instala un extracto de OpenStreetMap (PMTiles o MBTiles) como mapa base con calles y nombres."

    def add_arguments(self, parser):
        parser.add_argument("archivo", type=Path)

    def handle(self, *args, archivo: Path, **options):
        try:
            info = services.osm_instalar(archivo)
        except EntradaInvalida as exc:
            raise CommandError(f"{exc.mensaje} {exc.detalle or ''}".strip()) from exc
        self.stdout.write(
            f"Mapa base instalado: zoom {info.minzoom}–{info.maxzoom}, límites {info.bounds}, "
            f"capas {', '.join(info.capas) or '(sin metadatos)'}, {info.bytes / 1e6:.1f} MB."
        )
