"""The geofence engine: a function of (readings, fences, presence state) that returns transitions.

Two halves:
- `SQL_CANDIDATOS` is the set-based part: ONE index-assisted query over all active fences that,
  for every reading, returns the fences near enough to matter (inside, or within the hysteresis
  margin of the border); `candidatos_parametros` builds its parameters and `candidatos_leer` reads
  its rows (geocercas.services.evaluacion sends it inside the ingest's pipeline).
- `transiciones_calcular` is pure: it walks each efectivo's readings in device-time order through
  a Schmitt trigger per fence. A fence absent from a reading's candidates is "clearly outside".

Hysteresis: an efectivo enters when inside by at least max(histeresis_m, precision_m) and exits
when outside by at least that; in between the last state holds, so GPS jitter never flaps. A fence
may ask for `confirmar_lecturas` readings in a row clearly on the other side before the state
changes: then a multipath jump or an accuracy that lies (one fix 60 m off claiming 5 m) raises
nothing, and a real entry alerts with the next reading. An entry may also have to last
`entrada_min_s` (passing along the border of a zone is not entering it). The
precision used is capped (PRECISION_DECIDIR_M, by the ingest): a fix claiming a huge error cannot
widen the margin until nothing is ever "inside". A fix less precise than that cap (`imprecisa`)
may still enter a zone it is clearly inside, but never counts as outside: it neither exits nor
completes a crossing.

Schedules: a fence with a `Horario` applies only then (days and hours in the agency's zone, at the
reading's device time). Outside it the pair is not evaluated at all, so its state holds: leaving a
perimeter after hours raises nothing, and someone inside a zone when its restriction begins is an
entry at their first reading after it does. A corridor is evaluated as a perimeter: its geometry is
the route's buffer (geocercas.services.geocerca_guardar).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import orjson
from django.conf import settings
from django.utils import timezone

from geocercas.models import CRUCE_MAX_S_TOPE, TipoAlerta, TipoGeocerca

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
    precision_m: float | None  # capped at PRECISION_DECIDIR_M by the ingest
    posicion_id: int | None = None
    imprecisa: bool = False  # its stated error exceeded the cap: never evidence of being outside


@dataclass(frozen=True, slots=True)
class Horario:
    """When a fence applies: ISO weekdays (1 = Monday; empty: every day) and local hours [desde,
    hasta), or the whole day when both are None. hasta < desde runs past midnight and belongs to
    the day it starts on."""

    dias: frozenset[int]
    desde: time | None
    hasta: time | None

    @staticmethod
    def de(dias: Sequence[int] | None, desde: time | None, hasta: time | None) -> Horario | None:
        """None for a fence that always applies."""
        if not dias and desde is None:
            return None
        return Horario(frozenset(dias or ()), desde, hasta)

    def rige(self, local: datetime) -> bool:
        """Whether it applies at `local` (a time in the agency's zone)."""
        dia = local.isoweekday()
        if self.desde is None or self.hasta is None:
            return self._dia(dia)
        hora = local.time()
        if self.desde < self.hasta:
            return self._dia(dia) and self.desde <= hora < self.hasta
        return (hora >= self.desde and self._dia(dia)) or (hora < self.hasta and self._dia(dia - 1 or 7))

    def _dia(self, dia: int) -> bool:
        return not self.dias or dia in self.dias

    def proximo_cambio(self, local: datetime) -> datetime | None:
        """When it next starts or stops applying after `local` (aware, in the agency's zone), or
        None if it never changes (every day, all day)."""
        ahora = self.rige(local)
        horas = [time(0)] if self.desde is None or self.hasta is None else [self.desde, self.hasta, time(0)]
        candidatos = sorted(
            datetime.combine(local.date() + timedelta(days=dia), hora, tzinfo=local.tzinfo)
            for dia in range(0, 9)
            for hora in horas
        )
        return next((c for c in candidatos if c > local and self.rige(c) != ahora), None)


@dataclass(frozen=True)
class Cerca:
    id: int
    nombre: str
    tipo: str
    severidad: str
    histeresis_m: float
    permanencia_min_s: int | None
    horario: Horario | None = None
    confirmar: int = 1  # readings in a row on the other side before the state changes
    entrada_min_s: int = 0  # an entry counts only after staying this long

    @property
    def alerta_al_entrar(self) -> bool:
        return self.tipo in (TipoGeocerca.RESTRINGIDA, TipoGeocerca.CONTROL)

    @property
    def alerta_al_salir(self) -> bool:
        return self.tipo in (TipoGeocerca.PERIMETRO, TipoGeocerca.CONTROL, TipoGeocerca.CORREDOR)


@dataclass(frozen=True, slots=True)
class Fijo:
    """A fix kept as evidence between batches."""

    lon: float
    lat: float
    en: datetime
    precision_m: float | None
    posicion_id: int | None = None

    @staticmethod
    def de(lectura: LecturaEval) -> Fijo:
        return Fijo(lectura.lon, lectura.lat, lectura.registrada_en, lectura.precision_m, lectura.posicion_id)


@dataclass
class EstadoPresencia:
    dentro: bool
    desde: datetime
    permanencia_alertada: bool = False
    pendientes: int = 0  # readings in a row clearly on the other side, not yet enough to change
    pendiente_desde: datetime | None = None  # the first of them
    pendiente: Fijo | None = None  # the last of them
    previa: Fijo | None = None  # the fix before that one (None: none known)
    cambiado: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Transicion:
    tipo: str  # TipoAlerta
    efectivo_id: int
    geocerca_id: int
    lectura: LecturaEval | None
    ocurrida_en: datetime
    alerta: bool  # whether this fence type alerts on this transition
    cruce: bool = False  # inferred: the segment from the previous fix crossed the fence


@dataclass(frozen=True)
class Muestra:
    """A fence near a reading: whether the point is inside, and whether it is clearly so (farther
    from the border than the pair's margin, max(histeresis_m, precision_m))."""

    adentro: bool
    claro: bool
    pasado: bool | None = None  # beyond half the fence's hysteresis (None: as `claro`)


def sql_aplica(g: str, efectivo: str, unidad: str) -> str:
    """SQL: whether fence `g` applies to the efectivo with id `efectivo` of unidad `unidad`. A fence
    for a task applies to the efectivos assigned to it now (pending or accepted: an escort
    corridor follows the assignments as they change); one naming efectivos, to them; otherwise to
    its unidades (none: to everyone)."""
    return f"""CASE
        WHEN {g}.tarea_id IS NOT NULL THEN EXISTS (
            SELECT 1 FROM tareas_asignacion a
            WHERE a.tarea_id = {g}.tarea_id AND a.efectivo_id = {efectivo} AND a.estado IN ('pendiente', 'aceptada'))
        WHEN EXISTS (SELECT 1 FROM geocercas_geocerca_efectivos ge WHERE ge.geocerca_id = {g}.id) THEN EXISTS (
            SELECT 1 FROM geocercas_geocerca_efectivos ge WHERE ge.geocerca_id = {g}.id AND ge.efectivo_id = {efectivo})
        ELSE NOT EXISTS (SELECT 1 FROM geocercas_geocerca_unidades gu WHERE gu.geocerca_id = {g}.id)
            OR EXISTS (SELECT 1 FROM geocercas_geocerca_unidades gu
                       WHERE gu.geocerca_id = {g}.id AND gu.unidad_id = {unidad})
    END"""


SQL_CANDIDATOS = """
WITH l AS (
    -- The efectivo's unidad decides which fences apply; read here so that the ingest can send
    -- this query in the same round trip as the statement that locks the efectivos.
    SELECT t.idx, t.efectivo_id, e.unidad_id, t.precision_m, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) AS pt
    FROM jsonb_to_recordset(%(lecturas)s::jsonb)
         AS t(idx int, efectivo_id bigint, lon float8, lat float8, precision_m float8)
    JOIN efectivos_efectivo e ON e.id = t.efectivo_id
), c AS (
    SELECT l.idx, l.pt, GREATEST(g.histeresis_m, l.precision_m) AS margen, g.*
    FROM l
    JOIN geocercas_geocerca g
      ON g.activa
     -- GiST prefilter with one conservative bound for the whole batch: the widest margin any
     -- pair can have (largest active hysteresis or reading imprecision), in degrees at the
     -- batch's highest latitude. The exact per-pair margin is applied below, in metres.
     AND ST_DWithin(g.geom, l.pt,
            (GREATEST((SELECT MAX(histeresis_m) FROM geocercas_geocerca WHERE activa), %(precision_max)s) + 1.0)
            / (%(m_por_grado)s * GREATEST(cos(radians(%(lat_max)s)), 0.01)))
    WHERE {aplica}
)
SELECT idx, id, nombre, tipo, severidad, histeresis_m, permanencia_min_s,
       horario_dias, horario_desde, horario_hasta, confirmar_lecturas, entrada_min_s, adentro,
       -- Beyond the margin from the border (geodesic metres)? ST_DWithin exits early, unlike
       -- a full ST_Distance.
       NOT CASE WHEN adentro THEN ST_DWithin(ST_Boundary(geom)::geography, pt::geography, margen)
                ELSE ST_DWithin(geom::geography, pt::geography, margen) END AS claro,
       -- Beyond half the fence's hysteresis, whatever the reading's stated error: what a reading
       -- confirming a pending change must be (only asked when one may be pending).
       CASE WHEN confirmar_lecturas > 1 THEN
           NOT CASE WHEN adentro THEN ST_DWithin(ST_Boundary(geom)::geography, pt::geography, histeresis_m / 2)
                    ELSE ST_DWithin(geom::geography, pt::geography, histeresis_m / 2) END
       END AS pasado
FROM (SELECT c.*, ST_Intersects(c.geom, c.pt) AS adentro FROM c) AS evaluados
""".format(aplica=sql_aplica("g", "l.efectivo_id", "l.unidad_id"))


# Crossing between fixes: the segment from each reading's previous fix (the batch's previous
# reading of the same efectivo in device time, or the efectivo's last position for the first)
# crosses a fence that alerts on entry while neither end is inside it. It is evidence only when
# the officer could not have gone around:
# - the gap is short (the fence's `cruce_max_s`, else GEOCERCA_CRUCE_MAX_S): after a long silence,
#   or at start-up against an old last position, the way taken is unknown;
# - the implied speed is plausible (VELOCIDAD_MAX_KMH, allowing for both fixes' imprecision);
# - every path from one fix to the other no longer than GEOCERCA_CRUCE_RODEO times the straight
#   line enters the fence. Such paths stay inside the ellipse with the fixes as foci, whose
#   half-width is b = d/2 * sqrt(RODEO^2 - 1), and each one crosses the ellipse's chord
#   perpendicular to the segment at every point of it. So if at some point of the segment, deeper
#   in the fence than the pair's margin (max(histeresis_m, either fix's precision)), the chord of
#   half-length b plus that margin lies wholly inside the fence, no such path avoids it. A car
#   driving around a block, one fix a minute, is no crossing; running straight across a wide
#   restricted strip between two fixes is.
# `previo_idx` (null: the stored last position) lets the caller drop a crossing whose previous
# fix was not the previous evaluated one (a late, duplicate or implausible reading).
# Index-assisted: `&&` on the segment's box first; the chords are built only for the rare segment
# that passes through a fence.
CRUCE_MAX_M = 5000.0

SQL_CRUCES = """
WITH t AS (
    SELECT t.idx, t.efectivo_id, t.r, t.precision_m, e.unidad_id, e.ultima_posicion, e.ultima_posicion_en,
           LEAST(e.ultima_precision_m, %(precision_tope)s) AS ultima_precision_m,
           ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) AS pt
    FROM jsonb_to_recordset(%(lecturas)s::jsonb)
         AS t(idx int, efectivo_id bigint, lon float8, lat float8, precision_m float8, r timestamptz)
    JOIN efectivos_efectivo e ON e.id = t.efectivo_id
    WHERE e.ultima_posicion_en IS NULL OR t.r > e.ultima_posicion_en
), s AS (
    SELECT idx, efectivo_id, unidad_id, precision_m, pt, r, lag(idx) OVER w AS previo_idx,
           CASE WHEN lag(idx) OVER w IS NULL THEN ultima_posicion ELSE lag(pt) OVER w END AS previo,
           CASE WHEN lag(idx) OVER w IS NULL THEN ultima_posicion_en ELSE lag(r) OVER w END AS previo_en,
           CASE WHEN lag(idx) OVER w IS NULL THEN ultima_precision_m ELSE lag(precision_m) OVER w END
               AS previo_precision
    FROM t WINDOW w AS (PARTITION BY efectivo_id ORDER BY r, idx)
), d AS MATERIALIZED (  -- the distance computed once per segment
    SELECT idx, previo_idx, efectivo_id, unidad_id, previo, pt,
           GREATEST(coalesce(precision_m, 0), coalesce(previo_precision, 0)) AS precision_m,
           coalesce(precision_m, 0) + coalesce(previo_precision, 0) AS precisiones,
           ST_Distance(previo::geography, pt::geography, false) AS metros,  -- on the sphere: within 0.3 per cent, 3x cheaper
           extract(epoch FROM r - previo_en) AS segundos
    FROM s
    WHERE previo IS NOT NULL AND r - previo_en <= make_interval(secs => %(cruce_max_s_tope)s)
), seg AS MATERIALIZED (  -- each segment built once, not once per use
    SELECT idx, previo_idx, efectivo_id, unidad_id, precision_m, segundos, ST_MakeLine(previo, pt) AS linea,
           metros / 2 * sqrt(%(rodeo)s ^ 2 - 1) AS holgura,
           -- The unit normal to the segment (metres), in degrees per metre along each axis.
           -(ST_Y(pt) - ST_Y(previo)) * %(m_por_grado)s / metros
               / (%(m_por_grado)s * cos(radians(ST_Y(pt)))) AS nx,
           (ST_X(pt) - ST_X(previo)) * %(m_por_grado)s * cos(radians(ST_Y(pt))) / metros
               / %(m_por_grado)s AS ny
    FROM d
    WHERE metros > 0 AND metros <= %(cruce_max_m)s AND segundos > 0
      AND GREATEST(metros - precisiones, 0) / segundos * 3.6 <= %(velocidad_max)s
), c AS (
    SELECT seg.idx, seg.previo_idx, seg.holgura + GREATEST(g.histeresis_m, seg.precision_m) AS media,
           GREATEST(g.histeresis_m, seg.precision_m) AS margen, seg.nx, seg.ny, seg.linea, g.*
    FROM seg
    JOIN geocercas_geocerca g
      ON g.activa AND g.tipo IN ('restringida', 'control') AND g.geom && seg.linea
     AND seg.segundos <= coalesce(g.cruce_max_s, %(cruce_max_s)s)
     AND ST_Intersects(g.geom, seg.linea)
     AND NOT ST_Intersects(g.geom, ST_StartPoint(seg.linea)) AND NOT ST_Intersects(g.geom, ST_EndPoint(seg.linea))
    WHERE {aplica}
)
SELECT c.idx, c.previo_idx, c.id, c.nombre, c.tipo, c.severidad, c.histeresis_m, c.permanencia_min_s,
       c.horario_dias, c.horario_desde, c.horario_hasta
FROM c
WHERE EXISTS (
    -- Eight points along each piece of the segment inside the fence: one deeper than the margin
    -- whose chord (half-length: the ellipse's half-width plus the margin) lies wholly inside.
    SELECT 1
    FROM ST_Dump(ST_Intersection(c.geom, c.linea)) AS trozo,
         generate_series(0, 7) AS k(i),
         LATERAL (SELECT ST_LineInterpolatePoint(trozo.geom, (k.i + 0.5) / 8.0) AS p) AS q
    WHERE ST_GeometryType(trozo.geom) = 'ST_LineString'
      AND NOT ST_DWithin(ST_Boundary(c.geom)::geography, q.p::geography, c.margen)
      AND ST_Covers(c.geom, ST_MakeLine(ST_Translate(q.p, -c.nx * c.media, -c.ny * c.media),
                                        ST_Translate(q.p, c.nx * c.media, c.ny * c.media)))
)
""".format(aplica=sql_aplica("g", "seg.efectivo_id", "seg.unidad_id"))


@dataclass(frozen=True)
class Cruce:
    """A fence crossed on the way to reading `idx` from reading `previo_idx` (None: from the
    efectivo's stored last position)."""

    geocerca_id: int
    previo_idx: int | None


def cruces_leer(filas: Iterable[tuple], cercas: dict[int, Cerca]) -> dict[int, list[Cruce]]:
    """The rows of SQL_CRUCES as {idx: [Cruce]}, adding the fences involved to `cercas`."""
    cruces: dict[int, list[Cruce]] = defaultdict(list)
    for idx, previo_idx, gid, nombre, tipo, sev, hist, perm, dias, desde, hasta in filas:
        cruces[idx].append(Cruce(gid, previo_idx))
        cercas.setdefault(gid, Cerca(gid, nombre, tipo, sev, hist, perm, Horario.de(dias, desde, hasta)))
    return cruces


def candidatos_parametros(lecturas: Sequence[LecturaEval]) -> dict:
    """The parameters of SQL_CANDIDATOS (and SQL_CRUCES) for these readings (not empty)."""
    return {
        "lecturas": orjson.dumps(
            [
                {
                    "idx": lec.idx,
                    "efectivo_id": lec.efectivo_id,
                    "lon": lec.lon,
                    "lat": lec.lat,
                    "precision_m": lec.precision_m or 0.0,
                    "r": lec.registrada_en,
                }
                for lec in lecturas
            ]
        ).decode(),
        "cruce_max_m": CRUCE_MAX_M,
        "cruce_max_s": float(settings.GEOCERCA_CRUCE_MAX_S),
        "cruce_max_s_tope": float(CRUCE_MAX_S_TOPE),
        "rodeo": float(settings.GEOCERCA_CRUCE_RODEO),
        "velocidad_max": float(settings.VELOCIDAD_MAX_KMH),
        "precision_tope": float(settings.PRECISION_DECIDIR_M),
        "precision_max": max((lec.precision_m or 0.0) for lec in lecturas),
        "lat_max": min(max(abs(lec.lat) for lec in lecturas), 89.0),
        "m_por_grado": _M_POR_GRADO,
    }


def candidatos_leer(filas: Iterable[tuple]) -> tuple[dict[int, dict[int, Muestra]], dict[int, Cerca]]:
    """The rows of SQL_CANDIDATOS as {idx: {geocerca_id: Muestra}} and the fences involved."""
    muestras: dict[int, dict[int, Muestra]] = defaultdict(dict)
    cercas: dict[int, Cerca] = {}
    for (
        idx,
        gid,
        nombre,
        tipo,
        sev,
        hist,
        perm,
        dias,
        desde,
        hasta,
        confirmar,
        entrada,
        adentro,
        claro,
        pasado,
    ) in filas:
        muestras[idx][gid] = Muestra(adentro=adentro, claro=claro, pasado=pasado)
        if gid not in cercas:
            cercas[gid] = Cerca(gid, nombre, tipo, sev, hist, perm, Horario.de(dias, desde, hasta), confirmar, entrada)
    return muestras, cercas


def transiciones_calcular(
    *,
    lecturas: Iterable[LecturaEval],
    muestras: dict[int, dict[int, Muestra]],
    cercas: dict[int, Cerca],
    presencias: dict[int, dict[int, EstadoPresencia]],
    cruces: dict[int, list[Cruce]] | None = None,
    anteriores: dict[int, Fijo] | None = None,
) -> list[Transicion]:
    """Pure: walk readings per efectivo in device-time order, updating `presencias` in place
    (marking changed entries) and returning every transition, alerting or not.

    `cruces` ({idx: [Cruce]}, already checked by the caller to start at the previous evaluated
    fix): a fence crossed on the way to a reading that leaves the efectivo outside it is an entry
    and an exit at that reading (marked `cruce`); the presence state does not change.

    `presencias` ({efectivo_id: {geocerca_id: state}}) must hold the current state of every pair
    whose fence is active and applies to the efectivo; pairs absent from it are "outside".
    `anteriores` ({efectivo_id: Fijo}): each efectivo's last evaluated fix before these readings,
    what a lone fix on the other side is weighed against (_no_refutada)."""
    transiciones: list[Transicion] = []
    por_efectivo: dict[int, list[LecturaEval]] = defaultdict(list)
    for lectura in lecturas:
        por_efectivo[lectura.efectivo_id].append(lectura)

    for efectivo_id, propias in por_efectivo.items():
        propias.sort(key=lambda lec: lec.registrada_en)
        estados = presencias.setdefault(efectivo_id, {})
        anterior = (anteriores or {}).get(efectivo_id)
        for lectura in propias:
            fijo, previa = Fijo.de(lectura), anterior
            anterior = fijo
            cerca_muestras = muestras.get(lectura.idx, {})
            dentro_ahora = {gid for gid, st in estados.items() if st.dentro or st.pendientes}
            local: datetime | None = None
            for gid in sorted(set(cerca_muestras) | dentro_ahora):
                cerca = cercas.get(gid)
                if cerca is None:
                    continue
                if cerca.horario is not None:
                    local = local or timezone.localtime(lectura.registrada_en)
                    if not cerca.horario.rige(local):
                        continue  # not in force: the state holds
                muestra = cerca_muestras.get(gid)
                nuevo = _schmitt(muestra)
                estado = estados.get(gid)
                previo = estado.dentro if estado else False
                if nuevo is False and lectura.imprecisa:
                    nuevo = None  # too imprecise to say the efectivo is out: the state holds
                if cerca.confirmar > 1 or cerca.entrada_min_s:
                    # The state changes after `confirmar` readings in a row on the other side (the
                    # first beyond the margin, the next ones beyond half the fence's hysteresis
                    # whatever their stated error: a lying fix is followed by one back where the
                    # officer is, while a real change is seen again at once, if only just past the
                    # border), and an entry only once they have stayed `entrada_min_s`.
                    if estado is not None and estado.pendientes:
                        objetivo = not previo
                        confirma = _del_lado(muestra, objetivo)
                        if confirma and lectura.imprecisa and not objetivo:
                            continue  # too imprecise to count as out: the pending change holds
                        if confirma:
                            estado.pendientes += 1
                            estado.pendiente, estado.previa = fijo, estado.pendiente
                            estado.cambiado = True
                            if not _confirmada(cerca, estado, objetivo, lectura.registrada_en):
                                continue
                            nuevo = objetivo
                        elif _par_confirma(cerca, estado, objetivo, lectura, fijo):
                            # Back, but consistent with having passed through the pending fix: the
                            # change happened there, and this reading is weighed again below.
                            x = estado.pendiente
                            assert x is not None
                            estado = estados[gid] = EstadoPresencia(dentro=objetivo, desde=x.en, cambiado=True)
                            tipo = TipoAlerta.ENTRADA if objetivo else TipoAlerta.SALIDA
                            alerta = cerca.alerta_al_entrar if objetivo else cerca.alerta_al_salir
                            en_x = LecturaEval(
                                -1, efectivo_id, lectura.unidad_id, x.lon, x.lat, x.en, x.precision_m, x.posicion_id
                            )
                            transiciones.append(Transicion(tipo, efectivo_id, gid, en_x, x.en, alerta))
                            previo = objetivo
                            if nuevo is not None and nuevo != previo:
                                estado.pendientes, estado.pendiente_desde = 1, lectura.registrada_en
                                estado.pendiente, estado.previa = fijo, x
                                continue  # the way back, pending in its turn (confirmar > 1)
                        else:
                            estado.pendientes, estado.pendiente_desde = 0, None  # back: that was noise
                            estado.pendiente = estado.previa = None
                            estado.cambiado = True
                    elif nuevo is not None and nuevo != previo:
                        if estado is None:
                            estado = estados[gid] = EstadoPresencia(dentro=previo, desde=lectura.registrada_en)
                        estado.pendientes, estado.pendiente_desde = 1, lectura.registrada_en
                        estado.pendiente, estado.previa = fijo, previa
                        estado.cambiado = True
                        if not _confirmada(cerca, estado, nuevo, lectura.registrada_en):
                            continue
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
            for cruce in () if lectura.imprecisa else (cruces or {}).get(lectura.idx, ()):
                cerca = cercas.get(cruce.geocerca_id)
                estado = estados.get(cruce.geocerca_id)
                if cerca is None or (estado is not None and estado.dentro):
                    continue  # an ordinary entry (or still inside): the trigger above decided
                if cerca.horario is not None:
                    local = local or timezone.localtime(lectura.registrada_en)
                    if not cerca.horario.rige(local):
                        continue
                for tipo, alerta in (
                    (TipoAlerta.ENTRADA, cerca.alerta_al_entrar),
                    (TipoAlerta.SALIDA, cerca.alerta_al_salir),
                ):
                    transiciones.append(
                        Transicion(tipo, efectivo_id, cerca.id, lectura, lectura.registrada_en, alerta, cruce=True)
                    )
    return transiciones


def _del_lado(muestra: Muestra | None, adentro: bool) -> bool:
    """Whether a reading confirms a pending change to `adentro`: on that side, beyond half the
    fence's hysteresis (not a candidate at all: clearly outside)."""
    if muestra is None:
        return not adentro
    pasado = muestra.claro if muestra.pasado is None else muestra.pasado
    return muestra.adentro == adentro and pasado


def _par_confirma(cerca: Cerca, estado: EstadoPresencia, entra: bool, lectura: LecturaEval, fijo: Fijo) -> bool:
    """Whether a reading back on the old side still completes the pending change: it would have
    been the last reading needed, it is precise enough to weigh, an entry need not last, and it
    does not refute the pending fix."""
    return (
        estado.pendientes + 1 >= cerca.confirmar
        and not (entra and cerca.entrada_min_s)
        and not lectura.imprecisa
        and estado.pendiente is not None
        and estado.previa is not None
        and _no_refutada(estado.previa, estado.pendiente, fijo)
    )


def _no_refutada(p: Fijo, x: Fijo, y: Fijo) -> bool:
    """Whether fix `x`, between `p` and `y`, is consistent with a path through it.

    A fix that lies (multipath: 40-80 m off claiming 5 m; a jump of a kilometre) sits off the way
    from its neighbours to each other, so passing through it is a detour; a real pass (a car
    through a block between two fixes) sits on that way. The detour allowed: the three fixes'
    stated errors, plus a brisk walk (GEOCERCA_PAR_DESVIO_MS) over the time from `p` to `y`, so
    that fixes a minute or more apart allow going out of a perimeter and back, and fixes seconds
    apart allow a lie nothing."""
    if not p.en < x.en < y.en:
        return False
    # Local metres about x (equirectangular: exact enough over a few kilometres).
    m_lon, m_lat = 111_319.49 * math.cos(math.radians(x.lat)), 110_574.27

    def metros(a: Fijo, b: Fijo) -> float:
        return math.hypot((b.lon - a.lon) * m_lon, (b.lat - a.lat) * m_lat)

    rodeo = metros(p, x) + metros(x, y) - metros(p, y)
    tolerancia = (
        (x.precision_m or 0.0)
        + max(p.precision_m or 0.0, y.precision_m or 0.0)
        + settings.GEOCERCA_PAR_DESVIO_MS * (y.en - p.en).total_seconds()
    )
    return rodeo <= tolerancia


def _confirmada(cerca: Cerca, estado: EstadoPresencia, entra: bool, ahora: datetime) -> bool:
    """Whether the readings pending on the other side are enough to change the state."""
    if estado.pendientes < cerca.confirmar:
        return False
    espera = timedelta(seconds=cerca.entrada_min_s if entra else 0)
    return estado.pendiente_desde is None or ahora - estado.pendiente_desde >= espera


def permanencia_vencida(*, cerca: Cerca, estado: EstadoPresencia, ahora: datetime) -> bool:
    """Dwell fires once per stay, when the stay has lasted permanencia_min_s (and the fence is in
    force)."""
    return (
        cerca.permanencia_min_s is not None
        and (cerca.horario is None or cerca.horario.rige(timezone.localtime(ahora)))
        and estado.dentro
        and not estado.permanencia_alertada
        and ahora - estado.desde >= timedelta(seconds=cerca.permanencia_min_s)
    )


def _schmitt(muestra: Muestra | None) -> bool | None:
    """True: clearly inside; False: clearly outside; None: within the margin, hold the last state."""
    if muestra is None:
        return False  # not even a candidate: farther than any margin from the fence
    return muestra.adentro if muestra.claro else None
