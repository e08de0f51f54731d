"""Writes for people and positions. `posiciones_registrar` is the one entry point for readings:
the API, the Telegram bot and the simulator all call it."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from django.db import connection, transaction

from efectivos import metrics
from efectivos.models import Efectivo, FuentePosicion
from gad_project.exceptions import EntradaInvalida
from geocercas import services as geocercas_services
from geocercas.engine import LecturaEval
from geocercas.models import Alerta
from realtime import grupos
from realtime.services import Publicacion, publish_many


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


@dataclass
class ResultadoIngesta:
    aceptadas: int = 0
    duplicadas: int = 0
    alertas: list[Alerta] = field(default_factory=list)


_SQL_INSERTAR = """
INSERT INTO efectivos_posicion
    (efectivo_id, punto, registrada_en, recibida_en, precision_m, velocidad_kmh, rumbo, fuente, id_cliente)
SELECT t.e, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326), t.r, now(), t.p, t.v, t.ru, %s, t.u
FROM jsonb_to_recordset(%s::jsonb)
     AS t(e bigint, lon float8, lat float8, r timestamptz, p float8, v float8, ru float8, u uuid)
ON CONFLICT (id_cliente) DO NOTHING
RETURNING id, id_cliente
"""

# Locks the batch's efectivos (in id order, so concurrent batches cannot deadlock) and moves each
# one's last position forward in device time, in one statement. `previa` is the last evaluated
# device time before this batch: FOR UPDATE in the subquery waits for a concurrent batch of the
# same efectivo and then reads the version it committed.
_SQL_MOVER = """
UPDATE efectivos_efectivo e
SET ultima_posicion = CASE WHEN o.previa IS NULL OR o.previa < v.r
                           THEN ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326) ELSE e.ultima_posicion END,
    ultima_precision_m = CASE WHEN o.previa IS NULL OR o.previa < v.r THEN v.p ELSE e.ultima_precision_m END,
    ultima_posicion_en = GREATEST(o.previa, v.r),
    actualizado_en = now()
FROM (SELECT id, ultima_posicion_en AS previa FROM efectivos_efectivo
      WHERE id = ANY(%s) ORDER BY id FOR UPDATE) AS o,
     jsonb_to_recordset(%s::jsonb) AS v(id bigint, lon float8, lat float8, r timestamptz, p float8)
