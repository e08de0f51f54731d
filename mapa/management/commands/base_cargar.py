"""`manage.py base_cargar`: reload the Natural Earth land of the base map (a migration does it
once; run it again after upgrading the world-atlas package)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from mapa import services


class Command(BaseCommand):
    help = "Carga la tierra de Natural Earth (paquete world-atlas) como fondo del mapa."

    def handle(self, *args, **options):
        self.stdout.write(f"Tierra cargada: {services.base_cargar()} piezas.")
