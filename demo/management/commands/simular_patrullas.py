"""Moves the efectivos realistically through the real ingest service, so a demo system lives like a
shift: most walk (4-6 km/h), some drive (25-45 km/h), each within a beat of a few hundred metres
around where they started; now and then one is sent to a geofence (about VIAJES_POR_HORA per unidad
an hour), so alerts come a few an hour per unidad, not every minute. Each tick is one batch through
posiciones_registrar.

In its first minutes it also plays a scripted scene that shows every kind of alert once (see
Escena): an entry into a restricted zone, an exit from a perimeter, a dwell, a crossing between
two sparse fixes, an implausible GPS jump, an efectivo who goes silent and an SOS."""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.contrib.gis.geos import Point
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from efectivos.models import Efectivo, EstadoEfectivo, FuentePosicion, Usuario
from gad_project.exceptions import ErrorDominio
from geocercas.models import Geocerca
from posiciones.services import LecturaNueva, posiciones_registrar

M_LAT = 111_320.0
VIAJES_POR_HORA = 2  # per unidad: efectivos sent to a geofence
RONDA_M = 300  # a beat's radius


@dataclass
class Movil:
    efectivo_id: int
    lon: float
    lat: float
    rumbo: float  # degrees, 0 = north
    velocidad_kmh: float
    limites: tuple[float, float, float, float]
    destino: tuple[float, float] | None = None
    # Scripted: waypoints to follow (then stop there), report every `cada` ticks, or not at all.
    ruta: list[tuple[float, float]] = field(default_factory=list)
    cada: int = 1
    escaso: bool = False  # past its first waypoint, its phone reports every 20 ticks
    fase: int = 0
    callado: bool = False
    quieto: bool = False


def desplazado(lon: float, lat: float, este_m: float = 0.0, norte_m: float = 0.0) -> tuple[float, float]:
    return lon + este_m / (M_LAT * math.cos(math.radians(lat))), lat + norte_m / M_LAT


