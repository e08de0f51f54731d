"""Writes for geofences and alerts. `geocercas_evaluar` runs inside the ingest transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from efectivos.alcance import exigir_mando
from efectivos.models import Efectivo, Usuario
from gad_project.exceptions import Conflicto, NoEncontrado, NoPermitido
from gad_project.tiempo import iso
from geocercas import engine, metrics
from geocercas.engine import Cerca, EstadoPresencia, LecturaEval, Transicion
from geocercas.models import Alerta, Geocerca, Presencia, TipoAlerta
from geocercas.selectors import alertas_visibles, geocerca_editable
from mapa.services import capa_cambiada
from realtime import eventos
from realtime.services import Publicacion, publish_many

_SQL_PRESENCIAS = """
SELECT p.efectivo_id, p.geocerca_id, p.dentro, p.desde, p.permanencia_alertada,
       g.nombre, g.tipo, g.severidad, g.histeresis_m, g.permanencia_min_s
FROM geocercas_presencia p
JOIN geocercas_geocerca g ON g.id = p.geocerca_id AND g.activa
WHERE p.efectivo_id = ANY(%s) AND p.dentro
"""

_SQL_PRESENCIAS_GUARDAR = """
INSERT INTO geocercas_presencia (efectivo_id, geocerca_id, dentro, desde, permanencia_alertada)
SELECT * FROM jsonb_to_recordset(%s::jsonb)
    AS t(efectivo_id bigint, geocerca_id bigint, dentro bool, desde timestamptz, permanencia_alertada bool)
ON CONFLICT (efectivo_id, geocerca_id) DO UPDATE
SET dentro = EXCLUDED.dentro, desde = EXCLUDED.desde,
    permanencia_alertada = EXCLUDED.permanencia_alertada
"""


@dataclass
class EvaluacionEnCurso:
    """The two reads of an evaluation, sent and not yet read (see geocercas_evaluar_iniciar)."""

    candidatos: Any
    presencias: Any


def geocercas_evaluar_iniciar(*, lecturas: Sequence[LecturaEval]) -> EvaluacionEnCurso | None:
    """Send the reads an evaluation needs: the fences near each reading (the engine's set-based
    query) and who is inside what. In pipeline mode (gad_project.bd.tuberia) they travel with the
    caller's next statements; geocercas_evaluar_terminar reads them."""
    if not lecturas:
        return None
    candidatos = connection.cursor()
    candidatos.execute(engine._SQL_CANDIDATOS, engine.candidatos_parametros(lecturas))
    presencias = connection.cursor()
    presencias.execute(_SQL_PRESENCIAS, [sorted({lec.efectivo_id for lec in lecturas})])
    return EvaluacionEnCurso(candidatos, presencias)


def geocercas_evaluar_terminar(
    en_curso: EvaluacionEnCurso | None,
    *,
    lecturas: Sequence[LecturaEval],
    nombres: dict[int, str] | None = None,
) -> tuple[list[AlertaNueva], list[Publicacion]]:
    """Run the Schmitt trigger over `lecturas` (those of the readings sent to
    geocercas_evaluar_iniciar that were stored and are newer than the last evaluated), store presence changes and alerts, and return the alerts with their
    `alerta.geocerca` events for the caller to publish. Must run inside the caller's transaction,
    with the efectivos' rows locked (posiciones_registrar does both). `nombres`: see
    _alertas_crear."""
    if en_curso is None:
        return [], []
    muestras, cercas = engine.candidatos_leer(en_curso.candidatos.fetchall())
    presencias: dict[int, dict[int, EstadoPresencia]] = {}
    for eid, gid, dentro, desde, alertada, nombre, tipo, sev, hist, perm in en_curso.presencias.fetchall():
        presencias.setdefault(eid, {})[gid] = EstadoPresencia(dentro, desde, alertada)
        cercas.setdefault(gid, Cerca(gid, nombre, tipo, sev, hist, perm))
    if not lecturas:
        return [], []
    transiciones = engine.transiciones_calcular(
        lecturas=lecturas, muestras=muestras, cercas=cercas, presencias=presencias
    )
    _presencias_guardar(presencias)
    return _alertas_crear([t for t in transiciones if t.alerta], cercas, nombres)


