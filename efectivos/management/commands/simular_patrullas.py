"""Moves the efectivos realistically through the real ingest service, so a demo system lives:
most walk (4-6 km/h), some drive (25-45 km/h); they wander inside their unidad's area, and a few
are sent towards a geofence so alerts happen. Each tick is one batch through posiciones_registrar."""

from __future__ import annotations

import math
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from efectivos.models import Efectivo, EstadoEfectivo, FuentePosicion
from efectivos.services import LecturaNueva, posiciones_registrar
from geocercas.models import Geocerca

M_LAT = 111_320.0


@dataclass
class Movil:
    efectivo_id: int
    lon: float
    lat: float
    rumbo: float  # degrees, 0 = north
    velocidad_kmh: float
    limites: tuple[float, float, float, float]
    destino: tuple[float, float] | None = None


class Command(BaseCommand):
    help = "Simula patrullas: mueve a los efectivos de demostración a través del servicio de ingesta."

    def add_arguments(self, parser):
        parser.add_argument("--intervalo", type=float, default=3.0, help="Segundos entre lecturas (defecto 3).")
        parser.add_argument("--iteraciones", type=int, default=0, help="0 = sin fin.")
        parser.add_argument("--limite", type=int, default=0, help="Máximo de efectivos a mover (0 = todos).")
        parser.add_argument("--semilla", type=int, default=None)

    def handle(self, *args, intervalo: float, iteraciones: int, limite: int, semilla: int | None, **options):
        rnd = random.Random(semilla)
        moviles = self._moviles(rnd, limite)
        objetivos = [(g.geom.centroid.x, g.geom.centroid.y) for g in Geocerca.objects.filter(activa=True).only("geom")]
        self.stdout.write(f"Simulando {len(moviles)} efectivos cada {intervalo:g} s (Ctrl-C para terminar).")
        n = 0
        while not iteraciones or n < iteraciones:
            n += 1
            inicio = time.monotonic()
            ahora = timezone.now()
            lecturas = [self._avanzar(m, intervalo, ahora, rnd, objetivos) for m in moviles]
            close_old_connections()
            for i in range(0, len(lecturas), 500):
                resultado = posiciones_registrar(lecturas=lecturas[i : i + 500], fuente=FuentePosicion.SIMULADOR)
                if resultado.alertas:
                    self.stdout.write(f"{len(resultado.alertas)} alerta(s) de geocerca")
            time.sleep(max(0.0, intervalo - (time.monotonic() - inicio)))

    def _moviles(self, rnd: random.Random, limite: int) -> list[Movil]:
        qs = (
            Efectivo.objects.exclude(estado=EstadoEfectivo.FUERA_SERVICIO)
            .filter(ultima_posicion__isnull=False)
            .select_related("unidad")
            .order_by("pk")
        )
        if limite:
            qs = qs[:limite]
        moviles = []
        for e in qs:
            assert e.ultima_posicion is not None  # filtered above
            limites = (
                e.unidad.jurisdiccion.extent
                if e.unidad.jurisdiccion
                else (
                    e.ultima_posicion.x - 0.02,
                    e.ultima_posicion.y - 0.02,
                    e.ultima_posicion.x + 0.02,
                    e.ultima_posicion.y + 0.02,
                )
            )
            en_auto = rnd.random() < 0.3
            moviles.append(
                Movil(
                    e.pk,
                    e.ultima_posicion.x,
                    e.ultima_posicion.y,
                    rnd.uniform(0, 360),
                    rnd.uniform(25, 45) if en_auto else rnd.uniform(4, 6),
                    limites,
                )
            )
        return moviles

    def _avanzar(self, m: Movil, dt: float, ahora, rnd: random.Random, objetivos) -> LecturaNueva:
        if m.velocidad_kmh and m.destino is None and objetivos and rnd.random() < 0.002:
            m.destino = rnd.choice(objetivos)
        if m.destino is not None:
            dx = (m.destino[0] - m.lon) * M_LAT * math.cos(math.radians(m.lat))
            dy = (m.destino[1] - m.lat) * M_LAT
            if math.hypot(dx, dy) < 30:
                m.destino = None  # arrived: wander again (and probably walk out)
            else:
                m.rumbo = math.degrees(math.atan2(dx, dy)) % 360
        else:
            m.rumbo = (m.rumbo + rnd.gauss(0, 20)) % 360
        paso = m.velocidad_kmh / 3.6 * dt
        m.lat += paso * math.cos(math.radians(m.rumbo)) / M_LAT
        m.lon += paso * math.sin(math.radians(m.rumbo)) / (M_LAT * math.cos(math.radians(m.lat)))
        x0, y0, x1, y1 = m.limites
        margen = 0.003  # ~300 m: lets some cross their unidad's perimeters
        if not (x0 - margen <= m.lon <= x1 + margen and y0 - margen <= m.lat <= y1 + margen):
            m.rumbo = math.degrees(math.atan2((x0 + x1) / 2 - m.lon, (y0 + y1) / 2 - m.lat)) % 360
        return LecturaNueva(
            id_cliente=uuid.uuid4(),
            efectivo_id=m.efectivo_id,
            lat=m.lat,
            lon=m.lon,
            registrada_en=ahora - timedelta(milliseconds=rnd.randint(0, 800)),
            precision_m=max(3.0, rnd.gauss(8, 3)),
            velocidad_kmh=m.velocidad_kmh,
            rumbo=m.rumbo,
        )