WHERE e.id = o.id AND e.id = v.id
RETURNING e.id, e.unidad_id, e.estado, o.previa
"""


def posiciones_registrar(*, lecturas: list[LecturaNueva], fuente: str = FuentePosicion.API) -> ResultadoIngesta:
    """Store readings and react to them, in one transaction.

    - Inserted set-based; a reading whose id_cliente is already stored is a duplicate (no effect),
      so a phone may retry a batch after a timeout.
    - Each efectivo's last position only moves forward in device time.
    - Geofences are evaluated for the new readings newer than the efectivo's last evaluated one, in
      device-time order; older (late) readings are stored but flip no state.
    - Publishes `posicion.actualizada` (one per efectivo that moved) and `alerta.geocerca`.

    The efectivos' rows are locked (in id order, so concurrent batches cannot deadlock) for the
    whole transaction: batches for the same efectivo are evaluated one after the other.
    Round trips do not grow with the batch: about nine statements for any size.
    Raises EntradaInvalida for an unknown efectivo.
    """
    resultado = ResultadoIngesta()
    if not lecturas:
        return resultado
    inicio = time.perf_counter()
    # The newest reading of each efectivo in the batch. A duplicate cannot be newer than the
    # efectivo's last position: when first stored, it already moved it (positions only go forward).
    ultima: dict[int, LecturaNueva] = {}
    for lec in lecturas:
        actual = ultima.get(lec.efectivo_id)
        if actual is None or lec.registrada_en > actual.registrada_en:
            ultima[lec.efectivo_id] = lec

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _SQL_MOVER,
            [
                sorted(ultima),
                orjson.dumps(
                    [
                        {
                            "id": lec.efectivo_id,
                            "lon": lec.lon,
                            "lat": lec.lat,
                            "r": lec.registrada_en,
                            "p": lec.precision_m,
                        }
                        for lec in ultima.values()
                    ]
                ).decode(),
            ],
        )
        efectivos = {fila[0]: fila for fila in cursor.fetchall()}  # id, unidad_id, estado, previa
        if faltan := sorted(set(ultima) - set(efectivos)):
            raise EntradaInvalida("Efectivo inexistente.", detalle={"efectivos": faltan})

        filas = [
            {
                "e": lec.efectivo_id,
                "lon": lec.lon,
                "lat": lec.lat,
                "r": lec.registrada_en,
                "p": lec.precision_m,
                "v": lec.velocidad_kmh,
                "ru": lec.rumbo,
                "u": lec.id_cliente,
            }
            for lec in lecturas
        ]
        cursor.execute(_SQL_INSERTAR, [fuente, orjson.dumps(filas).decode()])
        insertadas = {u: pid for pid, u in cursor.fetchall()}
        resultado.aceptadas = len(insertadas)
        resultado.duplicadas = len(lecturas) - resultado.aceptadas

        # New readings newer than what was last evaluated go to the geofence engine; late ones are
        # stored and flip nothing.
        vistas: set[uuid.UUID] = set()
        a_evaluar: list[LecturaEval] = []
        for idx, lec in enumerate(lecturas):
            if lec.id_cliente not in insertadas or lec.id_cliente in vistas:
                continue
            vistas.add(lec.id_cliente)
            _, unidad_id, _, previa = efectivos[lec.efectivo_id]
            if previa is not None and lec.registrada_en <= previa:
                continue
            a_evaluar.append(
                LecturaEval(
                    idx=idx,
                    efectivo_id=lec.efectivo_id,
                    unidad_id=unidad_id,
                    lon=lec.lon,
                    lat=lec.lat,
                    registrada_en=lec.registrada_en,
                    precision_m=lec.precision_m,
                    posicion_id=insertadas[lec.id_cliente],
                )
            )
        resultado.alertas = geocercas_services.geocercas_evaluar(lecturas=a_evaluar)

        movidas = [
            lec
            for eid, lec in ultima.items()
            if lec.id_cliente in insertadas and (efectivos[eid][3] is None or lec.registrada_en > efectivos[eid][3])
        ]
        publish_many(
            Publicacion(
                "posicion.actualizada",
                {
                    "efectivo_id": lec.efectivo_id,
                    "unidad_id": efectivos[lec.efectivo_id][1],
                    "estado": efectivos[lec.efectivo_id][2],
                    "lat": lec.lat,
                    "lon": lec.lon,
                    "registrada_en": lec.registrada_en.isoformat(),
                    "precision_m": lec.precision_m,
                    "velocidad_kmh": lec.velocidad_kmh,
                    "rumbo": lec.rumbo,
                },
                grupos.mando_de_unidad(efectivos[lec.efectivo_id][1]),
            )
            for lec in movidas
        )
    metrics.INGESTADAS.labels(fuente=fuente).inc(resultado.aceptadas)
    metrics.DUPLICADAS.labels(fuente=fuente).inc(resultado.duplicadas)
    metrics.EVALUACION.observe(time.perf_counter() - inicio)
    return resultado


def efectivo_estado_evento(*, efectivo: Efectivo, anterior: str, estado: str) -> Publicacion:
    """The `efectivo.estado` event, for the efectivo and those who command them."""
    return Publicacion(
        "efectivo.estado",
        {"efectivo_id": efectivo.pk, "unidad_id": efectivo.unidad_id, "anterior": anterior, "estado": estado},
        grupos.de_efectivo(efectivo_id=efectivo.pk, unidad_id=efectivo.unidad_id),
    )


def efectivo_estado_cambiar(*, efectivo: Efectivo, estado: str) -> Efectivo:
    """Set an efectivo's availability and tell their commanders."""
    with transaction.atomic():
        efectivo = Efectivo.objects.select_for_update().get(pk=efectivo.pk)
        if efectivo.estado == estado:
            return efectivo
        anterior = efectivo.estado
        efectivo.estado = estado
        efectivo.save(update_fields=["estado", "actualizado_en"])
        publish_many([efectivo_estado_evento(efectivo=efectivo, anterior=anterior, estado=estado)])
    return efectivo
