"""Evaluation at ingest, inside the ingest transaction (`geocercas_evaluar_iniciar` sends the
engine's reads, `geocercas_evaluar_terminar` stores presences and alerts and builds their events),
and the dwell sweep that raises `permanencia` alerts between readings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils import timezone

from efectivos.models import Efectivo
from gad_project.tiempo import iso
from geocercas import engine, metrics
from geocercas.engine import Cerca, Cruce, EstadoPresencia, Fijo, Horario, LecturaEval, Transicion
from geocercas.models import EstadoAlerta, Presencia, TipoAlerta
from realtime import eventos
from realtime.services import Publicacion, publish_many

_SQL_PRESENCIAS = """
SELECT p.efectivo_id, p.geocerca_id, p.dentro, p.desde, p.permanencia_alertada, p.pendientes, p.pendiente_desde,
       p.evidencia, g.nombre, g.tipo, g.severidad, g.histeresis_m, g.permanencia_min_s,
       g.horario_dias, g.horario_desde, g.horario_hasta, g.confirmar_lecturas, g.entrada_min_s, {aplica} AS aplica
FROM geocercas_presencia p
JOIN geocercas_geocerca g ON g.id = p.geocerca_id AND g.activa
JOIN efectivos_efectivo e ON e.id = p.efectivo_id
WHERE p.efectivo_id = ANY(%s) AND (p.dentro OR p.pendientes > 0)
""".format(aplica=engine.sql_aplica("g", "p.efectivo_id", "e.unidad_id"))

_SQL_PRESENCIAS_GUARDAR = """
INSERT INTO geocercas_presencia (efectivo_id, geocerca_id, dentro, desde, permanencia_alertada, pendientes,
                                 pendiente_desde, evidencia)
SELECT * FROM jsonb_to_recordset(%s::jsonb)
    AS t(efectivo_id bigint, geocerca_id bigint, dentro bool, desde timestamptz, permanencia_alertada bool,
         pendientes int, pendiente_desde timestamptz, evidencia jsonb)
ON CONFLICT (efectivo_id, geocerca_id) DO UPDATE
SET dentro = EXCLUDED.dentro, desde = EXCLUDED.desde,
    permanencia_alertada = EXCLUDED.permanencia_alertada, pendientes = EXCLUDED.pendientes,
    pendiente_desde = EXCLUDED.pendiente_desde, evidencia = EXCLUDED.evidencia
"""


@dataclass
class EvaluacionEnCurso:
    """The reads of an evaluation, sent and not yet read (see geocercas_evaluar_iniciar)."""

    candidatos: Any
    presencias: Any
    cruces: Any


def geocercas_evaluar_iniciar(*, lecturas: Sequence[LecturaEval]) -> EvaluacionEnCurso | None:
    """Send the reads an evaluation needs: the fences near each reading (the engine's set-based
    query) and who is inside what. In pipeline mode (gad_project.bd.tuberia) they travel with the
    caller's next statements; geocercas_evaluar_terminar reads them."""
    if not lecturas:
        return None
    parametros = engine.candidatos_parametros(lecturas)
    candidatos = connection.cursor()
    candidatos.execute(engine.SQL_CANDIDATOS, parametros)
    presencias = connection.cursor()
    presencias.execute(_SQL_PRESENCIAS, [sorted({lec.efectivo_id for lec in lecturas})])
    cruces = connection.cursor()
    cruces.execute(engine.SQL_CRUCES, parametros)
    return EvaluacionEnCurso(candidatos, presencias, cruces)


