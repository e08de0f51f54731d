"""The geofence engine: a function of (readings, fences, presence state) that returns transitions.

Two halves:
- `candidatos_evaluar` is the set-based part: ONE index-assisted query over all active fences
  that, for every reading, returns the fences near enough to matter (inside, or within the
  hysteresis margin of the border) with the signed distance to the border in metres.
- `transiciones_calcular` is pure: it walks each efectivo's readings in device-time order through
  a Schmitt trigger per fence. A fence absent from a reading's candidates is "clearly outside".

Hysteresis: an efectivo enters when inside by at least max(histeresis_m, precision_m) and exits
when outside by at least that; in between the last state holds, so GPS jitter never flaps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection

from geocercas.models import TipoAlerta, TipoGeocerca

# Metres in one degree of latitude, lower bound (at the equator): converting metres to degrees
# with it over-estimates, which keeps the index prefilter conservative.
_M_POR_GRADO = 110_574.0


@dataclass(frozen=True)
class LecturaEval:
    """One reading to evaluate (already stored)."""

    idx: int
    efectivo_id: int
    unidad_id: int
    lon: float
    lat: float
    registrada_en: datetime
    precision_m: float | None
    posicion_id: int | None = None


@dataclass(frozen=True)
class Cerca:
    id: int
    nombre: str
    tipo: str
    severidad: str
    histeresis_m: float
    permanencia_min_s: int | None

    @property
    def alerta_al_entrar(self) -> bool:
        return self.tipo in (TipoGeocerca.RESTRINGIDA, TipoGeocerca.CONTROL)

    @property
    def alerta_al_salir(self) -> bool:
        return self.tipo in (TipoGeocerca.PERIMETRO, TipoGeocerca.CONTROL)


@dataclass
class EstadoPresencia:
    dentro: bool
    desde: datetime
    permanencia_alertada: bool = False
    cambiado: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Transicion:
    tipo: str  # TipoAlerta
    efectivo_id: int
    geocerca_id: int
    lectura: LecturaEval | None
    ocurrida_en: datetime
    alerta: bool  # whether this fence type alerts on this transition


@dataclass(frozen=True)
class Muestra:
    """A fence near a reading: whether the point is inside and its distance to the border."""

    adentro: bool
    distancia_borde_m: float


_SQL_CANDIDATOS = """
WITH l AS (
    SELECT t.idx, t.unidad_id, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) AS pt,
           GREATEST(t.precision_m, 0) AS precision_m
    FROM unnest(%(idx)s::int[], %(unidad)s::bigint[], %(lon)s::float8[], %(lat)s::float8[],
                %(precision)s::float8[]) AS t(idx, unidad_id, lon, lat, precision_m)
)
SELECT l.idx, g.id, g.nombre, g.tipo, g.severidad, g.histeresis_m, g.permanencia_min_s,
       ST_Intersects(g.geom, l.pt) AS adentro,
       CASE WHEN ST_Intersects(g.geom, l.pt)
            THEN ST_Distance(ST_Boundary(g.geom)::geography, l.pt::geography)
            ELSE ST_Distance(g.geom::geography, l.pt::geography) END AS distancia_m
FROM l
JOIN geocercas_geocerca g
  ON g.activa
 -- GiST prefilter with one conservative bound for the whole batch: the widest margin any pair
 -- can have (largest active hysteresis or reading imprecision), in degrees at the batch's
 -- highest latitude. The exact per-pair margin is applied afterwards, in metres.
 AND ST_DWithin(g.geom, l.pt,
        (GREATEST((SELECT MAX(histeresis_m) FROM geocercas_geocerca WHERE activa), %(precision_max)s) + 1.0)
        / (%(m_por_grado)s * GREATEST(cos(radians(%(lat_max)s)), 0.01)))
WHERE NOT EXISTS (SELECT 1 FROM geocercas_geocerca_unidades gu WHERE gu.geocerca_id = g.id)
   OR EXISTS (SELECT 1 FROM geocercas_geocerca_unidades gu
              WHERE gu.geocerca_id = g.id AND gu.unidad_id = l.unidad_id)
