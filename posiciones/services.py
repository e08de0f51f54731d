"""What happens to a reading. `posiciones_registrar` is the one entry point for readings: the lean
ASGI path and the DRF view (through `posiciones.ingesta`), the Telegram bot and the simulator all
call it. It stores them, moves each efectivo's last position, flags the implausible ones
(`posiciones.plausibilidad`), hands the rest to the geofence engine (`geocercas.services`) and
publishes what changed, in one transaction."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction

from auditoria import registro
from efectivos.alcance import Alcance
from efectivos.models import FuentePosicion
from gad_project import rls
from gad_project.bd import tuberia
from gad_project.exceptions import EntradaInvalida
from gad_project.tiempo import iso
from geocercas import services as geocercas_services
from geocercas.engine import Fijo, LecturaEval
from geocercas.services import AlertaNueva
from posiciones import metrics, plausibilidad
from posiciones.plausibilidad import Fix
from realtime import eventos
from realtime.services import Publicacion, publish_many_diferido


@dataclass(frozen=True)
class LecturaNueva:
    id_cliente: uuid.UUID
    efectivo_id: int
    lat: float
    lon: float
    registrada_en: datetime
    precision_m: float | None = None
    velocidad_kmh: float | None = None
    rumbo: float | None = None
    # The poster's scope, checked against the efectivo's unidad under the row lock. None: the
    # caller already resolved the efectivo itself (the bot, the simulator).
    alcance: Alcance | None = None
    # The user who posted it for another efectivo (None: the efectivo's own account or device).
    registrada_por: int | None = None
    # Where it came from when not the call's `fuente` (a tracker app, in a group commit shared
    # with the JSON API), the device that sent it (posiciones.dispositivos) and its battery.
    fuente: str | None = None
    dispositivo_id: int | None = None
    bateria_pct: float | None = None
    cargando: bool | None = None


class Destino(StrEnum):
    ACEPTADA = "aceptada"
    DUPLICADA = "duplicada"
    RECHAZADA = "rechazada"
    FUERA_DE_SERVICIO = "fuera_de_servicio"  # taken off duty: not stored (answered as discarded)


FUERA_DE_ALCANCE = "Efectivo inexistente o fuera de su alcance."


@dataclass
class ResultadoIngesta:
    aceptadas: int = 0
    duplicadas: int = 0
    fuera_de_servicio: int = 0  # taken off duty, not stored
    destinos: list[Destino] = field(default_factory=list)  # one per reading, in order
    rechazos: dict[int, str] = field(default_factory=dict)  # reading index -> reason
    alertas: list[AlertaNueva] = field(default_factory=list)
    # Indices of readings stored (counted in aceptadas) but flagged implausible and used for nothing.
    implausibles: list[int] = field(default_factory=list)
    # Indices of readings whose stated error exceeds PRECISION_DECIDIR_M: used, but never as
    # evidence that the efectivo left a zone (geocercas.engine).
    imprecisas: list[int] = field(default_factory=list)


_SQL_BLOQUEAR = """
SELECT id, unidad_id, estado, ultima_posicion_en, apellido || ', ' || nombre,
       ST_X(ultima_posicion), ST_Y(ultima_posicion), ultima_precision_m,
       descartada_lon, descartada_lat, descartada_en, descartada_precision_m, descartada_desde, descartadas_n