def geocercas_evaluar_terminar(
    en_curso: EvaluacionEnCurso | None,
    *,
    lecturas: Sequence[LecturaEval],
    nombres: dict[int, str] | None = None,
    anteriores: dict[int, Fijo] | None = None,
) -> tuple[list[AlertaNueva], list[Publicacion]]:
    """Run the Schmitt trigger over `lecturas` (those of the readings sent to
    geocercas_evaluar_iniciar that were stored and are newer than the last evaluated), store presence changes and alerts, and return the alerts with their
    `alerta.geocerca` events for the caller to publish. Must run inside the caller's transaction,
    with the efectivos' rows locked (posiciones_registrar does both). `nombres`: see
    _alertas_crear. `anteriores`: each efectivo's last evaluated fix before `lecturas` (see
    engine.transiciones_calcular)."""
    if en_curso is None:
        return [], []
    muestras, cercas = engine.candidatos_leer(en_curso.candidatos.fetchall())
    presencias: dict[int, dict[int, EstadoPresencia]] = {}
    for (
        eid,
        gid,
        dentro,
        desde,
        alertada,
        pendientes,
        pendiente_desde,
        evidencia,
        nombre,
        tipo,
        sev,
        hist,
        perm,
        *horario,
        confirmar,
        entrada_min_s,
        aplica,
    ) in en_curso.presencias.fetchall():
        if not aplica:
            # The fence stopped applying to them (their task's assignment ended, they were taken
            # off its list): forgotten without a transition, so leaving it later raises nothing.
            presencias.setdefault(eid, {})[gid] = EstadoPresencia(False, desde, cambiado=True)
            continue
        presencias.setdefault(eid, {})[gid] = EstadoPresencia(
            dentro, desde, alertada, pendientes, pendiente_desde, *_evidencia_leer(evidencia)
        )
        cercas.setdefault(
            gid, Cerca(gid, nombre, tipo, sev, hist, perm, Horario.de(*horario), confirmar, entrada_min_s)
        )
    cruces = engine.cruces_leer(en_curso.cruces.fetchall(), cercas)
    if not lecturas:
        return [], []
    transiciones = engine.transiciones_calcular(
        lecturas=lecturas,
        muestras=muestras,
        cercas=cercas,
        presencias=presencias,
        cruces=_cruces_validos(cruces, lecturas),
        anteriores=anteriores,
    )
    _presencias_guardar(presencias)
    return _alertas_crear([t for t in transiciones if t.alerta], cercas, nombres)


def _cruces_validos(cruces: dict[int, list[Cruce]], lecturas: Sequence[LecturaEval]) -> dict[int, list[Cruce]]:
    """Only crossings whose segment starts at the previous evaluated fix: the SQL chained every
    reading sent, and some were then not evaluated (late, duplicate or implausible)."""
    if not cruces:
        return {}
    previo: dict[int, int | None] = {}
    por_efectivo: dict[int, list[LecturaEval]] = {}
    for lec in lecturas:
        por_efectivo.setdefault(lec.efectivo_id, []).append(lec)
    for propias in por_efectivo.values():
        anterior = None
        for lec in sorted(propias, key=lambda x: (x.registrada_en, x.idx)):  # the SQL's order
            previo[lec.idx], anterior = anterior, lec.idx
    return {
        idx: validos
        for idx, lista in cruces.items()
        if idx in previo and (validos := [c for c in lista if c.previo_idx == previo[idx]])
    }


def _fijo_fila(f: Fijo | None) -> list[Any] | None:
    return None if f is None else [f.lon, f.lat, f.en, f.precision_m, f.posicion_id]


def _evidencia_leer(evidencia: str | None) -> tuple[Fijo | None, Fijo | None]:
    """Presencia.evidencia (its JSON text, as a raw query reads it) as (the pending fix, the one
    before it)."""

    def fijo(fila: list[Any] | None) -> Fijo | None:
        if not fila:
            return None
        lon, lat, en, precision, posicion_id = fila
        return Fijo(lon, lat, datetime.fromisoformat(en), precision, posicion_id)

    if not evidencia:
        return None, None
    datos = orjson.loads(evidencia)
    return fijo(datos.get("x")), fijo(datos.get("p"))


def _presencias_guardar(presencias: dict[int, dict[int, EstadoPresencia]]) -> None:
    filas = [
        {
            "efectivo_id": eid,
            "geocerca_id": gid,
            "dentro": st.dentro,
            "desde": st.desde,
            "permanencia_alertada": st.permanencia_alertada,
            "pendientes": st.pendientes,
            "pendiente_desde": st.pendiente_desde,
            "evidencia": {"x": _fijo_fila(st.pendiente), "p": _fijo_fila(st.previa)} if st.pendiente else None,
        }
        for eid, estados in presencias.items()
        for gid, st in estados.items()
        if st.cambiado
    ]
    if not filas:
        return
    # Not fetched: in pipeline mode it travels with the alerts' INSERT.
    connection.cursor().execute(_SQL_PRESENCIAS_GUARDAR, [orjson.dumps(filas).decode()])