"""


def candidatos_evaluar(
    lecturas: Sequence[LecturaEval],
) -> tuple[dict[int, dict[int, Muestra]], dict[int, Cerca]]:
    """For each reading idx, the fences within reach ({geocerca_id: Muestra}), and those fences."""
    if not lecturas:
        return {}, {}
    params = {
        "idx": [lec.idx for lec in lecturas],
        "unidad": [lec.unidad_id for lec in lecturas],
        "lon": [lec.lon for lec in lecturas],
        "lat": [lec.lat for lec in lecturas],
        "precision": [lec.precision_m or 0.0 for lec in lecturas],
        "precision_max": max((lec.precision_m or 0.0) for lec in lecturas),
        "lat_max": min(max(abs(lec.lat) for lec in lecturas), 89.0),
        "m_por_grado": _M_POR_GRADO,
    }
    muestras: dict[int, dict[int, Muestra]] = defaultdict(dict)
    cercas: dict[int, Cerca] = {}
    with connection.cursor() as cursor:
        cursor.execute(_SQL_CANDIDATOS, params)
        for idx, gid, nombre, tipo, sev, hist, perm, adentro, dist in cursor.fetchall():
            muestras[idx][gid] = Muestra(adentro=adentro, distancia_borde_m=dist)
            if gid not in cercas:
                cercas[gid] = Cerca(gid, nombre, tipo, sev, hist, perm)
    return muestras, cercas


def transiciones_calcular(
    *,
    lecturas: Iterable[LecturaEval],
    muestras: dict[int, dict[int, Muestra]],
    cercas: dict[int, Cerca],
    presencias: dict[int, dict[int, EstadoPresencia]],
) -> list[Transicion]:
    """Pure: walk readings per efectivo in device-time order, updating `presencias` in place
    (marking changed entries) and returning every transition, alerting or not.

    `presencias` ({efectivo_id: {geocerca_id: state}}) must hold the current state of every pair
    whose fence is active and applies to the efectivo; pairs absent from it are "outside"."""
    transiciones: list[Transicion] = []
    por_efectivo: dict[int, list[LecturaEval]] = defaultdict(list)
    for lectura in lecturas:
        por_efectivo[lectura.efectivo_id].append(lectura)

    for efectivo_id, propias in por_efectivo.items():
        propias.sort(key=lambda lec: lec.registrada_en)
        estados = presencias.setdefault(efectivo_id, {})
        for lectura in propias:
            cerca_muestras = muestras.get(lectura.idx, {})
            dentro_ahora = {gid for gid, st in estados.items() if st.dentro}
            for gid in sorted(set(cerca_muestras) | dentro_ahora):
                cerca = cercas.get(gid)
                if cerca is None:
                    continue
                muestra = cerca_muestras.get(gid)
                nuevo = _schmitt(muestra, margen_m=max(cerca.histeresis_m, lectura.precision_m or 0.0))
                estado = estados.get(gid)
                previo = estado.dentro if estado else False
                if nuevo is not None and nuevo != previo:
                    estado = estados[gid] = EstadoPresencia(dentro=nuevo, desde=lectura.registrada_en, cambiado=True)
                    tipo = TipoAlerta.ENTRADA if nuevo else TipoAlerta.SALIDA
                    alerta = cerca.alerta_al_entrar if nuevo else cerca.alerta_al_salir
                    transiciones.append(Transicion(tipo, efectivo_id, gid, lectura, lectura.registrada_en, alerta))
                if estado and estado.dentro:
                    permanencia = permanencia_vencida(cerca=cerca, estado=estado, ahora=lectura.registrada_en)
                    if permanencia:
                        estado.permanencia_alertada = True
                        estado.cambiado = True
                        transiciones.append(
                            Transicion(TipoAlerta.PERMANENCIA, efectivo_id, gid, lectura, lectura.registrada_en, True)
                        )
    return transiciones


def permanencia_vencida(*, cerca: Cerca, estado: EstadoPresencia, ahora: datetime) -> bool:
    """Dwell fires once per stay, when the stay has lasted permanencia_min_s."""
    return (
        cerca.permanencia_min_s is not None
        and estado.dentro
        and not estado.permanencia_alertada
        and ahora - estado.desde >= timedelta(seconds=cerca.permanencia_min_s)
    )


def _schmitt(muestra: Muestra | None, *, margen_m: float) -> bool | None:
    """True: clearly inside; False: clearly outside; None: within the margin, hold the last state."""
    if muestra is None:
        return False  # not even a candidate: farther than any margin from the fence
    if muestra.distancia_borde_m < margen_m:
        return None
    return muestra.adentro