FROM efectivos_efectivo
WHERE id = ANY(%s) ORDER BY id FOR UPDATE
"""

# Only readings for an efectivo within the poster's scope (todo / unidad / efectivo): the rows
# were locked by _SQL_BLOQUEAR just before, in the same transaction.
# The unique key is (id_cliente, registrada_en) — a partitioned table's must contain the partition
# column: a retried reading (the same one, device time included) is stored once. An id_cliente
# reused with another device time is a new reading, stored and evaluated like any other. (Refusing
# it too took a lookup in every recent day's index, which cost more than the rest of the ingest:
# benchmarks/README.md, "Figures that were in comments".)
#
# Only readings taken on duty (#30; the SQL function efectivo_de_servicio, migration efectivos
# 0013: inside one of the efectivo's shifts, or with an active SOS or an open task). The others are
# not stored; they come back with a null id (answered as discarded).
_SQL_INSERTAR = """
WITH t AS (
    SELECT t.*, (NOT %(exigido)s OR efectivo_de_servicio(t.e, t.r)) AS servicio
    FROM jsonb_to_recordset(%(filas)s::jsonb)
         AS t(e bigint, lon float8, lat float8, r timestamptz, p float8, v float8, ru float8, u uuid,
              todo bool, un bigint, ef bigint, rp bigint, f text)
), insertadas AS (
    INSERT INTO efectivos_posicion
        (efectivo_id, punto, registrada_en, recibida_en, precision_m, velocidad_kmh, rumbo, fuente, id_cliente,
         registrada_por_id)
    SELECT t.e, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326), t.r, now(), t.p, t.v, t.ru, coalesce(t.f, %(fuente)s),
           t.u, t.rp
    FROM t JOIN efectivos_efectivo e ON e.id = t.e
    WHERE t.servicio AND (t.todo OR e.unidad_id = t.un OR e.id = t.ef)
    ON CONFLICT (id_cliente, registrada_en) DO NOTHING
    RETURNING id, id_cliente
)
SELECT id, id_cliente FROM insertadas
UNION ALL
SELECT NULL, u FROM t WHERE NOT t.servicio
"""

_SQL_MOVER = """
UPDATE efectivos_efectivo e
SET ultima_posicion = ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326), ultima_precision_m = v.p,
    ultima_posicion_en = v.r, actualizado_en = now()
FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, lon float8, lat float8, r timestamptz, p float8)
WHERE e.id = v.id
"""

# Each device that sent readings: in contact now, its newest fix's device time, its battery (the
# newest reading's, when it said).
_SQL_DISPOSITIVOS = """
UPDATE efectivos_dispositivo d
SET ultimo_contacto_en = now(),
    ultima_lectura_en = GREATEST(d.ultima_lectura_en, v.r),
    bateria_pct = coalesce(v.b, d.bateria_pct), cargando = coalesce(v.c, d.cargando)
FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, r timestamptz, b float8, c bool)
WHERE d.id = v.id
"""

# The device-time bounds let the planner visit only those days' partitions.
_SQL_MARCAR_IMPLAUSIBLES = (
    "UPDATE efectivos_posicion SET implausible = true WHERE id = ANY(%s) AND registrada_en BETWEEN %s AND %s"
)

# The set-aside track (its newest reading, when it began, how many), kept for the next readings to
# confirm (or none: nulls clear it).
_SQL_DESCARTADA = """
UPDATE efectivos_efectivo e
SET descartada_lon = v.lon, descartada_lat = v.lat, descartada_en = v.r, descartada_precision_m = v.p,
    descartada_desde = v.d, descartadas_n = coalesce(v.n, 0)
FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, lon float8, lat float8, r timestamptz, p float8, d timestamptz, n int)
WHERE e.id = v.id
"""


@rls.usar(rls.INGESTA)  # the poster's scope is checked in SQL, reading by reading
def posiciones_registrar(*, lecturas: Sequence[LecturaNueva], fuente: str = FuentePosicion.API) -> ResultadoIngesta:
    """Store readings and react to them, in one transaction.

    - The efectivos' rows are locked first (in id order, so concurrent batches cannot deadlock)
      and held for the whole transaction: batches for the same efectivo are evaluated one after
      the other. A reading for an efectivo outside its `alcance` (or unknown) is rejected alone.
    - Inserted set-based; a reading whose id_cliente is already stored, or repeated earlier in the
      batch, is a duplicate with no effect at all, so a phone may retry a batch after a timeout.
    - Each efectivo's last position comes only from a reading stored here, and only moves forward
      in device time.
    - Geofences are evaluated for the stored readings newer than the efectivo's last evaluated
      one, in device-time order; older (late) readings are stored but flip no state.
    - Publishes `posicion.actualizada` (one per unidad, listing its efectivos that moved: a
      latest-wins signal, so coalesced) and `alerta.geocerca` (one per alert, never coalesced).

    Round trips do not grow with the batch. Raises EntradaInvalida for an unknown efectivo of a
    reading without `alcance` (a caller's bug, not a client's).
    """
    resultado = ResultadoIngesta(destinos=[Destino.DUPLICADA] * len(lecturas))
    if not lecturas:
        return resultado
    inicio = time.perf_counter()
    # First occurrence of each id_cliente: a repeat in the same batch is a duplicate.
    primeras: dict[uuid.UUID, int] = {}
    for idx, lec in enumerate(lecturas):
        primeras.setdefault(lec.id_cliente, idx)
    # Pipeline mode (gad_project.bd): statements go out as they are executed and wait only where
    # a result is read. Round trip 1 carries BEGIN, the lock, the INSERT (the poster's scope
    # checked in SQL against the locked rows) and the engine's two reads; 2, the position moves,
    # presence changes and alerts; 3, the events and COMMIT.
    with tuberia(), transaction.atomic():
        bloqueo = connection.cursor()
        bloqueo.execute(_SQL_BLOQUEAR, [sorted({lec.efectivo_id for lec in lecturas})])
        insercion = connection.cursor()
        insercion.execute(
            _SQL_INSERTAR,
            {
                "exigido": settings.SERVICIO_EXIGIDO,
                "fuente": fuente,
                "filas": orjson.dumps([_fila_insertar(lecturas[idx]) for idx in primeras.values()]).decode(),
            },
        )
        evaluacion = geocercas_services.geocercas_evaluar_iniciar(
            lecturas=[
                LecturaEval(
                    idx, lec.efectivo_id, 0, lec.lon, lec.lat, lec.registrada_en, precision_util(lec.precision_m)
                )
                for idx in primeras.values()
                for lec in (lecturas[idx],)
            ]
        )

        # id -> (id, unidad_id, estado, previa, nombre)
        efectivos = {fila[0]: fila for fila in bloqueo.fetchall()}
        if faltan := sorted({lec.efectivo_id for lec in lecturas if lec.alcance is None} - set(efectivos)):
            raise EntradaInvalida("Efectivo inexistente.", detalle={"efectivos": faltan})
        for idx, lec in enumerate(lecturas):
            fila = efectivos.get(lec.efectivo_id)
            if fila is None or (
                lec.alcance is not None and not lec.alcance.incluye_efectivo(efectivo_id=fila[0], unidad_id=fila[1])
            ):
                resultado.destinos[idx] = Destino.RECHAZADA
                resultado.rechazos[idx] = FUERA_DE_ALCANCE
        insertadas: dict[int, int] = {}  # reading index -> posicion id
        for pid, u in insercion.fetchall():
            if pid is not None:
                insertadas[primeras[u]] = pid
            elif resultado.destinos[primeras[u]] != Destino.RECHAZADA:
                resultado.destinos[primeras[u]] = Destino.FUERA_DE_SERVICIO
        for idx in insertadas:
            resultado.destinos[idx] = Destino.ACEPTADA
        resultado.aceptadas = len(insertadas)
        resultado.fuera_de_servicio = resultado.destinos.count(Destino.FUERA_DE_SERVICIO)
        _por_terceros_auditar(lecturas, insertadas, efectivos)
        resultado.duplicadas = (
            len(lecturas) - resultado.aceptadas - len(resultado.rechazos) - resultado.fuera_de_servicio
        )

        # Stored readings newer than what was last evaluated go through the geofence engine, and
        # the newest of them becomes the last position (which so comes only from a stored
        # reading). Late ones are stored and flip nothing; so are implausible ones (a speed no
        # one reaches from the last accepted fix: posiciones.plausibilidad), which are flagged.
        nuevas: dict[int, list[int]] = {}
        for idx in sorted(insertadas):
            lec = lecturas[idx]
            previa = efectivos[lec.efectivo_id][3]
            if previa is None or lec.registrada_en > previa:
                nuevas.setdefault(lec.efectivo_id, []).append(idx)
        evaluables: list[LecturaEval] = []
        ultima: dict[int, LecturaNueva] = {}
        implausibles: list[tuple[int, datetime]] = []  # (posicion id, its device time)
        descartes: list[dict[str, Any]] = []
        for eid, idxs in nuevas.items():
            idxs.sort(key=lambda i: lecturas[i].registrada_en)
            _, unidad_id, _, previa, _, lon, lat, precision, d_lon, d_lat, d_en, d_precision, d_desde, d_n = efectivos[
                eid
            ]
            apartadas = (
                None
                if d_en is None
                else plausibilidad.Apartadas(Fix(d_lon, d_lat, d_en, d_precision), d_desde or d_en, max(d_n, 1))
            )
            marcas, queda = plausibilidad.implausibles(
                aceptada=None if previa is None else Fix(lon, lat, previa, precision),
                apartadas=apartadas,
                lecturas=[
                    Fix(
                        lecturas[i].lon,
                        lecturas[i].lat,
                        lecturas[i].registrada_en,
                        precision_util(lecturas[i].precision_m),
                    )
                    for i in idxs
                ],
                maximo_kmh=settings.VELOCIDAD_MAX_KMH,
                confirmar_n=settings.PLAUSIBILIDAD_CONFIRMAR_LECTURAS,
                confirmar=timedelta(seconds=settings.PLAUSIBILIDAD_CONFIRMAR_S),
            )
            if queda != apartadas:
                descartes.append(
                    {
                        "id": eid,
                        "lon": queda.ultima.lon,
                        "lat": queda.ultima.lat,
                        "r": queda.ultima.en,
                        "p": queda.ultima.precision_m,
                        "d": queda.desde,
                        "n": queda.n,
                    }
                    if queda
                    else {"id": eid}
                )
            for idx, implausible in zip(idxs, marcas, strict=True):
                lec = lecturas[idx]
                if implausible:
                    implausibles.append((insertadas[idx], lec.registrada_en))
                    resultado.implausibles.append(idx)
                    continue
                imprecisa = lec.precision_m is not None and lec.precision_m > settings.PRECISION_DECIDIR_M
                if imprecisa:
                    resultado.imprecisas.append(idx)
                evaluables.append(
                    LecturaEval(
                        idx,
                        eid,
                        unidad_id,
                        lec.lon,
                        lec.lat,
                        lec.registrada_en,
                        precision_util(lec.precision_m),
                        insertadas[idx],
                        imprecisa,
                    )
                )
                ultima[eid] = lec  # in time order: the last one wins
        if ultima:
            connection.cursor().execute(
                _SQL_MOVER,
                [
                    orjson.dumps(
                        [
                            {"id": eid, "lon": lec.lon, "lat": lec.lat, "r": lec.registrada_en, "p": lec.precision_m}
                            for eid, lec in ultima.items()
                        ]
                    ).decode()
                ],
            )
        if implausibles:
            connection.cursor().execute(
                _SQL_MARCAR_IMPLAUSIBLES,
                [[i for i, _ in implausibles], min(r for _, r in implausibles), max(r for _, r in implausibles)],
            )
        if descartes:
            connection.cursor().execute(_SQL_DESCARTADA, [orjson.dumps(descartes).decode()])
        if dispositivos := _dispositivos(lecturas, efectivos):
            connection.cursor().execute(_SQL_DISPOSITIVOS, [orjson.dumps(dispositivos).decode()])
        evaluar = time.perf_counter()
        resultado.alertas, eventos_alerta = geocercas_services.geocercas_evaluar_terminar(
            evaluacion,
            lecturas=evaluables,
            nombres={eid: fila[4] for eid, fila in efectivos.items()},
            # Each one's last accepted fix before this batch, from the locked row.
            anteriores={
                eid: Fijo(fila[5], fila[6], fila[3], precision_util(fila[7]))
                for eid, fila in efectivos.items()
                if fila[3] is not None and fila[5] is not None
            },
        )
        metrics.GEOCERCAS.observe(time.perf_counter() - evaluar)
        publish_many_diferido([*posiciones_eventos(ultima=ultima.values(), efectivos=efectivos), *eventos_alerta])
    _contar(resultado, lecturas, fuente)
    metrics.EVALUACION.observe(time.perf_counter() - inicio)
    return resultado


def _contar(resultado: ResultadoIngesta, lecturas: Sequence[LecturaNueva], fuente: str) -> None:
    if all(lec.fuente is None for lec in lecturas):  # the usual case: one source for the call
        metrics.INGESTADAS.labels(fuente=fuente).inc(resultado.aceptadas)
        metrics.DUPLICADAS.labels(fuente=fuente).inc(resultado.duplicadas)
        if resultado.fuera_de_servicio:
            metrics.FUERA_DE_SERVICIO.labels(fuente=fuente).inc(resultado.fuera_de_servicio)
        if resultado.implausibles:
            metrics.IMPLAUSIBLES.labels(fuente=fuente).inc(len(resultado.implausibles))
        if resultado.imprecisas:
            metrics.IMPRECISAS.labels(fuente=fuente).inc(len(resultado.imprecisas))
        return
    for idx, destino in enumerate(resultado.destinos):
        de = lecturas[idx].fuente or fuente
        if destino == Destino.ACEPTADA:
            metrics.INGESTADAS.labels(fuente=de).inc()
        elif destino == Destino.DUPLICADA:
            metrics.DUPLICADAS.labels(fuente=de).inc()
        elif destino == Destino.FUERA_DE_SERVICIO:
            metrics.FUERA_DE_SERVICIO.labels(fuente=de).inc()
    for idx in resultado.implausibles:
        metrics.IMPLAUSIBLES.labels(fuente=lecturas[idx].fuente or fuente).inc()
    for idx in resultado.imprecisas:
        metrics.IMPRECISAS.labels(fuente=lecturas[idx].fuente or fuente).inc()


def _por_terceros_auditar(
    lecturas: Sequence[LecturaNueva], insertadas: dict[int, int], efectivos: dict[int, tuple[Any, ...]]
) -> None:
    """Readings stored for an efectivo by someone else (a commander, an admin) are recorded in the
    audit trail: one entry per poster and transaction, naming each efectivo's positions (a group
    commit can hold hundreds; one chained record each would serialise the ingest on the chain).
    The efectivos' own readings are not audited: they are their own record."""
    por_poster: dict[int, dict[int, list[int]]] = {}
    for idx, pid in insertadas.items():
        lec = lecturas[idx]
        if lec.registrada_por is not None:
            por_poster.setdefault(lec.registrada_por, {}).setdefault(lec.efectivo_id, []).append(pid)
    if por_poster:
        registro.lecturas_por_terceros(
            [
                (actor_id, {eid: (efectivos[eid][4], ids) for eid, ids in por_efectivo.items()})
                for actor_id, por_efectivo in por_poster.items()
            ]
        )


