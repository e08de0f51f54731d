"""The task state machine, in one place: creation, edits, transitions, and the guards and
history they share. Every change is written to TareaEvento and published."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.utils import timezone

from auditoria.registro import en_bloque
from efectivos.alcance import alcance_de, exigir_mando_en
from efectivos.models import Efectivo, EstadoEfectivo, Unidad, Usuario
from efectivos.services import efectivo_estado_evento
from gad_project import rls
from gad_project.exceptions import Conflicto, EntradaInvalida, NoPermitido
from realtime import eventos
from realtime.services import Publicacion, publish_many
from tareas.models import (
    ESTADOS_ABIERTOS,
    Asignacion,
    EstadoAsignacion,
    EstadoTarea,
    Prioridad,
    Tarea,
    TareaEvento,
    TipoTarea,
)


class TransicionInvalida(Conflicto):
    codigo = "transicion_invalida"


# The whole state machine: action -> (states it may start from, state it leads to).
TRANSICIONES: dict[str, tuple[frozenset[str], str]] = {
    "iniciar": (frozenset({EstadoTarea.ASIGNADA}), EstadoTarea.EN_CURSO),
    "pausar": (frozenset({EstadoTarea.EN_CURSO}), EstadoTarea.PAUSADA),
    "reanudar": (frozenset({EstadoTarea.PAUSADA}), EstadoTarea.EN_CURSO),
    "finalizar": (frozenset({EstadoTarea.EN_CURSO, EstadoTarea.PAUSADA}), EstadoTarea.FINALIZADA),
    "cancelar": (frozenset(ESTADOS_ABIERTOS), EstadoTarea.CANCELADA),
}
ACCIONES_DE_MANDO = {"cancelar"}  # the rest may also be done by an efectivo on its accepted task
VIVAS = (EstadoAsignacion.PENDIENTE, EstadoAsignacion.ACEPTADA)


def tarea_codigo_generar() -> str:
    """T<year>-<n>: n comes from a database sequence, so concurrent creators never collide."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('tareas_tarea_codigo_seq')")
        (n,) = cursor.fetchone()
    return f"T{timezone.localdate():%Y}-{n:06d}"


def tarea_crear_desde_instancia(*, tarea: Tarea, usuario: Usuario | None) -> Tarea:
    """Persist a new, unsaved task (built by a form or serializer) as `programada`."""
    with transaction.atomic():
        tarea.codigo = tarea_codigo_generar()
        tarea.estado = EstadoTarea.PROGRAMADA
        tarea.creada_por = usuario
        tarea.tiempo_pausado = timedelta(0)
        tarea.save()
        _registrar(tarea, usuario, "", EstadoTarea.PROGRAMADA, "creada")
        publish_many([eventos.tarea_creada(tarea_datos(tarea))])
    return tarea


def tarea_crear(
    *,
    usuario: Usuario,
    titulo: str,
    unidad_id: int,
    tipo: str = TipoTarea.PATRULLAJE,
    prioridad: int = Prioridad.NORMAL,
    descripcion: str = "",
    lat: float | None = None,
    lon: float | None = None,
    **extra: Any,
) -> Tarea:
    _exigir_unidad(usuario, unidad_id)
    tarea = Tarea(
        titulo=titulo,
        unidad_id=unidad_id,
        tipo=tipo,
        prioridad=prioridad,
        descripcion=descripcion,
        ubicacion=Point(lon, lat, srid=4326) if lat is not None and lon is not None else None,
        **extra,
    )
    return tarea_crear_desde_instancia(tarea=tarea, usuario=usuario)


CAMPOS_EDITABLES = (
    "titulo",
    "descripcion",
    "tipo",
    "prioridad",
    "inicio_programado",
    "fin_programado",
    "plazo_aceptar_s",
)


def tarea_actualizar(
    *, tarea_id: int, usuario: Usuario, lat: float | None = None, lon: float | None = None, **cambios: Any
) -> Tarea:
    """Edit a task's description and plan (not its state: that is the state machine's). Closed
    tasks are history and cannot be edited."""
    with transaction.atomic():
        tarea = Tarea.objects.select_for_update().get(pk=tarea_id)
        _exigir_mando(tarea, usuario)
        if tarea.estado not in ESTADOS_ABIERTOS:
            raise Conflicto("Una tarea cerrada no se modifica.", codigo="tarea_cerrada")
        for campo, valor in cambios.items():
            if campo not in CAMPOS_EDITABLES:
                raise EntradaInvalida(f"Campo no editable: {campo}.")
            setattr(tarea, campo, valor)
        if lat is not None and lon is not None:
            tarea.ubicacion = Point(lon, lat, srid=4326)
        if tarea.inicio_programado and tarea.fin_programado and tarea.fin_programado < tarea.inicio_programado:
            raise EntradaInvalida(
                "El fin programado debe ser posterior al inicio.", detalle={"fin_programado": "antes del inicio"}
            )
        tarea.save()
        if lat is not None and lon is not None:
            tarea.refresh_from_db(fields=["lugar"])  # named again by the row's trigger (mapa.campos)
        publish_many([eventos.tarea_actualizada(tarea_datos(tarea), asignados=_asignados(tarea))])
    return tarea