class Escena:
    """The scripted first minutes: (tick, action) pairs run once, on efectivos chosen near each
    place, so that a newcomer sees every kind of alert without waiting for chance."""

    def __init__(self, moviles: list[Movil], intervalo: float, stdout, *, reloj: Callable[[], datetime]) -> None:
        self.moviles, self.intervalo, self.stdout, self.reloj = moviles, intervalo, stdout, reloj
        self.usados: set[int] = set()
        cercas = {g.nombre: g for g in Geocerca.objects.filter(activa=True)}
        self.pasos: list[tuple[int, str, Any]] = []

        def en(segundos: float, que: str, accion) -> None:
            self.pasos.append((max(1, round(segundos / intervalo)), que, accion))

        def centro(nombre: str) -> tuple[float, float] | None:
            g = cercas.get(nombre)
            return (g.geom.centroid.x, g.geom.centroid.y) if g is not None else None

        if c := centro("Casa Rosada"):
            en(5, "entrada a zona restringida", partial(self._ir, c, cerca_de=c, velocidad=35))
        if c := centro("Perímetro Puerto Madero"):
            en(5, "salida de perímetro", partial(self._salir, cercas["Perímetro Puerto Madero"], c))
        if c := centro("Plaza de Mayo"):
            en(10, "permanencia", partial(self._ir, c, cerca_de=c, velocidad=25, quedarse=True))
        if c := centro("Zona de exclusión Costanera Sur"):
            en(15, "cruce entre lecturas", partial(self._cruzar, c))
        en(45, "salto de GPS implausible", self._saltar)
        en(60, "efectivo sin reporte", self._callar)
        en(120, "SOS", self._sos)

    def tick(self, n: int) -> list[LecturaNueva]:
        extra: list[LecturaNueva] = []
        for _, que, accion in [p for p in self.pasos if p[0] == n]:
            self.stdout.write(f"Escena: {que}")
            resultado = accion()
            if isinstance(resultado, LecturaNueva):
                extra.append(resultado)
        return extra

    def _elegir(self, cerca_de: tuple[float, float], *, unidades: set[int] | None = None) -> Movil | None:
        libres = [m for m in self.moviles if m.efectivo_id not in self.usados and not m.ruta and not m.callado]
        if unidades is not None:
            unidad_de = dict(
                Efectivo.objects.filter(pk__in=[m.efectivo_id for m in libres]).values_list("pk", "unidad_id")
            )
            libres = [m for m in libres if unidad_de.get(m.efectivo_id) in unidades]
        if not libres:
            return None
        m = min(libres, key=lambda m: math.hypot(m.lon - cerca_de[0], m.lat - cerca_de[1]))
        self.usados.add(m.efectivo_id)
        dx = (cerca_de[0] - m.lon) * M_LAT * math.cos(math.radians(m.lat))
        self.stdout.write(f"  efectivo {m.efectivo_id}, a {math.hypot(dx, (cerca_de[1] - m.lat) * M_LAT):.0f} m")
        return m

    def _ir(
        self, destino: tuple[float, float], *, cerca_de: tuple[float, float], velocidad: float, quedarse: bool = False
    ) -> None:
        if m := self._elegir(cerca_de):
            m.ruta, m.velocidad_kmh, m.quieto = [destino], velocidad, quedarse

    def _salir(self, geocerca: Geocerca, centro: tuple[float, float]) -> None:
        unidades = set(geocerca.unidades.values_list("pk", flat=True)) or None
        if m := self._elegir(centro, unidades=unidades):
            afuera = desplazado(*centro, este_m=-1500)
            m.ruta, m.velocidad_kmh = [centro, afuera], 40

    def _cruzar(self, centro: tuple[float, float]) -> None:
        # A car whose phone reports every 30 s drives straight across the 250 m strip at 45 km/h:
        # one fix 185 m west of its axis, the next 190 m east, none inside. The strip is 1.6 km long,
        # so nothing that short could have gone around it: a crossing (a block would not be).
        oeste, este = desplazado(*centro, este_m=-185), desplazado(*centro, este_m=1000)
        if m := self._elegir(oeste):
            m.ruta, m.velocidad_kmh, m.escaso = [oeste, este], 45, True

    def _saltar(self) -> LecturaNueva | None:
        m = self._elegir((self.moviles[0].lon, self.moviles[0].lat)) if self.moviles else None
        if m is None:
            return None
        lon, lat = desplazado(m.lon, m.lat, este_m=5000)
        return LecturaNueva(uuid.uuid4(), m.efectivo_id, lat, lon, self.reloj(), 8.0)

    def _callar(self) -> None:
        if self.moviles and (m := self._elegir((self.moviles[-1].lon, self.moviles[-1].lat))):
            m.callado = True

    def _sos(self) -> None:
        from seguridad.services import sos_activar

        usuario = Usuario.objects.filter(username="efectivo", efectivo__isnull=False).first()
        if usuario is None:
            return
        movil = next((m for m in self.moviles if m.efectivo_id == usuario.efectivo.pk), None)
        if movil is not None:
            self.usados.add(movil.efectivo_id)
            movil.quieto = True
        try:
            sos_activar(usuario=usuario)
        except ErrorDominio as exc:  # e.g. the efectivo is off duty in this database
            self.stdout.write(f"Escena: SOS no activado ({exc.mensaje})")