def _presencias_guardar(presencias: dict[int, dict[int, EstadoPresencia]]) -> None:
    filas = [
        {
            "efectivo_id": eid,
            "geocerca_id": gid,
            "dentro": st.dentro,
            "desde": st.desde,
            "permanencia_alertada": st.permanencia_alertada,
        }
        for eid, estados in presencias.items()
        for gid, st in estados.items()
        if st.cambiado
    ]
    if not filas:
        return
    # Not fetched: in pipeline mode it travels with the alerts' INSERT.
    connection.cursor().execute(_SQL_PRESENCIAS_GUARDAR, [orjson.dumps(filas).decode()])


_SQL_ALERTAS = """
INSERT INTO geocercas_alerta (tipo, efectivo_id, geocerca_id, posicion_id, punto, ocurrida_en, creada_en, severidad)
SELECT t.tipo, t.e, t.g, t.p, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326), t.o, %s, t.s
FROM ROWS FROM (jsonb_to_recordset(%s::jsonb)
       AS (tipo text, e bigint, g bigint, p bigint, lon float8, lat float8, o timestamptz, s text))
     WITH ORDINALITY AS t(tipo, e, g, p, lon, lat, o, s, n)
ORDER BY t.n
RETURNING id
"""

_SQL_NOMBRES = "SELECT id, apellido || ', ' || nombre, unidad_id FROM efectivos_efectivo WHERE id = ANY(%s)"


@dataclass(frozen=True, slots=True)
class AlertaNueva:
    """An alert just stored (the row is a geocercas.Alerta): what the ingest returns, built
    without the ORM because a batch through dense fences may raise hundreds."""

    id: int
    tipo: str
    efectivo_id: int
    geocerca_id: int
    severidad: str
    ocurrida_en: datetime
    lon: float | None
    lat: float | None


def _alertas_crear(
    transiciones: Sequence[Transicion],
    cercas: dict[int, Cerca],
    nombres: dict[int, str] | None = None,
) -> tuple[list[AlertaNueva], list[Publicacion]]:
    """Insert the alerts in one statement; returns them with one `alerta.geocerca` event each,
    for the caller to publish. `nombres` ({efectivo_id: "Apellido, Nombre"}) saves a query when
    the caller already read them."""
    if not transiciones:
        return [], []
    filas: list[dict[str, Any]] = [
        {
            "tipo": t.tipo,
            "e": t.efectivo_id,
            "g": t.geocerca_id,
            "p": t.lectura.posicion_id if t.lectura else None,
            "lon": t.lectura.lon if t.lectura else None,
            "lat": t.lectura.lat if t.lectura else None,
            "o": t.ocurrida_en,
            "s": cercas[t.geocerca_id].severidad,
        }
        for t in transiciones
    ]
    unidades = {t.efectivo_id: t.lectura.unidad_id for t in transiciones if t.lectura}
    with connection.cursor() as cursor:
        cursor.execute(_SQL_ALERTAS, [timezone.now(), orjson.dumps(filas).decode()])
        # Ids come from a sequence in insertion order, and rows are inserted in list order.
        ids = sorted(fila[0] for fila in cursor.fetchall())
        faltan = sorted({t.efectivo_id for t in transiciones} - (set(unidades) & set(nombres or {})))
        if faltan:
            cursor.execute(_SQL_NOMBRES, [faltan])
            nombres = dict(nombres or {})
            for eid, nombre, unidad_id in cursor.fetchall():
                nombres[eid] = nombre
                unidades[eid] = unidad_id
    assert nombres is not None
    alertas = [
        AlertaNueva(pk, f["tipo"], f["e"], f["g"], f["s"], f["o"], f["lon"], f["lat"])
        for pk, f in zip(ids, filas, strict=True)
    ]
    publicaciones = [
        eventos.alerta_geocerca(
            alerta_datos(
                alerta,
                efectivo_nombre=nombres[alerta.efectivo_id],
                unidad_id=unidades[alerta.efectivo_id],
                geocerca_nombre=cercas[alerta.geocerca_id].nombre,
            )
        )
        for alerta in alertas
    ]
    for alerta in alertas:
        metrics.ALERTAS.labels(tipo=alerta.tipo).inc()
    return alertas, publicaciones