def tarea_transicionar(*, tarea_id: int, accion: str, usuario: Usuario, motivo: str = "") -> Tarea:
    """Apply one action of the state machine. Raises TransicionInvalida (409) when the task's
    state does not allow it, NoPermitido when the user may not do it."""
    if accion not in TRANSICIONES:
        raise EntradaInvalida(f"Acción desconocida: {accion}.")
    desde, hacia = TRANSICIONES[accion]
    with transaction.atomic():
        tarea = Tarea.objects.select_for_update().get(pk=tarea_id)
        _exigir_actor(tarea, usuario, accion)
        if tarea.estado not in desde:
            raise TransicionInvalida(
                f"No se puede {accion} una tarea {tarea.get_estado_display().lower()}.",
                detalle={"estado": tarea.estado, "accion": accion, "permitido_desde": sorted(desde)},
            )
        ahora = timezone.now()
        anterior = tarea.estado
        if accion == "iniciar":
            tarea.inicio_real = tarea.inicio_real or ahora
        elif accion == "pausar":
            tarea.pausada_en = ahora
        elif accion in ("reanudar", "finalizar", "cancelar") and tarea.pausada_en:
            tarea.tiempo_pausado = (tarea.tiempo_pausado or timedelta(0)) + (ahora - tarea.pausada_en)
            tarea.pausada_en = None
        if hacia in (EstadoTarea.FINALIZADA, EstadoTarea.CANCELADA):
            tarea.fin_real = ahora
        tarea.estado = hacia
        tarea.save()
        _registrar(tarea, usuario, anterior, hacia, motivo or accion)
        publicaciones = [
            eventos.tarea_estado(
                tarea_datos(tarea), anterior=anterior, por_usuario_id=usuario.pk, asignados=_asignados(tarea)
            )
        ]
        if hacia in (EstadoTarea.FINALIZADA, EstadoTarea.CANCELADA):
            publicaciones += _liberar(tarea, ahora)
        publish_many(publicaciones)
    return tarea


def tarea_datos(tarea: Tarea) -> eventos.TareaDatos:
    return {
        "tarea_id": tarea.pk,
        "codigo": tarea.codigo,
        "titulo": tarea.titulo,
        "tipo": tarea.tipo,
        "prioridad": tarea.prioridad,
        "estado": tarea.estado,
        "unidad_id": tarea.unidad_id,
        "lat": tarea.ubicacion.y if tarea.ubicacion else None,
        "lon": tarea.ubicacion.x if tarea.ubicacion else None,
        "lugar": tarea.lugar or None,
    }


def _registrar(tarea: Tarea, usuario: Usuario | None, anterior: str, nuevo: str, motivo: str) -> None:
    TareaEvento.objects.create(
        tarea=tarea, usuario=usuario, estado_anterior=anterior, estado_nuevo=nuevo, motivo=motivo[:300]
    )


@rls.usar(rls.SISTEMA)  # the dispatch workflow acts on the task's whole team, whoever triggered it (row-level security)
def _asignados(tarea: Tarea) -> list[int]:
    return list(tarea.asignaciones.values_list("efectivo_id", flat=True))


@rls.usar(rls.SISTEMA)  # the dispatch workflow acts on the task's whole team, whoever triggered it (row-level security)
def _liberar(tarea: Tarea, ahora: datetime) -> list[Publicacion]:
    """A closed task frees its live assignments; efectivos with no other open task are available."""
    vivas = list(tarea.asignaciones.select_for_update().filter(estado__in=VIVAS).select_related("efectivo"))
    Asignacion.objects.filter(pk__in=[a.pk for a in vivas]).update(estado=EstadoAsignacion.LIBERADA, liberada_en=ahora)
    for a in vivas:  # each with the state it really had (pending or accepted)
        en_bloque([a], {"estado": (a.estado, EstadoAsignacion.LIBERADA), "liberada_en": (None, ahora)})
    ocupados = set(
        Asignacion.objects.filter(
            efectivo__in=[a.efectivo_id for a in vivas], estado__in=VIVAS, tarea__estado__in=ESTADOS_ABIERTOS
        ).values_list("efectivo_id", flat=True)
    )
    libres = [
        a.efectivo for a in vivas if a.efectivo_id not in ocupados and a.efectivo.estado == EstadoEfectivo.EN_TAREA
    ]
    Efectivo.objects.filter(pk__in=[e.pk for e in libres]).update(
        estado=EstadoEfectivo.DISPONIBLE, actualizado_en=ahora
    )
    en_bloque(libres, {"estado": (EstadoEfectivo.EN_TAREA, EstadoEfectivo.DISPONIBLE)})
    return [
        efectivo_estado_evento(efectivo=e, anterior=EstadoEfectivo.EN_TAREA, estado=EstadoEfectivo.DISPONIBLE)
        for e in libres
    ]


def _exigir_unidad(usuario: Usuario, unidad_id: int) -> None:
    exigir_mando_en(usuario, unidad_id, "Solo puede crear tareas de su propia unidad.")
    if not Unidad.objects.filter(pk=unidad_id).exists():
        raise EntradaInvalida("Unidad inexistente.", detalle={"unidad": unidad_id})


def _exigir_mando(tarea: Tarea, usuario: Usuario) -> None:
    exigir_mando_en(usuario, tarea.unidad_id, "Solo el mando de la unidad de la tarea puede hacerlo.")


def _exigir_actor(tarea: Tarea, usuario: Usuario, accion: str) -> None:
    alcance = alcance_de(usuario)
    if alcance.es_mando:
        _exigir_mando(tarea, usuario)
        return
    if accion in ACCIONES_DE_MANDO or alcance.efectivo_id is None:
        raise NoPermitido("Solo el mando puede hacerlo.")
    if not tarea.asignaciones.filter(efectivo_id=alcance.efectivo_id, estado=EstadoAsignacion.ACEPTADA).exists():
        raise NoPermitido("Solo un efectivo que aceptó la tarea puede hacerlo.")


def estadisticas_refrescar() -> None:
    """Recompute the per-unidad figures without blocking readers (CONCURRENTLY)."""
    with connection.cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY tareas_estadistica_unidad")
