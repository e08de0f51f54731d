"""Writes for tasks: the state machine, in one place, and dispatch to the nearest available
efectivos. Every transition is written to TareaEvento and published."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.utils import timezone

from efectivos.alcance import alcance_de, exigir_mando_en
from efectivos.models import Efectivo, EstadoEfectivo, Unidad, Usuario
from efectivos.selectors import efectivo_de
from efectivos.services import efectivo_estado_evento
from gad_project.exceptions import Conflicto, EntradaInvalida, NoPermitido
from realtime import grupos
from realtime.services import Publicacion, publish, publish_many
from tareas import selectors
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
        publish("tarea.creada", tarea_datos(tarea), grupos.mando_de_unidad(tarea.unidad_id))
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
    **extra,
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


CAMPOS_EDITABLES = ("titulo", "descripcion", "tipo", "prioridad", "inicio_programado", "fin_programado")


def tarea_actualizar(
    *, tarea_id: int, usuario: Usuario, lat: float | None = None, lon: float | None = None, **cambios
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
        publish("tarea.actualizada", tarea_datos(tarea), _audiencia(tarea))
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
            Publicacion(
                "tarea.estado",
                {**tarea_datos(tarea), "anterior": anterior, "por_usuario_id": usuario.pk},
                _audiencia(tarea),
            )
        ]
        if hacia in (EstadoTarea.FINALIZADA, EstadoTarea.CANCELADA):
            publicaciones += _liberar(tarea, ahora)
        publish_many(publicaciones)
    return tarea


@dataclass(frozen=True)
class Asignado:
    efectivo: Efectivo
    distancia_m: float | None


def tarea_asignar(
    *,
    tarea_id: int,
    usuario: Usuario,
    efectivos: Sequence[int] = (),
    cercanos: int = 0,
    radio_m: float | None = None,
    especialidad: str | None = None,
    excluir: Sequence[int] = (),
    despacho_automatico: bool = False,
) -> list[Asignado]:
    """Assign explicit efectivos, or the `cercanos` nearest available ones to the task's place.

    `despacho_automatico`: the system dispatches an efectivo's emergency report on its own (the
    reporter is no dispatcher); only the nearest-available path, never chosen efectivos.

    Nearest ones are claimed FOR UPDATE SKIP LOCKED and marked en_tarea in the same transaction,
    so concurrent dispatches never take the same efectivo. Explicit ones must be available and in
    the dispatcher's scope. The task becomes `asignada`."""
    with transaction.atomic():
        tarea = Tarea.objects.select_for_update().get(pk=tarea_id)
        if not (despacho_automatico and cercanos and not efectivos):
            _exigir_mando(tarea, usuario)
        if tarea.estado not in (
            EstadoTarea.PROGRAMADA,
            EstadoTarea.ASIGNADA,
            EstadoTarea.EN_CURSO,
            EstadoTarea.PAUSADA,
        ):
            raise TransicionInvalida("No se puede asignar una tarea cerrada.", detalle={"estado": tarea.estado})
        elegidos: list[tuple[int, float | None]] = []
        if cercanos:
            if tarea.ubicacion is None:
                raise EntradaInvalida("La tarea no tiene ubicación: indique los efectivos.", codigo="sin_ubicacion")
            elegidos = [
                (c.efectivo_id, c.distancia_m)
                for c in selectors.efectivos_cercanos(
                    lat=tarea.ubicacion.y,
                    lon=tarea.ubicacion.x,
                    k=cercanos,
                    unidad_id=tarea.unidad_id,
                    radio_m=radio_m,
                    especialidad=especialidad,
                    bloquear=True,
                    # never again someone already on this task, or who turned it down
                    excluir=[*tarea.asignaciones.values_list("efectivo_id", flat=True), *excluir],
                )
            ]
        else:
            elegidos = _explicitos(tarea, efectivos)
        if not elegidos:
            raise Conflicto("No hay efectivos disponibles para asignar.", codigo="sin_efectivos_disponibles")
        Efectivo.objects.filter(pk__in=[e for e, _ in elegidos]).update(
            estado=EstadoEfectivo.EN_TAREA, actualizado_en=timezone.now()
        )
        asignaciones = Asignacion.objects.bulk_create(
            Asignacion(tarea=tarea, efectivo_id=e, distancia_m=d, asignada_por=usuario) for e, d in elegidos
        )
        anterior = tarea.estado
        if tarea.estado == EstadoTarea.PROGRAMADA:
            tarea.estado = EstadoTarea.ASIGNADA
        if tarea.delegado_id is None:
            tarea.delegado_id = elegidos[0][0]
        tarea.save()
        if anterior != tarea.estado:
            _registrar(tarea, usuario, anterior, tarea.estado, f"asignada a {len(elegidos)} efectivo(s)")
        efectivos_map = {e.pk: e for e in Efectivo.objects.filter(pk__in=[e for e, _ in elegidos])}
        publicaciones = []
        for a in asignaciones:
            ef = efectivos_map[a.efectivo_id]
            datos = {
                **tarea_datos(tarea),
                "efectivo_id": ef.pk,
                "efectivo": f"{ef.apellido}, {ef.nombre}",
                "distancia_m": a.distancia_m,
                "asignacion_id": a.pk,
            }
            publicaciones.append(
                Publicacion("tarea.asignada", datos, grupos.de_efectivo(efectivo_id=ef.pk, unidad_id=tarea.unidad_id))
            )
            publicaciones.append(
                efectivo_estado_evento(efectivo=ef, anterior=EstadoEfectivo.DISPONIBLE, estado=EstadoEfectivo.EN_TAREA)
            )
        if anterior != tarea.estado:
            publicaciones.append(
                Publicacion("tarea.estado", {**tarea_datos(tarea), "anterior": anterior}, _audiencia(tarea))
            )
        publish_many(publicaciones)
        return [Asignado(efectivos_map[a.efectivo_id], a.distancia_m) for a in asignaciones]