def alerta_datos(
    alerta: AlertaNueva, *, efectivo_nombre: str, unidad_id: int, geocerca_nombre: str
) -> eventos.AlertaDatos:
    return {
        "alerta_id": alerta.id,
        "tipo": alerta.tipo,
        "severidad": alerta.severidad,
        "efectivo_id": alerta.efectivo_id,
        "efectivo": efectivo_nombre,
        "unidad_id": unidad_id,
        "geocerca_id": alerta.geocerca_id,
        "geocerca": geocerca_nombre,
        "lat": alerta.lat,
        "lon": alerta.lon,
        "ocurrida_en": iso(alerta.ocurrida_en),
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
            cerca = Cerca(g.pk, g.nombre, g.tipo, g.severidad, g.histeresis_m, g.permanencia_min_s)
            estado = EstadoPresencia(p.dentro, p.desde, p.permanencia_alertada)
            if engine.permanencia_vencida(cerca=cerca, estado=estado, ahora=ahora):
                cercas[g.pk] = cerca
                vencidas.append(Transicion(TipoAlerta.PERMANENCIA, p.efectivo_id, g.pk, None, ahora, True))
                alertadas.append(p.pk)
        Presencia.objects.filter(pk__in=alertadas).update(permanencia_alertada=True)
        alertas, publicaciones = _alertas_crear(vencidas, cercas)
        publish_many(publicaciones)
        return alertas


def alerta_reconocer(*, alerta_id: int, usuario: Usuario) -> Alerta:
    """Record who acknowledged an alert and when; tell everyone who sees it."""
    exigir_mando(usuario, "Solo comandantes o administradores reconocen alertas.")
    with transaction.atomic():
        alerta = (
            alertas_visibles(usuario=usuario)
            .select_for_update(of=("self",))
            .select_related("efectivo")
            .filter(pk=alerta_id)
            .first()
        )
        if alerta is None:
            raise NoEncontrado("Alerta inexistente o fuera de su alcance.")
        if alerta.reconocida_en is not None:
            raise Conflicto(
                "La alerta ya fue reconocida.",
                detalle={"reconocida_por": alerta.reconocida_por_id, "reconocida_en": iso(alerta.reconocida_en)},
                codigo="alerta_ya_reconocida",
            )
        alerta.reconocida_por = usuario
        alerta.reconocida_en = timezone.now()
        alerta.save(update_fields=["reconocida_por", "reconocida_en"])
        publish_many([_reconocida(alerta, usuario)])
    return alerta


def alertas_reconocer(*, usuario: Usuario, hasta_id: int, ids: Sequence[int] | None = None) -> list[int]:
    """Acknowledge at once every pending alert the commander sees up to `hasta_id` (the newest one
    on their screen: one that arrives meanwhile is not acknowledged unseen), or only `ids` among
    them. One statement; one `alerta.reconocida` per alert. Returns the ids acknowledged."""
    exigir_mando(usuario, "Solo comandantes o administradores reconocen alertas.")
    with transaction.atomic():
        qs = alertas_visibles(usuario=usuario).filter(reconocida_en__isnull=True, pk__lte=hasta_id)
        if ids is not None:
            qs = qs.filter(pk__in=list(ids))
        pendientes = list(qs.select_for_update(of=("self",), skip_locked=True).select_related("efectivo"))
        ahora = timezone.now()
        Alerta.objects.filter(pk__in=[a.pk for a in pendientes]).update(reconocida_por=usuario, reconocida_en=ahora)
        for alerta in pendientes:
            alerta.reconocida_por, alerta.reconocida_en = usuario, ahora
        if pendientes:
            publish_many([_reconocida(a, usuario) for a in pendientes])
    return sorted(a.pk for a in pendientes)


def _reconocida(alerta: Alerta, usuario: Usuario) -> Publicacion:
    assert alerta.reconocida_en is not None
    return eventos.alerta_reconocida(
        datos={
            "alerta_id": alerta.pk,
            "reconocida_por": usuario.get_full_name() or usuario.get_username(),
            "reconocida_en": iso(alerta.reconocida_en),
        },
        efectivo_id=alerta.efectivo_id,
        unidad_id=alerta.efectivo.unidad_id,
    )


def _unidades_permitidas(usuario: Usuario, geocerca: Geocerca, unidades: Iterable[int] | None) -> list[int] | None:
    """Admins scope a fence to any unidades; a commander creates and edits only fences of exactly
    their own unidad (and a fence they create with no unidad is theirs)."""
    alcance = exigir_mando(usuario, "Solo comandantes o administradores modifican geocercas.")
    pedidas = None if unidades is None else list(unidades)
    if alcance.todo:
        return pedidas
    if geocerca.pk and not geocerca_editable(usuario=usuario, geocerca=geocerca):
        raise NoPermitido("Solo puede modificar geocercas de su propia unidad.")
    if pedidas and pedidas != [alcance.unidad_id]:
        raise NoPermitido("Un comandante solo crea geocercas para su propia unidad.")
    if geocerca.pk and pedidas is None:
        return None
    assert alcance.unidad_id is not None
    return [alcance.unidad_id]


def geocerca_guardar(
    *, geocerca: Geocerca, unidades: Iterable[int] | None = None, usuario: Usuario | None = None
) -> Geocerca:
    """Create or update a fence, as `usuario` (whose scope is enforced; None for the system: the
    demo loader). Every change bumps `version` (tile caches are keyed by it); deactivating a fence
    forgets who was inside, so reactivating it starts fresh."""
    if usuario is not None:
        unidades = _unidades_permitidas(usuario, geocerca, unidades)
    with transaction.atomic():
        if geocerca.pk:
            geocerca.version = F("version") + 1
        geocerca.save()
        geocerca.refresh_from_db(fields=["version"])
        if unidades is not None:
            geocerca.unidades.set(unidades)
        if not geocerca.activa:
            Presencia.objects.filter(geocerca=geocerca).delete()
        publish_many(
            [
                eventos.geocerca_actualizada(
                    datos={"geocerca_id": geocerca.pk, "version": geocerca.version, "activa": geocerca.activa},
                    unidades=list(geocerca.unidades.values_list("pk", flat=True)),
                )
            ]
        )
        transaction.on_commit(lambda: capa_cambiada(capa="geocercas"))
    return geocerca


def geocerca_eliminar(*, geocerca: Geocerca, usuario: Usuario | None = None) -> None:
    if usuario is not None:
        exigir_mando(usuario, "Solo comandantes o administradores eliminan geocercas.")
        if not geocerca_editable(usuario=usuario, geocerca=geocerca):
            raise NoPermitido("Solo puede eliminar geocercas de su propia unidad.")
    with transaction.atomic():
        unidades = list(geocerca.unidades.values_list("pk", flat=True))
        publish_many([eventos.geocerca_eliminada(geocerca_id=geocerca.pk, unidades=unidades)])
        geocerca.delete()
        transaction.on_commit(lambda: capa_cambiada(capa="geocercas"))
