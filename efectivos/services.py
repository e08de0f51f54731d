"""Writes for people and positions. `posiciones_registrar` is the one entry point for readings:
the API, the Telegram bot and the simulator all call it."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

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


_SQL_BLOQUEAR = """
SELECT id, unidad_id, estado, ultima_posicion_en FROM efectivos_efectivo
WHERE id = ANY(%s) ORDER BY id FOR UPDATE
"""

_SQL_INSERTAR = """
INSERT INTO efectivos_posicion
    (efectivo_id, punto, registrada_en, recibida_en, precision_m, velocidad_kmh, rumbo, fuente, id_cliente)
SELECT t.e, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326), t.r, now(), t.p, t.v, t.ru, %(fuente)s, t.u
FROM unnest(%(e)s::bigint[], %(lon)s::float8[], %(lat)s::float8[], %(r)s::timestamptz[],
            %(p)s::float8[], %(v)s::float8[], %(ru)s::float8[], %(u)s::uuid[])
     AS t(e, lon, lat, r, p, v, ru, u)
ON CONFLICT (id_cliente) DO NOTHING
RETURNING id, id_cliente
"""

_SQL_MOVER = """
UPDATE efectivos_efectivo e
SET ultima_posicion = ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326),
    ultima_posicion_en = v.r, ultima_precision_m = v.p, actualizado_en = now()
FROM unnest(%s::bigint[], %s::float8[], %s::float8[], %s::timestamptz[], %s::float8[])
     AS v(id, lon, lat, r, p)
WHERE e.id = v.id AND (e.ultima_posicion_en IS NULL OR e.ultima_posicion_en < v.r)
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
    Raises EntradaInvalida for an unknown efectivo.
    """
    resultado = ResultadoIngesta()
    if not lecturas:
        return resultado
    inicio = time.perf_counter()
    ids = sorted({lec.efectivo_id for lec in lecturas})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_SQL_BLOQUEAR, [ids])
        efectivos = {row[0]: row for row in cursor.fetchall()}
        if faltan := [i for i in ids if i not in efectivos]:
            raise EntradaInvalida("Efectivo inexistente.", detalle={"efectivos": faltan})

        cursor.execute(
            _SQL_INSERTAR,
            {
                "fuente": fuente,
                "e": [lec.efectivo_id for lec in lecturas],
                "lon": [lec.lon for lec in lecturas],
                "lat": [lec.lat for lec in lecturas],
                "r": [lec.registrada_en for lec in lecturas],
                "p": [lec.precision_m for lec in lecturas],
                "v": [lec.velocidad_kmh for lec in lecturas],
                "ru": [lec.rumbo for lec in lecturas],
                "u": [lec.id_cliente for lec in lecturas],
            },
        )
        insertadas = dict((u, pid) for pid, u in cursor.fetchall())
        resultado.aceptadas = len(insertadas)
        resultado.duplicadas = len(lecturas) - resultado.aceptadas

        # The newest new reading per efectivo, if newer than what the efectivo already had.
        vistos: set[uuid.UUID] = set()
        a_evaluar: list[LecturaEval] = []
        ultima: dict[int, LecturaNueva] = {}
        for idx, lec in enumerate(lecturas):
            if lec.id_cliente not in insertadas or lec.id_cliente in vistos:
                continue
            vistos.add(lec.id_cliente)
            _, unidad_id, _, previa_en = efectivos[lec.efectivo_id]
            if previa_en is not None and lec.registrada_en <= previa_en:
                continue  # late reading: stored, never flips state
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
            actual = ultima.get(lec.efectivo_id)
            if actual is None or lec.registrada_en > actual.registrada_en:
                ultima[lec.efectivo_id] = lec

        if ultima:
            movidas = list(ultima.values())
            cursor.execute(
                _SQL_MOVER,
                [
                    [lec.efectivo_id for lec in movidas],
                    [lec.lon for lec in movidas],
                    [lec.lat for lec in movidas],
                    [lec.registrada_en for lec in movidas],
                    [lec.precision_m for lec in movidas],
                ],
            )
        resultado.alertas = geocercas_services.geocercas_evaluar(lecturas=a_evaluar)

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
            for lec in ultima.values()
        )
    metrics.INGESTADAS.labels(fuente=fuente).inc(resultado.aceptadas)
    metrics.DUPLICADAS.labels(fuente=fuente).inc(resultado.duplicadas)
    metrics.EVALUACION.observe(time.perf_counter() - inicio)
    return resultado


def efectivo_estado_cambiar(*, efectivo: Efectivo, estado: str) -> Efectivo:
    """Set an efectivo's availability and tell their commanders."""
    with transaction.atomic():
        efectivo = Efectivo.objects.select_for_update().get(pk=efectivo.pk)
        if efectivo.estado == estado:
            return efectivo
        anterior = efectivo.estado
        efectivo.estado = estado
        efectivo.save(update_fields=["estado", "actualizado_en"])
        publish_many(
            [
                Publicacion(
                    "efectivo.estado",
                    {
                        "efectivo_id": efectivo.pk,
                        "unidad_id": efectivo.unidad_id,
                        "anterior": anterior,
                        "estado": estado,
                    },
                    grupos.de_efectivo(efectivo_id=efectivo.pk, unidad_id=efectivo.unidad_id),
                )
            ]
        )
    return efectivo