class Telefonos:
    """The demo phones (demo.datos.EQUIPOS): their efectivos' readings go over HTTP, byte for byte
    as Traccar Client 10 (a form) and OwnTracks (JSON with Basic auth) send them, through the same
    proxy as everything else; their batteries drain slowly."""

    def __init__(self, url: str) -> None:
        import httpx

        from demo.datos import EQUIPOS

        self.url = url.rstrip("/")
        self.cliente = httpx.Client(timeout=10)
        codigos = {codigo: (tipo, secreto, usuario or "") for codigo, tipo, secreto, usuario, _ in EQUIPOS}
        self.baterias = {codigo: bateria for codigo, _, _, _, bateria in EQUIPOS}
        self.equipos: dict[int, tuple[str, str, str, str]] = {
            pk: (*codigos[codigo], codigo)
            for pk, codigo in Efectivo.objects.filter(codigo_interno__in=codigos).values_list("pk", "codigo_interno")
        }

    def enviar(self, lecturas: list[LecturaNueva]) -> list[LecturaNueva]:
        """Sends the phones' readings; returns the others (for the service)."""
        import httpx

        resto = []
        for lec in lecturas:
            equipo = self.equipos.get(lec.efectivo_id)
            if equipo is None:
                resto.append(lec)
                continue
            tipo, secreto, usuario, codigo = equipo
            bateria = self.baterias[codigo] = max(5.0, self.baterias[codigo] - 0.02)
            try:
                if tipo == "traccar":
                    forma = {
                        "id": secreto,
                        "lat": f"{lec.lat:.6f}",
                        "lon": f"{lec.lon:.6f}",
                        "timestamp": str(int(lec.registrada_en.timestamp())),
                        "accuracy": f"{lec.precision_m or 8:.1f}",
                        "speed": f"{(lec.velocidad_kmh or 0) / 1.852:.2f}",
                        "bearing": f"{lec.rumbo or 0:.1f}",
                        "batt": f"{bateria:.1f}",
                        "charge": "false",
                    }
                    self.cliente.post(f"{self.url}/ingreso/osmand/", data=forma)
                else:
                    mensaje = {
                        "_type": "location",
                        "lat": lec.lat,
                        "lon": lec.lon,
                        "tst": int(lec.registrada_en.timestamp()),
                        "acc": round(lec.precision_m or 8),
                        "vel": round(lec.velocidad_kmh or 0),
                        "cog": round(lec.rumbo or 0),
                        "batt": round(bateria),
                        "bs": 1,
                        "tid": "GA",
                    }
                    self.cliente.post(f"{self.url}/ingreso/owntracks/", json=mensaje, auth=(usuario, secreto))
            except httpx.HTTPError:
                pass  # as a phone would: the next fix goes out at the next tick
        return resto