# One open alert per (efectivo, geocerca, tipo): the same transition again while it is open counts
# a repeat on it (rows are unique per key: _alertas_crear folds a batch's repeats first).
_SQL_ALERTAS = """
INSERT INTO geocercas_alerta AS a (tipo, efectivo_id, geocerca_id, posicion_id, punto, ocurrida_en, ultima_en,
                                   repeticiones, creada_en, severidad, estado, cruce, silenciada)
SELECT t.tipo, t.e, t.g, t.p, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326), t.o, t.u, t.n, %(ahora)s, t.s, 'pendiente',
       t.c, coalesce(g.silenciada_hasta > %(ahora)s, false)
FROM ROWS FROM (jsonb_to_recordset(%(filas)s::jsonb)
       AS (tipo text, e bigint, g bigint, p bigint, lon float8, lat float8, o timestamptz, u timestamptz,
           n int, s text, c bool))
     WITH ORDINALITY AS t(tipo, e, g, p, lon, lat, o, u, n, s, c, orden)
LEFT JOIN geocercas_geocerca g ON g.id = t.g
ORDER BY t.orden
ON CONFLICT (efectivo_id, geocerca_id, tipo) WHERE NOT (estado = 'resuelta')
DO UPDATE SET repeticiones = a.repeticiones + EXCLUDED.repeticiones,
              ultima_en = GREATEST(a.ultima_en, EXCLUDED.ultima_en),
              punto = COALESCE(EXCLUDED.punto, a.punto),
              posicion_id = COALESCE(EXCLUDED.posicion_id, a.posicion_id)
RETURNING a.id, a.efectivo_id, a.geocerca_id, a.tipo, a.repeticiones, a.estado, a.ocurrida_en, a.ultima_en,
          a.cruce, a.xmax = 0 AS nueva, a.silenciada, a.lugar
"""

_SQL_NOMBRES = "SELECT id, apellido || ', ' || nombre, unidad_id FROM efectivos_efectivo WHERE id = ANY(%s)"


@dataclass(frozen=True, slots=True)
class AlertaNueva:
    """An alert just raised or repeated (the row is a geocercas.Alerta): what the ingest returns,
    built without the ORM because a batch through dense fences may raise hundreds."""

    id: int
    tipo: str
    efectivo_id: int
    geocerca_id: int
    severidad: str
    ocurrida_en: datetime
    ultima_en: datetime
    lon: float | None
    lat: float | None
    repeticiones: int = 1
    estado: str = EstadoAlerta.PENDIENTE
    nueva: bool = True
    cruce: bool = False  # inferred from the segment between two fixes
    silenciada: bool = False  # its fence was silenced: recorded, not sounded, notified or escalated
    lugar: str = ""  # named by the row's trigger (mapa.campos.LugarField); empty without an extract


def _alertas_crear(
    transiciones: Sequence[Transicion],
    cercas: dict[int, Cerca],
    nombres: dict[int, str] | None = None,
) -> tuple[list[AlertaNueva], list[Publicacion]]:
    """Raise the alerts in one statement, or count them as repeats on the open alert of the same
    (efectivo, geocerca, tipo). Returns them with one event each for the caller to publish:
    `alerta.geocerca` for a new alert, `alerta.repetida` for a repeat. `nombres`
    ({efectivo_id: "Apellido, Nombre"}) saves a query when the caller already read them."""
    if not transiciones:
        return [], []
    filas: dict[tuple[int, int, str], dict[str, Any]] = {}
    for t in transiciones:  # in time order per efectivo: the first is the alert, the last its place
        clave = (t.efectivo_id, t.geocerca_id, t.tipo)
        lugar = {
            "p": t.lectura.posicion_id if t.lectura else None,
            "lon": t.lectura.lon if t.lectura else None,
            "lat": t.lectura.lat if t.lectura else None,
            "u": t.ocurrida_en,
        }
        if clave in filas:
            filas[clave].update(lugar, n=filas[clave]["n"] + 1)
        else:
            filas[clave] = {
                "tipo": t.tipo,
                "e": t.efectivo_id,
                "g": t.geocerca_id,
                "o": t.ocurrida_en,
                "n": 1,
                "c": t.cruce,
            }
            filas[clave].update(lugar, s=cercas[t.geocerca_id].severidad)
    unidades = {t.efectivo_id: t.lectura.unidad_id for t in transiciones if t.lectura}
    with connection.cursor() as cursor:
        cursor.execute(_SQL_ALERTAS, {"ahora": timezone.now(), "filas": orjson.dumps(list(filas.values())).decode()})
        guardadas = cursor.fetchall()
        faltan = sorted({t.efectivo_id for t in transiciones} - (set(unidades) & set(nombres or {})))
        if faltan:
            cursor.execute(_SQL_NOMBRES, [faltan])
            nombres = dict(nombres or {})
            for eid, nombre, unidad_id in cursor.fetchall():
                nombres[eid] = nombre
                unidades[eid] = unidad_id
    assert nombres is not None
    alertas = []
    for pk, eid, gid, tipo, repeticiones, estado, ocurrida_en, ultima_en, cruce, nueva, silenciada, lugar in sorted(
        guardadas
    ):
        f = filas[(eid, gid, tipo)]
        alertas.append(
            AlertaNueva(
                pk,
                tipo,
                eid,
                gid,
                f["s"],
                ocurrida_en,
                ultima_en,
                f["lon"],
                f["lat"],
                repeticiones,
                estado,
                nueva,
                cruce,
                silenciada,
                lugar,
            )
        )
    publicaciones = []
    for alerta in alertas:
        datos = alerta_datos(
            alerta,
            efectivo_nombre=nombres[alerta.efectivo_id],
            unidad_id=unidades[alerta.efectivo_id],
            geocerca_nombre=cercas[alerta.geocerca_id].nombre,
        )
        publicaciones.append(eventos.alerta_geocerca(datos) if alerta.nueva else eventos.alerta_repetida(datos))
        metrics.ALERTAS.labels(tipo=alerta.tipo).inc()
    return alertas, publicaciones


