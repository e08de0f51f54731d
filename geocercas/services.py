"""Writes for geofences and alerts. `geocercas_evaluar` runs inside the ingest transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, LineString, MultiPolygon
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from auditoria.registro import en_bloque
from efectivos.alcance import exigir_mando
from efectivos.models import Efectivo, Usuario
from gad_project.exceptions import Conflicto, NoEncontrado, NoPermitido
from gad_project.tiempo import iso
from geocercas import engine, metrics
from geocercas.engine import Cerca, Cruce, EstadoPresencia, Horario, LecturaEval, Transicion
from geocercas.models import Alerta, AlertaNota, EstadoAlerta, Geocerca, Presencia, TipoAlerta, TipoGeocerca
from geocercas.selectors import alertas_visibles, geocerca_editable
from mapa.services import capa_cambiada
from realtime import eventos
from realtime.services import Publicacion, publish_many

_SQL_PRESENCIAS = """
SELECT p.efectivo_id, p.geocerca_id, p.dentro, p.desde, p.permanencia_alertada,
       g.nombre, g.tipo, g.severidad, g.histeresis_m, g.permanencia_min_s,
       g.horario_dias, g.horario_desde, g.horario_hasta
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
    candidatos.execute(engine._SQL_CANDIDATOS, parametros)
    presencias = connection.cursor()
    presencias.execute(_SQL_PRESENCIAS, [sorted({lec.efectivo_id for lec in lecturas})])
    cruces = connection.cursor()
    cruces.execute(engine._SQL_CRUCES, parametros)
    return EvaluacionEnCurso(candidatos, presencias, cruces)


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
    for eid, gid, dentro, desde, alertada, nombre, tipo, sev, hist, perm, *horario in en_curso.presencias.fetchall():
        presencias.setdefault(eid, {})[gid] = EstadoPresencia(dentro, desde, alertada)
        cercas.setdefault(gid, Cerca(gid, nombre, tipo, sev, hist, perm, Horario.de(*horario)))
    cruces = engine.cruces_leer(en_curso.cruces.fetchall(), cercas)
    if not lecturas:
        return [], []
    transiciones = engine.transiciones_calcular(
        lecturas=lecturas,
        muestras=muestras,
        cercas=cercas,
        presencias=presencias,
        cruces=_cruces_validos(cruces, lecturas),
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


# One open alert per (efectivo, geocerca, tipo): the same transition again while it is open counts
# a repeat on it (rows are unique per key: _alertas_crear folds a batch's repeats first).
_SQL_ALERTAS = """
INSERT INTO geocercas_alerta AS a (tipo, efectivo_id, geocerca_id, posicion_id, punto, ocurrida_en, ultima_en,
                                   repeticiones, creada_en, severidad, estado, cruce)
SELECT t.tipo, t.e, t.g, t.p, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326), t.o, t.u, t.n, %s, t.s, 'pendiente', t.c
FROM ROWS FROM (jsonb_to_recordset(%s::jsonb)
       AS (tipo text, e bigint, g bigint, p bigint, lon float8, lat float8, o timestamptz, u timestamptz,
           n int, s text, c bool))
     WITH ORDINALITY AS t(tipo, e, g, p, lon, lat, o, u, n, s, c, orden)
ORDER BY t.orden
ON CONFLICT (efectivo_id, geocerca_id, tipo) WHERE NOT (estado = 'resuelta')
DO UPDATE SET repeticiones = a.repeticiones + EXCLUDED.repeticiones,
              ultima_en = GREATEST(a.ultima_en, EXCLUDED.ultima_en),
              punto = COALESCE(EXCLUDED.punto, a.punto),
              posicion_id = COALESCE(EXCLUDED.posicion_id, a.posicion_id)
RETURNING a.id, a.efectivo_id, a.geocerca_id, a.tipo, a.repeticiones, a.estado, a.ocurrida_en, a.ultima_en,
          a.cruce, a.xmax = 0 AS nueva
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
        cursor.execute(_SQL_ALERTAS, [timezone.now(), orjson.dumps(list(filas.values())).decode()])
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
    for pk, eid, gid, tipo, repeticiones, estado, ocurrida_en, ultima_en, cruce, nueva in sorted(guardadas):
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


# What each action on an alert leads to, and from which states.
ACCIONES: dict[str, tuple[str, frozenset[str]]] = {
    "reconocer": (EstadoAlerta.RECONOCIDA, frozenset({EstadoAlerta.PENDIENTE})),
    "atender": (EstadoAlerta.EN_ATENCION, frozenset({EstadoAlerta.PENDIENTE, EstadoAlerta.RECONOCIDA})),
    "resolver": (
        EstadoAlerta.RESUELTA,
        frozenset({EstadoAlerta.PENDIENTE, EstadoAlerta.RECONOCIDA, EstadoAlerta.EN_ATENCION}),
    ),
}


def alerta_cambiar_estado(*, alerta_id: int, usuario: Usuario, accion: str, nota: str = "") -> Alerta:
    """Move an alert along pendiente → reconocida → en atención → resuelta (a later step may skip
    earlier ones: attending or resolving a pending alert acknowledges it too). Records who, when
    and the note; tells everyone who sees it. A resolved alert is closed: the next transition of
    the same kind raises a new one."""
    exigir_mando(usuario, "Solo comandantes o administradores operan alertas.")
    destino, desde = ACCIONES[accion]
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
        if alerta.estado not in desde:
            if accion == "reconocer":
                raise Conflicto(
                    "La alerta ya fue reconocida.",
                    detalle={
                        "estado": alerta.estado,
                        "reconocida_por": alerta.reconocida_por_id,
                        "reconocida_en": iso(alerta.reconocida_en) if alerta.reconocida_en else None,
                    },
                    codigo="alerta_ya_reconocida",
                )
            raise Conflicto(
                f"La alerta está {EstadoAlerta(alerta.estado).label.lower()}: no se puede {accion}.",
                detalle={"estado": alerta.estado},
                codigo="transicion_invalida",
            )
        anterior = alerta.estado
        ahora = timezone.now()
        campos = ["estado"]
        alerta.estado = destino
        if alerta.reconocida_en is None:
            alerta.reconocida_por, alerta.reconocida_en = usuario, ahora
            campos += ["reconocida_por", "reconocida_en"]
        if destino == EstadoAlerta.EN_ATENCION:
            alerta.atendida_por, alerta.atendida_en = usuario, ahora
            campos += ["atendida_por", "atendida_en"]
        elif destino == EstadoAlerta.RESUELTA:
            alerta.resuelta_por, alerta.resuelta_en = usuario, ahora
            campos += ["resuelta_por", "resuelta_en"]
        alerta.save(update_fields=campos)
        AlertaNota.objects.create(alerta=alerta, estado=destino, usuario=usuario, nota=nota, en=ahora)
        publicaciones = [_estado_publicacion(alerta, usuario, anterior=anterior, nota=nota, en=ahora)]
        if anterior == EstadoAlerta.PENDIENTE:
            publicaciones.insert(0, _reconocida(alerta, usuario))
        publish_many(publicaciones)
    return alerta


def alerta_reconocer(*, alerta_id: int, usuario: Usuario, nota: str = "") -> Alerta:
    """Record who acknowledged an alert and when; tell everyone who sees it."""
    return alerta_cambiar_estado(alerta_id=alerta_id, usuario=usuario, accion="reconocer", nota=nota)


def alertas_reconocer(*, usuario: Usuario, hasta_id: int, ids: Sequence[int] | None = None) -> list[int]:
    """Acknowledge at once every pending alert the commander sees up to `hasta_id` (the newest one
    on their screen: one that arrives meanwhile is not acknowledged unseen), or only `ids` among
    them. One statement; one `alerta.reconocida` per alert. Returns the ids acknowledged."""
    exigir_mando(usuario, "Solo comandantes o administradores reconocen alertas.")
    with transaction.atomic():
        qs = alertas_visibles(usuario=usuario).filter(estado=EstadoAlerta.PENDIENTE, pk__lte=hasta_id)
        if ids is not None:
            qs = qs.filter(pk__in=list(ids))
        pendientes = list(qs.select_for_update(of=("self",), skip_locked=True).select_related("efectivo"))
        ahora = timezone.now()
        Alerta.objects.filter(pk__in=[a.pk for a in pendientes]).update(
            estado=EstadoAlerta.RECONOCIDA, reconocida_por=usuario, reconocida_en=ahora
        )
        AlertaNota.objects.bulk_create(
            AlertaNota(alerta=a, estado=EstadoAlerta.RECONOCIDA, usuario=usuario, nota="", en=ahora) for a in pendientes
        )
        en_bloque(
            pendientes,
            {
                "estado": (EstadoAlerta.PENDIENTE, EstadoAlerta.RECONOCIDA),
                "reconocida_por": (None, usuario),
                "reconocida_en": (None, ahora),
            },
        )
        for alerta in pendientes:
            alerta.estado, alerta.reconocida_por, alerta.reconocida_en = EstadoAlerta.RECONOCIDA, usuario, ahora
        if pendientes:
            publish_many([_reconocida(a, usuario) for a in pendientes])
    return sorted(a.pk for a in pendientes)


def _nombre(usuario: Usuario) -> str:
    return usuario.get_full_name() or usuario.get_username()


def _reconocida(alerta: Alerta, usuario: Usuario) -> Publicacion:
    assert alerta.reconocida_en is not None
    return eventos.alerta_reconocida(
        datos={
            "alerta_id": alerta.pk,
            "reconocida_por": _nombre(usuario),
            "reconocida_en": iso(alerta.reconocida_en),
        },
        efectivo_id=alerta.efectivo_id,
        unidad_id=alerta.efectivo.unidad_id,
    )


def _estado_publicacion(alerta: Alerta, usuario: Usuario, *, anterior: str, nota: str, en: datetime) -> Publicacion:
    return eventos.alerta_estado(
        datos={
            "alerta_id": alerta.pk,
            "estado": alerta.estado,
            "anterior": anterior,
            "por": _nombre(usuario),
            "en": iso(en),
            "nota": nota,
        },
        efectivo_id=alerta.efectivo_id,
        unidad_id=alerta.efectivo.unidad_id,
    )


_SQL_ESCALAR = """
UPDATE geocercas_alerta a SET escalada_en = %(ahora)s
FROM efectivos_efectivo e, geocercas_geocerca g
WHERE a.estado = 'pendiente' AND a.escalada_en IS NULL AND a.creada_en <= %(limite)s
  AND e.id = a.efectivo_id AND g.id = a.geocerca_id
RETURNING a.id, a.tipo, a.severidad, a.repeticiones, a.efectivo_id, e.apellido || ', ' || e.nombre, e.unidad_id,
          a.geocerca_id, g.nombre, a.creada_en
"""


def alertas_escalar(*, ahora: datetime | None = None) -> list[int]:
    """Escalate every alert still pending ALERTA_ESCALAR_MIN minutes after it was raised, once:
    `alerta.escalada` to the unidad's commanders and the admins (the map marks it; the bot tells
    the linked ones). One statement (periodic task). Returns the ids escalated."""
    ahora = ahora or timezone.now()
    limite = ahora - timedelta(minutes=settings.ALERTA_ESCALAR_MIN)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_SQL_ESCALAR, {"ahora": ahora, "limite": limite})
        filas = sorted(cursor.fetchall())
        publish_many(
            [
                eventos.alerta_escalada(
                    {
                        "alerta_id": pk,
                        "tipo": tipo,
                        "severidad": severidad,
                        "repeticiones": repeticiones,
                        "efectivo_id": eid,
                        "efectivo": nombre,
                        "unidad_id": unidad_id,
                        "geocerca_id": gid,
                        "geocerca": geocerca,
                        "pendiente_desde": iso(creada_en),
                        "minutos": int((ahora - creada_en).total_seconds() // 60),
                    }
                )
                for pk, tipo, severidad, repeticiones, eid, nombre, unidad_id, gid, geocerca, creada_en in filas
            ]
        )
    return [fila[0] for fila in filas]


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
    geocerca.clean()
    if geocerca.tipo == TipoGeocerca.CORREDOR:
        assert geocerca.ruta is not None and geocerca.ancho_m is not None  # clean() checked
        geocerca.geom = corredor_area(geocerca.ruta, geocerca.ancho_m)
    else:
        geocerca.ruta = geocerca.ancho_m = None
    with transaction.atomic():
        if geocerca.pk:
            # Locked first: a fence deleted meanwhile (another request) is a 404, not a 500 from
            # Django falling back to an INSERT of the F() expression.
            if not Geocerca.objects.select_for_update().filter(pk=geocerca.pk).exists():
                raise NoEncontrado("Geocerca inexistente.")
            geocerca.version = F("version") + 1
            geocerca.save(force_update=True)
        else:
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


def corredor_area(ruta: LineString, ancho_m: float) -> MultiPolygon:
    """The area of a corridor: `ancho_m` wide around its route, in metres on the ground (PostGIS's
    geography buffer), round at the ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsBinary(ST_Multi(ST_Buffer(ST_GeomFromWKB(%s, 4326)::geography, %s)::geometry))",
            [bytes(ruta.wkb), ancho_m / 2],
        )
        area = GEOSGeometry(memoryview(cursor.fetchone()[0]), srid=4326)
    assert isinstance(area, MultiPolygon)
    return area


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
