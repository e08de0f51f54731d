"""Ground truth for the alerts: simulated shifts whose true paths are known, replayed through the
real ingest (posiciones.services.posiciones_registrar) with realistic GPS faults, and every alert
scored against the truth.

The world is a grid of 100 m blocks and 10 m streets in a local metric frame (equirectangular
about ORIGEN, far from the demo's city, so no demo fence applies). Its fences belong to the
scenario's own unidad: restricted blocks (1×1 and 2×2), control blocks, and a perimeter around
the patrol area. Officers walk the streets, step into blocks they were sent to (the real entries
and exits), drive around blocks, stand still, step outside the perimeter and come back.

Faults (per fix, seeded):
- urban-canyon drift: a slowly varying bias (AR(1)), larger in canyon stretches, plus white noise,
  with a stated accuracy that roughly tells the truth;
- accuracy that lies: 40–80 m off while claiming 4–8 m;
- multipath: single jumps of 300–2,000 m, and flapping (two fixes at the true place, two at one
  2 km away, 5 s apart, for a minute);
- phones off for 5–60 minutes; fixes every 1 s to every 5 min; one phone offline the whole shift
  that uploads everything at the end in batches of 100.

Scoring, per (efectivo, fence) and alert kind the fence raises:
- true transitions come from the dense true path (1 s): entering or leaving the fence's polygon;
- an alert is a true positive when it matches a true transition of its kind, each used once:
  the latest one up to 30 s after the alert (noise at the border) after which the officer stayed
  on the new side until 30 s before it (someone who steps just out of a block and is alerted when
  they walk away left once);
  anything else is a false alarm (precision);
- a true transition is observable when the officer had been beyond the margin on the old side
  since the last one (stepping 5 m out of a block and back is one stay) and a later fix, not a
  faulty one, taken while they are truly on the new side, reports a position beyond the margin
  there (that fix shows it); it must be alerted by the fix after that one (recall, "within one
  fix of the first fix that shows it");
- kilometres: the unidad report's figure against the true path's length, and against what a
  perfect system could know (the true path, but a straight line across a phone's silence).
"""

from __future__ import annotations

import math
import random
import time
import uuid
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import connection, transaction
from django.utils import timezone

from efectivos.models import Efectivo, EstadoEfectivo, Turno, Unidad
from geocercas.models import Geocerca, TipoAlerta, TipoGeocerca

ORIGEN = (-57.5500, -38.0000)  # lon, lat: away from the demo's fences
_M_LAT = 110_574.27
_M_LON = 111_319.49 * math.cos(math.radians(ORIGEN[1]))
CUADRA = 100.0  # block side (m)
CALLE = 10.0  # street width (m)
PASO = CUADRA + CALLE
HISTERESIS = 15.0