def alerta_datos(
    alerta: AlertaNueva, *, efectivo_nombre: str, unidad_id: int, geocerca_nombre: str
) -> eventos.AlertaDatos:
    return {
        "alerta_id": alerta.id,
        "tipo": alerta.tipo,
        "severidad": alerta.severidad,
        "estado": alerta.estado,
        "repeticiones": alerta.repeticiones,
        "efectivo_id": alerta.efectivo_id,
        "efectivo": efectivo_nombre,
        "unidad_id": unidad_id,
        "geocerca_id": alerta.geocerca_id,
        "geocerca": geocerca_nombre,
        "lat": alerta.lat,
        "lon": alerta.lon,
        "ocurrida_en": iso(alerta.ocurrida_en),
        "ultima_en": iso(alerta.ultima_en),
        "cruce": alerta.cruce,
        "silenciada": alerta.silenciada,
        "lugar": alerta.lugar or None,
    }


def permanencias_verificar(*, ahora: datetime | None = None) -> list[AlertaNueva]:
    """Fire dwell alerts for stays that completed without a new reading (periodic task).

    Locks the efectivos concerned (SKIP LOCKED: one in the middle of an ingest is checked by that
    ingest itself, or by the next sweep), then re-reads their presence under the lock."""
    ahora = ahora or timezone.now()
    with transaction.atomic():
        candidatas = list(
            Presencia.objects.filter(
                dentro=True,
                permanencia_alertada=False,
                geocerca__activa=True,
                geocerca__permanencia_min_s__isnull=False,
            )
            .values_list("efectivo_id", flat=True)
            .distinct()
        )
        if not candidatas:
            return []
        bloqueados = list(
            Efectivo.objects.select_for_update(skip_locked=True)
            .filter(pk__in=candidatas)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        vencidas: list[Transicion] = []
        cercas: dict[int, Cerca] = {}
        alertadas: list[int] = []
        presencias = (
            Presencia.objects.filter(efectivo_id__in=bloqueados, dentro=True, permanencia_alertada=False)
            .filter(geocerca__activa=True, geocerca__permanencia_min_s__isnull=False)
            .select_related("geocerca")
        )
        for p in presencias:
            g = p.geocerca
            cerca = Cerca(
                g.pk,
                g.nombre,
                g.tipo,
                g.severidad,
                g.histeresis_m,
                g.permanencia_min_s,
                Horario.de(g.horario_dias, g.horario_desde, g.horario_hasta),
            )
            estado = EstadoPresencia(p.dentro, p.desde, p.permanencia_alertada)
            if engine.permanencia_vencida(cerca=cerca, estado=estado, ahora=ahora):
                cercas[g.pk] = cerca
                vencidas.append(Transicion(TipoAlerta.PERMANENCIA, p.efectivo_id, g.pk, None, ahora, True))
                alertadas.append(p.pk)
        Presencia.objects.filter(pk__in=alertadas).update(permanencia_alertada=True)
        alertas, publicaciones = _alertas_crear(vencidas, cercas)
        publish_many(publicaciones)
        return alertas