def asignacion_responder(
    *, tarea_id: int, usuario: Usuario, acepta: bool, motivo: str = "", redespachar: bool = True
) -> Tarea:
    """The assigned efectivo accepts or rejects. A rejection frees them and, if the task is left
    without anyone and has a place, re-dispatches it to the next nearest available efectivo."""
    efectivo = efectivo_de(usuario=usuario)
    if efectivo is None:
        raise NoPermitido("Solo el efectivo asignado puede responder.")
    with transaction.atomic():
        tarea = Tarea.objects.select_for_update().get(pk=tarea_id)
        asignacion = (
            Asignacion.objects.select_for_update()
            .filter(tarea=tarea, efectivo=efectivo, estado=EstadoAsignacion.PENDIENTE)
            .first()
        )
        if asignacion is None:
            raise Conflicto("No tiene una asignación pendiente en esta tarea.", codigo="sin_asignacion_pendiente")
        asignacion.estado = EstadoAsignacion.ACEPTADA if acepta else EstadoAsignacion.RECHAZADA
        asignacion.respondida_en = timezone.now()
        asignacion.save(update_fields=["estado", "respondida_en"])
        accion = "aceptada" if acepta else "rechazada"
        _registrar(
            tarea,
            usuario,
            tarea.estado,
            tarea.estado,
            f"asignación {accion} por {efectivo}" + (f": {motivo}" if motivo else ""),
        )
        publicaciones = [
            Publicacion(
                "tarea.asignacion",
                {**tarea_datos(tarea), "efectivo_id": efectivo.pk, "respuesta": accion},
                grupos.de_efectivo(efectivo_id=efectivo.pk, unidad_id=tarea.unidad_id),
            )
        ]
        if not acepta:
            Efectivo.objects.filter(pk=efectivo.pk).update(
                estado=EstadoEfectivo.DISPONIBLE, actualizado_en=timezone.now()
            )
            publicaciones.append(
                efectivo_estado_evento(
                    efectivo=efectivo, anterior=EstadoEfectivo.EN_TAREA, estado=EstadoEfectivo.DISPONIBLE
                )
            )
            if tarea.delegado_id == efectivo.pk:
                tarea.delegado_id = None
            if not tarea.asignaciones.filter(estado__in=VIVAS).exists() and tarea.estado == EstadoTarea.ASIGNADA:
                tarea.estado = EstadoTarea.PROGRAMADA
                _registrar(tarea, usuario, EstadoTarea.ASIGNADA, EstadoTarea.PROGRAMADA, "sin efectivos asignados")
                publicaciones.append(
                    Publicacion(
                        "tarea.estado", {**tarea_datos(tarea), "anterior": EstadoTarea.ASIGNADA}, _audiencia(tarea)
                    )
                )
            tarea.save()
        publish_many(publicaciones)
    if not acepta and redespachar and tarea.estado == EstadoTarea.PROGRAMADA and tarea.ubicacion is not None:
        # On behalf of whoever created the task, if they still command it. Nobody else available
        # (Conflicto) or no such commander: the task waits, programada, for a commander.
        creador = tarea.creada_por
        if creador is not None and _puede_mandar(tarea, creador):
            with contextlib.suppress(Conflicto):
                tarea_asignar(tarea_id=tarea.pk, usuario=creador, cercanos=1)
        tarea.refresh_from_db()
    return tarea