def a_lonlat(x: float, y: float) -> tuple[float, float]:
    return ORIGEN[0] + x / _M_LON, ORIGEN[1] + y / _M_LAT


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float

    def profundidad(self, x: float, y: float) -> float:
        """Signed distance to the border: positive inside."""
        dentro = min(x - self.x0, self.x1 - x, y - self.y0, self.y1 - y)
        if dentro >= 0:
            return dentro
        dx = max(self.x0 - x, 0.0, x - self.x1)
        dy = max(self.y0 - y, 0.0, y - self.y1)
        return -math.hypot(dx, dy)

    def centro(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    def geom(self) -> MultiPolygon:
        anillo = [
            a_lonlat(x, y)
            for x, y in (
                (self.x0, self.y0),
                (self.x1, self.y0),
                (self.x1, self.y1),
                (self.x0, self.y1),
                (self.x0, self.y0),
            )
        ]
        return MultiPolygon(Polygon(anillo, srid=4326), srid=4326)


def manzana(i: int, j: int, n: int = 1) -> Rect:
    """The block(s) whose south-west corner is street crossing (i, j), n blocks on a side."""
    x0, y0 = i * PASO + CALLE / 2, j * PASO + CALLE / 2
    lado = n * CUADRA + (n - 1) * CALLE
    return Rect(x0, y0, x0 + lado, y0 + lado)


@dataclass(frozen=True)
class Escenario:
    nombre: str
    efectivos: int
    duracion_s: int
    semilla: int = 1
    cuadras: int = 12  # the patrol area, blocks on a side
    flapeos: int = 2  # flapping episodes per officer with 5 s fixes
    enrafagado: bool = True  # one phone uploads the whole shift at the end


ESCENARIOS = {
    "chico": Escenario("chico", efectivos=8, duracion_s=40 * 60, semilla=7),
    "turno": Escenario("turno", efectivos=40, duracion_s=4 * 3600, semilla=11, cuadras=16, flapeos=4),
}


@dataclass
class Fix:
    t: float  # seconds from the start
    x: float  # reported position
    y: float
    precision: float
    xv: float  # true position
    yv: float
    falla: str = ""  # "", "miente", "salto", "flapeo"


@dataclass
class Oficial:
    camino: list[tuple[float, float]] = field(default_factory=list)  # true position each second
    fixes: list[Fix] = field(default_factory=list)
    enrafagado: bool = False
    efectivo_id: int = 0


# --- the world and the truth ------------------------------------------------------------------


def _cercas(esc: Escenario, rnd: random.Random) -> list[tuple[str, str, Rect]]:
    n = esc.cuadras
    cercas: list[tuple[str, str, Rect]] = []
    usadas: set[tuple[int, int]] = set()
    for k in range(max(4, n * n // 12)):
        lado = 2 if k % 4 == 0 else 1
        for _ in range(50):
            i, j = rnd.randrange(1, n - lado - 1), rnd.randrange(1, n - lado - 1)
            celdas = {(i + a, j + b) for a in range(-1, lado + 1) for b in range(-1, lado + 1)}
            if not celdas & usadas:
                usadas |= celdas
                tipo = TipoGeocerca.CONTROL if k % 3 == 2 else TipoGeocerca.RESTRINGIDA
                cercas.append((f"VT {tipo} {k}", tipo, manzana(i, j, lado)))
                break
    borde = n * PASO
    cercas.append(("VT perímetro", TipoGeocerca.PERIMETRO, Rect(-CALLE, -CALLE, borde + CALLE, borde + CALLE)))
    return cercas


def _caminar(rnd: random.Random, esc: Escenario, cercas: list[tuple[str, str, Rect]]) -> list[tuple[float, float]]:
    """One officer's true path, a position per second along streets, into blocks they are sent
    to, around others, standing still, and now and then out of the perimeter and back."""
    n = esc.cuadras
    auto = rnd.random() < 0.3
    v = rnd.uniform(6, 14) if auto else rnd.uniform(1.1, 1.6)
    x, y = rnd.randrange(n + 1) * PASO, rnd.randrange(n + 1) * PASO
    camino: list[tuple[float, float]] = []

    def ir(x1: float, y1: float) -> None:
        nonlocal x, y
        d = math.hypot(x1 - x, y1 - y)
        pasos = max(1, int(d / v))
        for k in range(1, pasos + 1):
            camino.append((x + (x1 - x) * k / pasos, y + (y1 - y) * k / pasos))
        x, y = x1, y1

    def quieto(segundos: int) -> None:
        camino.extend([(x, y)] * segundos)

    zonas = [r for _, tipo, r in cercas if tipo != TipoGeocerca.PERIMETRO]
    while len(camino) < esc.duracion_s:
        r = rnd.random()
        if not auto and r < 0.2 and zonas:  # sent into a block: along the street, in, and out
            z = rnd.choice(zonas)
            cx, cy = z.centro()
            ir(z.x0 - CALLE / 2, y)
            ir(x, cy)
            ir(cx, cy)
            quieto(rnd.randrange(30, 300))
            ir(z.x0 - CALLE / 2, cy)
        elif r < 0.3:
            quieto(rnd.randrange(60, 600))
        elif r < 0.35:  # out of the perimeter and back
            ir(x, -60.0)
            quieto(rnd.randrange(30, 240))
            ir(x, 0.0)
        else:  # along the streets to a random crossing: one leg east-west, one north-south
            x1, y1 = rnd.randrange(n + 1) * PASO, rnd.randrange(n + 1) * PASO
            if rnd.random() < 0.5:
                ir(x1, y)
                ir(x1, y1)
            else:
                ir(x, y1)
                ir(x1, y1)
    return camino[: esc.duracion_s]


def _fixes(rnd: random.Random, esc: Escenario, camino: list[tuple[float, float]]) -> list[Fix]:
    intervalo = rnd.choice([1, 5, 5, 10, 10, 30, 60, 300])
    apagado: list[tuple[int, int]] = []
    if rnd.random() < 0.4:
        inicio = rnd.randrange(0, max(1, esc.duracion_s - 300))
        apagado.append((inicio, inicio + rnd.randrange(300, 3600)))
    flapeos = [rnd.randrange(0, max(1, esc.duracion_s - 60)) for _ in range(esc.flapeos)] if intervalo == 5 else []
    sesgo = [0.0, 0.0]
    canon = False
    fixes: list[Fix] = []
    t = rnd.randrange(intervalo)
    while t < len(camino):
        if any(a <= t < b for a, b in apagado):
            t += intervalo
            continue
        xv, yv = camino[t]
        if rnd.random() < 0.02:
            canon = not canon
        sigma = 10.0 if canon else 3.0
        rho = math.exp(-intervalo / 120)
        for k in range(2):
            sesgo[k] = rho * sesgo[k] + rnd.gauss(0, sigma * math.sqrt(1 - rho * rho))
        ex, ey = sesgo[0] + rnd.gauss(0, 2.5), sesgo[1] + rnd.gauss(0, 2.5)
        precision = max(3.0, math.hypot(ex, ey) * rnd.uniform(0.9, 1.8), sigma)
        falla = ""
        flapeo = next((f for f in flapeos if f <= t < f + 60), None)
        if flapeo is not None:
            if ((t - flapeo) // 10) % 2 == 1:  # two fixes here, two 2 km away, 5 s apart
                ex, ey, precision, falla = ex + 2000.0, ey, 10.0, "flapeo"
        elif (r := rnd.random()) < 0.005:
            ang, d = rnd.uniform(0, 2 * math.pi), rnd.uniform(40, 80)
            ex, ey, precision, falla = d * math.cos(ang), d * math.sin(ang), rnd.uniform(4, 8), "miente"
        elif r < 0.008:
            ang, d = rnd.uniform(0, 2 * math.pi), rnd.uniform(300, 2000)
            ex, ey, precision, falla = d * math.cos(ang), d * math.sin(ang), rnd.uniform(10, 30), "salto"
        fixes.append(Fix(float(t), xv + ex, yv + ey, round(precision, 1), xv, yv, falla))
        t += intervalo
    return fixes


# --- the run ----------------------------------------------------------------------------------


@dataclass
class AlertaVista:
    efectivo_id: int
    geocerca_id: int
    tipo: str
    t_desde: float  # window of the transition's fix time (seconds from the start)
    t_hasta: float
    cruce: bool


def correr(esc: Escenario, *, confirmar: int = 2, conservar: bool = False) -> dict[str, Any]:
    """Build the scenario's world, its fences asking for `confirmar` readings in a row
    (Geocerca.confirmar_lecturas), replay it through the ingest, score it; delete what it made
    unless `conservar`."""
    from posiciones.services import LecturaNueva, posiciones_registrar
    from reportes.selectors import reporte_unidad

    rnd = random.Random(esc.semilla)
    cercas_def = _cercas(esc, rnd)
    marca = uuid.uuid4().hex[:6]
    # The shift ends a few minutes ago; a buffered phone's readings are as old as its shift.
    t0 = timezone.now() - timedelta(seconds=esc.duracion_s + 300)
    with transaction.atomic():
        unidad = Unidad.objects.create(codigo=f"VT{marca}", nombre=f"Verdad de terreno {esc.nombre} {marca}")
        cercas: list[tuple[Geocerca, Rect]] = []
        for nombre, tipo, rect in cercas_def:
            g = Geocerca.objects.create(
                nombre=f"{nombre} {marca}",
                tipo=tipo,
                geom=rect.geom(),
                histeresis_m=HISTERESIS,
                confirmar_lecturas=confirmar,
            )
            g.unidades.add(unidad)
            cercas.append((g, rect))
        oficiales: list[Oficial] = []
        for k in range(esc.efectivos):
            camino = _caminar(rnd, esc, cercas_def)
            of = Oficial(camino=camino, fixes=_fixes(rnd, esc, camino), enrafagado=esc.enrafagado and k == 0)
            of.efectivo_id = Efectivo.objects.create(
                unidad=unidad,
                codigo_interno=f"VT-{marca}-{k:03d}",
                dni=f"VT{marca}{k:03d}",
                nombre="Oficial",
                apellido=f"VT{k:03d}",
                estado=EstadoEfectivo.DISPONIBLE,
            ).pk
            # The simulated shift is a shift: on duty, so its readings are stored.
            Turno.objects.create(
                efectivo_id=of.efectivo_id,
                inicio=t0 - timedelta(minutes=5),
                fin=t0 + timedelta(seconds=esc.duracion_s + 300),
            )
            oficiales.append(of)

    def lectura(of: Oficial, f: Fix) -> LecturaNueva:
        lon, lat = a_lonlat(f.x, f.y)
        return LecturaNueva(uuid.uuid4(), of.efectivo_id, lat, lon, t0 + timedelta(seconds=f.t), f.precision)

    vistas: list[AlertaVista] = []
    repeticiones: dict[int, int] = {}
    lecturas_n = implausibles = 0
    inicio = time.perf_counter()

    def enviar(lote: list[tuple[Oficial, Fix]]) -> None:
        nonlocal lecturas_n, implausibles
        r = posiciones_registrar(lecturas=[lectura(of, f) for of, f in lote])
        lecturas_n += len(lote)
        implausibles += len(r.implausibles)
        desde = min(f.t for _, f in lote)
        for a in r.alertas:
            previas = repeticiones.get(a.id, 0)
            repeticiones[a.id] = a.repeticiones
            nuevas = a.repeticiones - previas
            t_ult = (a.ultima_en - t0).total_seconds()
            t_pri = (a.ocurrida_en - t0).total_seconds() if a.nueva else desde
            for k in range(nuevas):
                exacta = k == nuevas - 1 or (a.nueva and k == 0)
                t = t_ult if k == nuevas - 1 else t_pri
                vistas.append(
                    AlertaVista(
                        a.efectivo_id, a.geocerca_id, a.tipo, t if exacta else t_pri, t if exacta else t_ult, a.cruce
                    )
                )

    por_segundo: dict[int, list[tuple[Oficial, Fix]]] = defaultdict(list)
    for of in oficiales:
        if not of.enrafagado:
            for f in of.fixes:
                por_segundo[int(f.t)].append((of, f))
    for segundo in sorted(por_segundo):
        enviar(por_segundo[segundo])
    for of in oficiales:
        if of.enrafagado:
            for k in range(0, len(of.fixes), 100):
                enviar([(of, f) for f in of.fixes[k : k + 100]])
    duracion = time.perf_counter() - inicio

    resultado = _puntuar(oficiales, cercas, vistas)
    reporte = reporte_unidad(unidad_id=unidad.pk, desde=t0, hasta=t0 + timedelta(seconds=esc.duracion_s + 1))
    km_medidos = sum(d["km"] for d in reporte.distancias)
    km_reales = (
        sum(sum(math.dist(a, b) for a, b in zip(of.camino, of.camino[1:], strict=False)) for of in oficiales) / 1000
    )
    km_observables = sum(_km_observables(of) for of in oficiales)
    km_fijos = sum(_km_fijos(of) for of in oficiales)
    fallas: dict[str, int] = defaultdict(int)
    for of in oficiales:
        for f in of.fixes:
            fallas[f.falla or "buena"] += 1
    resultado.update(
        escenario=esc.nombre,
        confirmar_lecturas=confirmar,
        efectivos=esc.efectivos,
        horas_simuladas=round(esc.duracion_s * esc.efectivos / 3600, 1),
        geocercas=len(cercas),
        lecturas=lecturas_n,
        lecturas_por_falla=dict(fallas),
        implausibles=implausibles,
        km_reales=round(km_reales, 3),
        km_medidos=round(km_medidos, 3),
        km_error_pct=round(100 * (km_medidos - km_reales) / km_reales, 2) if km_reales else 0.0,
        km_observables=round(km_observables, 3),
        km_error_observables_pct=round(100 * (km_medidos - km_observables) / km_observables, 2)
        if km_observables
        else 0.0,
        km_fijos=round(km_fijos, 3),
        km_error_fijos_pct=round(100 * (km_medidos - km_fijos) / km_fijos, 2) if km_fijos else 0.0,
        ingesta_s=round(duracion, 2),
    )
    if not conservar:
        with transaction.atomic(), connection.cursor() as cursor:
            # The big tables in one statement each: the ORM's cascade would list every id.
            ids = list(Efectivo.objects.filter(unidad=unidad).values_list("pk", flat=True))
            cursor.execute("DELETE FROM geocercas_alerta WHERE efectivo_id = ANY(%s)", [ids])
            cursor.execute("DELETE FROM geocercas_presencia WHERE efectivo_id = ANY(%s)", [ids])
            cursor.execute("DELETE FROM efectivos_posicion WHERE efectivo_id = ANY(%s)", [ids])
            cursor.execute("DELETE FROM efectivos_turno WHERE efectivo_id = ANY(%s)", [ids])
            Efectivo.objects.filter(unidad=unidad).delete()
            Geocerca.objects.filter(pk__in=[g.pk for g, _ in cercas]).delete()
            unidad.delete()
    return resultado


def _puntuar(oficiales: list[Oficial], cercas: list[tuple[Geocerca, Rect]], vistas: list[AlertaVista]) -> dict:
    tipos_de: dict[str, tuple[str, ...]] = {
        TipoGeocerca.RESTRINGIDA: (TipoAlerta.ENTRADA,),
        TipoGeocerca.PERIMETRO: (TipoAlerta.SALIDA,),
        TipoGeocerca.CONTROL: (TipoAlerta.ENTRADA, TipoAlerta.SALIDA),
    }
    por_clave: dict[tuple[int, int, str], list[AlertaVista]] = defaultdict(list)
    ajenas = 0
    ids = {g.pk for g, _ in cercas}
    for v in vistas:
        if v.geocerca_id not in ids or v.tipo not in (TipoAlerta.ENTRADA, TipoAlerta.SALIDA):
            ajenas += 1
            continue
        por_clave[(v.efectivo_id, v.geocerca_id, v.tipo)].append(v)
    cuenta: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    falsas: list[dict[str, Any]] = []
    perdidas: list[dict[str, Any]] = []
    for of in oficiales:
        for g, rect in cercas:
            profundidades = [rect.profundidad(x, y) for x, y in of.camino]
            dentro = [p > 0 for p in profundidades]
            transiciones: dict[str, list[int]] = {
                TipoAlerta.ENTRADA: [t for t in range(1, len(dentro)) if dentro[t] and not dentro[t - 1]],
                TipoAlerta.SALIDA: [t for t in range(1, len(dentro)) if dentro[t - 1] and not dentro[t]],
            }
            for tipo in tipos_de[g.tipo]:
                reales = transiciones[tipo]
                alertas = sorted(por_clave.get((of.efectivo_id, g.pk, tipo), []), key=lambda v: v.t_hasta)
                usadas: set[int] = set()
                nuevo_lado = tipo == TipoAlerta.ENTRADA
                for v in alertas:
                    # The latest unused true transition of its kind up to 30 s after the alert,
                    # with the officer still on the new side until 30 s before it (an exit
                    # alerted when the officer, who stepped just out, finally walks away, is the
                    # same exit). None: the officer never did what the alert says.
                    hi = int(v.t_hasta) + 30
                    candidata = next(
                        (
                            i
                            for i in range(len(reales) - 1, -1, -1)
                            if i not in usadas
                            and reales[i] <= hi
                            and all(
                                dentro[x] == nuevo_lado for x in range(reales[i], max(reales[i], int(v.t_desde) - 30))
                            )
                        ),
                        None,
                    )
                    clase = "cruce" if v.cruce else tipo
                    if candidata is None:
                        cuenta[clase]["falsas"] += 1
                        falsas.append(
                            {
                                "efectivo": of.efectivo_id,
                                "geocerca": g.nombre,
                                "tipo": tipo,
                                "t": v.t_hasta,
                                "cruce": v.cruce,
                                # What the alert's fix was: a fault, or how deep its true position was.
                                "falla": _fix_en(of, v.t_hasta),
                            }
                        )
                        continue
                    usadas.add(candidata)
                    cuenta[clase]["verdaderas"] += 1
                for t in _observables(profundidades, tipo):
                    limite = _limite(of, rect, t, tipo, dentro)
                    if limite is None or (tipo == TipoAlerta.SALIDA and not _visto_adentro(of, rect, t, profundidades)):
                        cuenta[tipo]["no_observables"] += 1
                        continue
                    cuenta[tipo]["observables"] += 1
                    # Alerted by the fix after the first one that shows it (or up to a minute
                    # early: a fix in the noise at the border).
                    if any(t - 60 <= v.t_hasta <= limite for v in alertas):
                        cuenta[tipo]["a_tiempo"] += 1
                    else:
                        perdidas.append(
                            {
                                "efectivo": of.efectivo_id,
                                "geocerca": g.nombre,
                                "tipo": tipo,
                                "t": t,
                                "limite": limite,
                                "alertas": [v.t_hasta for v in alertas if v.t_hasta >= t - 60][:3],
                                # The fixes around it: time, true and reported depth, fault.
                                "fixes": [
                                    (
                                        f.t,
                                        round(rect.profundidad(f.xv, f.yv)),
                                        round(rect.profundidad(f.x, f.y)),
                                        f.precision,
                                        f.falla,
                                    )
                                    for f in of.fixes
                                    if t - 30 <= f.t <= limite + 120
                                ][:16],
                            }
                        )
    total: dict[str, int] = defaultdict(int)
    por_tipo: dict[str, dict[str, Any]] = {}
    for clase, c in sorted(cuenta.items()):
        for clave, n in c.items():
            total[clave] += n
        por_tipo[clase] = _cifras(c)
    return {
        "precision": _cifras(total)["precision"],
        "recall": _cifras(total)["recall"],
        "totales": dict(total),
        "por_tipo": por_tipo,
        "ajenas": ajenas,
        "falsas": falsas[:20],
        "perdidas": perdidas[:60],
    }


def _km_observables(of: Oficial) -> float:
    """What a perfect system could report: the true path between fixes, except across a silence
    (a phone off, more than 5 minutes without a fix), where only the straight line is known."""
    metros = 0.0
    for a, b in zip(of.fixes, of.fixes[1:], strict=False):
        ta, tb = int(a.t), int(b.t)
        if tb - ta > 300:
            metros += math.dist(of.camino[ta], of.camino[tb])
        else:
            metros += sum(math.dist(of.camino[t], of.camino[t + 1]) for t in range(ta, tb))
    return metros / 1000


def _km_fijos(of: Oficial) -> float:
    """What the fixes can show at best: straight lines between the true positions at the fixes'
    times (a perfect GPS sampled as the phone was). The difference from _km_observables is the
    corners cut between sparse fixes, which only matching the track to the streets could recover."""
    return sum(math.dist((a.xv, a.yv), (b.xv, b.yv)) for a, b in zip(of.fixes, of.fixes[1:], strict=False)) / 1000


def _observables(profundidades: list[float], tipo: str) -> list[int]:
    """The true transitions any engine could see: an entry after having been out by more than the
    margin since the last stay (stepping 5 m outside a block and back in is one stay), an exit
    after having been in by more than it."""
    signo = 1 if tipo == TipoAlerta.ENTRADA else -1
    armada = signo * profundidades[0] <= 0 if signo == 1 else profundidades[0] > HISTERESIS
    tiempos = []
    for t in range(1, len(profundidades)):
        p, antes = profundidades[t], profundidades[t - 1]
        if armada and (p > 0 >= antes if signo == 1 else p <= 0 < antes):
            tiempos.append(t)
            armada = False
        if (signo == 1 and p < -HISTERESIS) or (signo == -1 and p > HISTERESIS):
            armada = True
    return tiempos


def _limite(of: Oficial, rect: Rect, t: int, tipo: str, dentro: list[bool]) -> float | None:
    """The time of the fix after the first good fix that shows transition `t`: taken while the
    officer is truly on the new side, and reporting a position beyond the margin (max(hysteresis,
    its stated precision)) there, which is what a fix can show. None when no fix shows it."""
    entra = tipo == TipoAlerta.ENTRADA
    fin = t
    while fin < len(dentro) and dentro[fin] == entra:
        fin += 1
    tiempos = [f.t for f in of.fixes]
    k0, k1 = bisect_left(tiempos, t), bisect_right(tiempos, fin - 1)
    for k in range(k0, k1):
        f = of.fixes[k]
        profundidad = rect.profundidad(f.x, f.y)
        if not f.falla and (profundidad if entra else -profundidad) > max(HISTERESIS, f.precision):
            return of.fixes[k + 1].t if k + 1 < len(of.fixes) else f.t
    return None


def _visto_adentro(of: Oficial, rect: Rect, t: int, profundidades: list[float]) -> bool:
    """Whether some good fix showed the officer inside (beyond the margin) during the stay that
    exit `t` ends: no system can alert the exit from a stay spent with the phone off."""
    inicio = t - 1
    while inicio > 0 and profundidades[inicio - 1] > -HISTERESIS:
        inicio -= 1
    tiempos = [f.t for f in of.fixes]
    return any(
        not f.falla and rect.profundidad(f.x, f.y) > max(HISTERESIS, f.precision)
        for f in of.fixes[bisect_left(tiempos, inicio) : bisect_left(tiempos, t)]
    )


def _fix_en(of: Oficial, t: float) -> str:
    k = bisect_left([f.t for f in of.fixes], t)
    if k >= len(of.fixes):
        return "?"
    f = of.fixes[k]
    return f"{f.falla or 'buena'} error={math.hypot(f.x - f.xv, f.y - f.yv):.0f}m precision={f.precision}"


def _cifras(c: dict[str, int]) -> dict[str, Any]:
    verdaderas, falsas = c.get("verdaderas", 0), c.get("falsas", 0)
    observables, a_tiempo = c.get("observables", 0), c.get("a_tiempo", 0)
    return {
        "precision": round(verdaderas / (verdaderas + falsas), 4) if verdaderas + falsas else None,
        "recall": round(a_tiempo / observables, 4) if observables else None,
        **c,
    }