def _dispositivos(lecturas: Sequence[LecturaNueva], efectivos: dict[int, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """One row per device with readings here for an efectivo it may report (a rejected one
    touches nothing): the newest by device time."""
    ultimas: dict[int, LecturaNueva] = {}
    for lec in lecturas:
        if lec.dispositivo_id is None or lec.efectivo_id not in efectivos:
            continue
        previa = ultimas.get(lec.dispositivo_id)
        if previa is None or lec.registrada_en >= previa.registrada_en:
            ultimas[lec.dispositivo_id] = lec
    return [{"id": d, "r": lec.registrada_en, "b": lec.bateria_pct, "c": lec.cargando} for d, lec in ultimas.items()]


def precision_util(precision_m: float | None) -> float | None:
    """The stated error the geofences and the speed check may use: capped, so that a reading
    claiming a huge error (by fault, or to slip past a fence) cannot widen every margin."""
    return None if precision_m is None else min(precision_m, settings.PRECISION_DECIDIR_M)


def _fila_insertar(lec: LecturaNueva) -> dict[str, Any]:
    alcance = lec.alcance
    return {
        "e": lec.efectivo_id,
        "lon": lec.lon,
        "lat": lec.lat,
        "r": lec.registrada_en,
        "p": lec.precision_m,
        "v": lec.velocidad_kmh,
        "ru": lec.rumbo,
        "u": lec.id_cliente,
        "todo": alcance is None or alcance.todo,
        "un": alcance.unidad_id if alcance else None,
        "ef": alcance.efectivo_id if alcance else None,
        "rp": lec.registrada_por,
        "f": lec.fuente,
    }


def posiciones_eventos(*, ultima: Iterable[LecturaNueva], efectivos: dict[int, tuple[Any, ...]]) -> list[Publicacion]:
    """`posicion.actualizada`, one per unidad, listing its efectivos that moved. `efectivos` maps
    id -> the locked row (id, unidad_id, estado, ...)."""
    por_unidad: dict[int, list[eventos.PosicionDatos]] = {}
    for lec in ultima:
        _, unidad_id, estado, *_ = efectivos[lec.efectivo_id]
        por_unidad.setdefault(unidad_id, []).append(
            {
                "efectivo_id": lec.efectivo_id,
                "estado": estado,
                "lat": lec.lat,
                "lon": lec.lon,
                "registrada_en": iso(lec.registrada_en),
                "precision_m": lec.precision_m,
                "velocidad_kmh": lec.velocidad_kmh,
                "rumbo": lec.rumbo,
                "bateria_pct": lec.bateria_pct,
            }
        )
    return [eventos.posicion_actualizada(unidad_id=u, posiciones=p) for u, p in por_unidad.items()]