class Command(BaseCommand):
    help = "Simula patrullas: mueve a los efectivos de demostración a través del servicio de ingesta."

    def add_arguments(self, parser):
        parser.add_argument("--intervalo", type=float, default=3.0, help="Segundos entre lecturas (defecto 3).")
        parser.add_argument("--iteraciones", type=int, default=0, help="0 = sin fin.")
        parser.add_argument("--limite", type=int, default=0, help="Máximo de efectivos a mover (0 = todos).")
        parser.add_argument("--semilla", type=int, default=None)
        parser.add_argument(
            "--rapido", action="store_true", help="Sin esperas: la hora del equipo avanza un intervalo por paso."
        )
        parser.add_argument(
            "--url",
            default="",
            help="Dirección del servidor (p. ej. http://127.0.0.1:8000): los teléfonos de demostración "
            "informan por HTTP como Traccar Client y OwnTracks; sin ella, todo va directo al servicio.",
        )

    def handle(
        self,
        *args,
        intervalo: float,
        iteraciones: int,
        limite: int,
        semilla: int | None,
        rapido: bool,
        url: str = "",
        **options,
    ):
        rnd = random.Random(semilla)
        telefonos = Telefonos(url) if url else None
        moviles = self._moviles(rnd, limite)
        cercas = list(Geocerca.objects.filter(activa=True).only("geom"))
        objetivos = [(g.geom.centroid.x, g.geom.centroid.y) for g in cercas]
        # Fence edges, 40 m out and 40 m in (beyond any hysteresis), for patrols to turn at.
        self.bordes = [g.geom.buffer(d / M_LAT).prepared for g in cercas for d in (40, -40)]
        unidades = max(1, len({m.limites for m in moviles}))
        # Per efectivo and tick, so that each unidad sends about VIAJES_POR_HORA a hour.
        self.p_viaje = VIAJES_POR_HORA * unidades / max(1, len(moviles)) / (3600 / intervalo)
        comienzo = timezone.now()
        escena = Escena(
            moviles,
            intervalo,
            self.stdout,
            reloj=lambda: comienzo + timedelta(seconds=n * intervalo) if rapido else timezone.now(),
        )
        self.stdout.write(f"Simulando {len(moviles)} efectivos cada {intervalo:g} s (Ctrl-C para terminar).")
        n = 0
        while not iteraciones or n < iteraciones:
            n += 1
            inicio = time.monotonic()
            ahora = timezone.now() if not rapido else comienzo + timedelta(seconds=n * intervalo)
            lecturas = [lec for m in moviles if (lec := self._avanzar(m, intervalo, ahora, rnd, objetivos, n))]
            lecturas += escena.tick(n)
            close_old_connections()
            if telefonos is not None:
                lecturas = telefonos.enviar(lecturas)
            for i in range(0, len(lecturas), 500):
                resultado = posiciones_registrar(lecturas=lecturas[i : i + 500], fuente=FuentePosicion.SIMULADOR)
                if resultado.alertas:
                    self.stdout.write(f"{len(resultado.alertas)} alerta(s) de geocerca")
            if not rapido:
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
            # A beat around where they are (cut to the unidad's area): patrols keep to their zone.
            x, y = e.ultima_posicion.x, e.ultima_posicion.y
            dx, dy = RONDA_M / (M_LAT * math.cos(math.radians(y))), RONDA_M / M_LAT
            limites = (x - dx, y - dy, x + dx, y + dy)
            if e.unidad.jurisdiccion:
                x0, y0, x1, y1 = e.unidad.jurisdiccion.extent
                limites = (max(limites[0], x0), max(limites[1], y0), min(limites[2], x1), min(limites[3], y1))
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

    def _avanzar(self, m: Movil, dt: float, ahora, rnd: random.Random, objetivos, n: int) -> LecturaNueva | None:
        if m.callado:
            return None
        if m.ruta:
            return self._seguir_ruta(m, dt, ahora, n)
        if m.quieto:
            return self._lectura(m, ahora, rnd)
        if m.velocidad_kmh and m.destino is None and objetivos and rnd.random() < self.p_viaje:
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
        antes = (m.lon, m.lat)
        m.lat += paso * math.cos(math.radians(m.rumbo)) / M_LAT
        m.lon += paso * math.sin(math.radians(m.rumbo)) / (M_LAT * math.cos(math.radians(m.lat)))
        if m.destino is None and self._cruza_un_borde(antes, (m.lon, m.lat)):
            # A patrol on its beat turns back at a fence's edge: only those sent somewhere cross.
            m.lon, m.lat = antes
            m.rumbo = (m.rumbo + 180) % 360
        x0, y0, x1, y1 = m.limites
        if m.destino is None and not (x0 <= m.lon <= x1 and y0 <= m.lat <= y1):
            m.rumbo = math.degrees(math.atan2((x0 + x1) / 2 - m.lon, (y0 + y1) / 2 - m.lat)) % 360
        return self._lectura(m, ahora, rnd)

    def _cruza_un_borde(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        pa, pb = Point(*a, srid=4326), Point(*b, srid=4326)
        return any(borde.contains(pa) != borde.contains(pb) for borde in self.bordes)

    def _seguir_ruta(self, m: Movil, dt: float, ahora, n: int) -> LecturaNueva | None:
        objetivo = m.ruta[0]
        dx = (objetivo[0] - m.lon) * M_LAT * math.cos(math.radians(m.lat))
        dy = (objetivo[1] - m.lat) * M_LAT
        distancia, paso = math.hypot(dx, dy), m.velocidad_kmh / 3.6 * dt
        if distancia <= paso:
            m.lon, m.lat = objetivo
            m.ruta.pop(0)
            if m.ruta and m.escaso:
                m.cada, m.fase, m.escaso = 20, n, False
            elif not m.ruta:
                m.cada, m.velocidad_kmh = 1, m.velocidad_kmh if not m.quieto else 0
                x, y = m.lon, m.lat
                d = RONDA_M / M_LAT
                m.limites = (x - d, y - d, x + d, y + d)  # a new beat where it arrived
        else:
            m.lon += dx / distancia * paso / (M_LAT * math.cos(math.radians(m.lat)))
            m.lat += dy / distancia * paso / M_LAT
            m.rumbo = math.degrees(math.atan2(dx, dy)) % 360
        if (n - m.fase) % m.cada:
            return None
        return self._lectura(m, ahora, random.Random(n))

    def _lectura(self, m: Movil, ahora, rnd: random.Random) -> LecturaNueva:
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