def emergencia_crear(
    *, usuario: Usuario, lat: float, lon: float, descripcion: str, k: int = 1
) -> tuple[Tarea, list[Asignado]]:
    """A critical task at a place, dispatched at once to the nearest available efectivo(s).

    Commanders and admins report for their scope; an efectivo (from the Telegram bot) reports for
    their own unidad, and the nearest *other* efectivos are sent: the reporter is already there.
    The emergency is recorded even when nobody is available: it stays `programada` (and was
    published as `tarea.creada`) for a commander to dispatch, rather than being lost."""
    alcance = alcance_de(usuario)
    reportante = efectivo_de(usuario=usuario) if alcance.es_efectivo else None
    if alcance.todo:
        unidad_id = _unidad_del_lugar(lat, lon)
    elif alcance.es_mando:
        unidad_id = alcance.unidad_id
    elif reportante is not None:
        unidad_id = reportante.unidad_id
    else:
        raise NoPermitido("Solo efectivos con legajo, comandantes o administradores reportan emergencias.")
    tarea = Tarea(
        titulo=f"Emergencia: {descripcion[:80]}",
        descripcion=descripcion,
        unidad_id=unidad_id,
        tipo=TipoTarea.EMERGENCIA,
        prioridad=Prioridad.CRITICA,
        ubicacion=Point(lon, lat, srid=4326),
        inicio_programado=timezone.now(),
    )
    tarea = tarea_crear_desde_instancia(tarea=tarea, usuario=usuario)
    try:
        asignados = tarea_asignar(
            tarea_id=tarea.pk,
            usuario=usuario,
            cercanos=k,
            excluir=[reportante.pk] if reportante else (),
            despacho_automatico=reportante is not None,
        )
    except Conflicto:
        asignados = []
    tarea.refresh_from_db()
    return tarea, asignados


def tarea_datos(tarea: Tarea) -> dict:
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
    }


# --- internals -----------------------------------------------------------------------------------


def _registrar(tarea: Tarea, usuario: Usuario | None, anterior: str, nuevo: str, motivo: str) -> None:
    TareaEvento.objects.create(
        tarea=tarea, usuario=usuario, estado_anterior=anterior, estado_nuevo=nuevo, motivo=motivo[:300]
    )


def _audiencia(tarea: Tarea) -> list[str]:
    asignados = tarea.asignaciones.values_list("efectivo_id", flat=True)
    return [*grupos.mando_de_unidad(tarea.unidad_id), *(grupos.efectivo(e) for e in asignados)]


def _liberar(tarea: Tarea, ahora) -> list[Publicacion]:
    """A closed task frees its live assignments; efectivos with no other open task are available."""
    vivas = list(tarea.asignaciones.select_for_update().filter(estado__in=VIVAS).select_related("efectivo"))
    Asignacion.objects.filter(pk__in=[a.pk for a in vivas]).update(estado=EstadoAsignacion.LIBERADA, liberada_en=ahora)
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
    return [
        efectivo_estado_evento(efectivo=e, anterior=EstadoEfectivo.EN_TAREA, estado=EstadoEfectivo.DISPONIBLE)
        for e in libres
    ]


def _explicitos(tarea: Tarea, ids: Sequence[int]) -> list[tuple[int, float | None]]:
    ids = list(dict.fromkeys(ids))
    qs = Efectivo.objects.select_for_update().filter(pk__in=ids, unidad_id=tarea.unidad_id)
    encontrados = {e.pk: e for e in qs}
    if faltan := [i for i in ids if i not in encontrados]:
        raise EntradaInvalida("Efectivos inexistentes o de otra unidad.", detalle={"efectivos": faltan})
    ocupados = [e.pk for e in encontrados.values() if e.estado != EstadoEfectivo.DISPONIBLE]
    if ocupados:
        raise Conflicto(
            "Hay efectivos que no están disponibles.", detalle={"efectivos": ocupados}, codigo="efectivo_no_disponible"
        )
    resultado: list[tuple[int, float | None]] = [(i, None) for i in ids]
    if tarea.ubicacion:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, ST_Distance(ultima_posicion::geography, %s::geography) FROM efectivos_efectivo WHERE id = ANY(%s)",
                [tarea.ubicacion.ewkt, ids],
            )
            distancias = dict(cursor.fetchall())
        resultado = [(i, distancias.get(i)) for i in ids]
    return resultado


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
    if accion in ACCIONES_DE_MANDO or not alcance.es_efectivo:
        raise NoPermitido("Solo el mando puede hacerlo.")
    if not tarea.asignaciones.filter(efectivo_id=alcance.efectivo_id, estado=EstadoAsignacion.ACEPTADA).exists():
        raise NoPermitido("Solo un efectivo que aceptó la tarea puede hacerlo.")


def _puede_mandar(tarea: Tarea, usuario: Usuario) -> bool:
    try:
        _exigir_mando(tarea, usuario)
    except NoPermitido:
        return False
    return True


def _unidad_del_lugar(lat: float, lon: float) -> int:
    """For an admin's emergency: the unidad whose jurisdiction holds the place, else the nearest."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM efectivos_unidad ORDER BY "
            "CASE WHEN jurisdiccion IS NULL THEN 1 ELSE 0 END, "
            "ST_Distance(jurisdiccion, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) NULLS LAST LIMIT 1",
            [lon, lat],
        )
        fila = cursor.fetchone()
    if fila is None:
        raise Conflicto("No hay unidades.", codigo="sin_unidades")
    return fila[0]


def estadisticas_refrescar() -> None:
    """Recompute the per-unidad figures without blocking readers (CONCURRENTLY)."""
    with connection.cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY tareas_estadistica_unidad")
