"""Closing the dispatch loop: nobody is left waiting on an assignment nobody answers.

- `asignaciones_vencer` (Celery beat, every few seconds): pending assignments past their
  acceptance time (`vence_en`, by priority: DESPACHO_ACEPTAR_S) are released and the task is
  filled back up with the next nearest available efectivos.
- `tarea_completar`: fill a task up to the number it asked for (`requeridos`); when nobody is in
  range the task is marked "sin cubrir" (`corta_desde`) and its commanders get `tarea.sin_cubrir`.
- The commander's moves on a task, through the same rules: release one efectivo, reassign one to
  another, reopen a short-handed task's search.

Every step is in the task's history (TareaEvento), the audit trail, and the event log; the
released officer gets `tarea.asignacion` with `respuesta` "vencida", "liberada" or "reasignada"
(the field app and the bot say "reasignada a otro efectivo")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from auditoria.registro import en_bloque
from efectivos.models import Efectivo, EstadoEfectivo, Usuario
from efectivos.services import efectivo_estado_evento
from gad_project import rls
from gad_project.exceptions import Conflicto, EntradaInvalida, NoEncontrado
from realtime import eventos
from realtime.services import Publicacion, publish_many
from tareas import metrics
from tareas.models import ESTADOS_ABIERTOS, Asignacion, EstadoAsignacion, EstadoTarea, Tarea, TipoTarea
from tareas.services.despacho import radio_de_despacho, tarea_asignar
from tareas.services.estados import VIVAS, _asignados, _exigir_mando, _registrar, tarea_datos


def _soltar(
    tarea: Tarea, asignaciones: Sequence[Asignacion], *, motivo: str, respuesta: str, ahora: datetime
) -> list[Publicacion]:
    """End these live assignments (locked by the caller) without their being carried out; their
    efectivos with no other open task are available again. Returns the events to publish."""
    for a in asignaciones:
        en_bloque([a], {"estado": (a.estado, EstadoAsignacion.LIBERADA), "motivo": ("", motivo)})
    Asignacion.objects.filter(pk__in=[a.pk for a in asignaciones]).update(
        estado=EstadoAsignacion.LIBERADA, liberada_en=ahora, motivo=motivo[:300]
    )
    ids = [a.efectivo_id for a in asignaciones]
    ocupados = set(
        Asignacion.objects.filter(efectivo__in=ids, estado__in=VIVAS, tarea__estado__in=ESTADOS_ABIERTOS)
        .exclude(tarea=tarea)
        .values_list("efectivo_id", flat=True)
    )
    libres = list(Efectivo.objects.filter(pk__in=ids, estado=EstadoEfectivo.EN_TAREA).exclude(pk__in=ocupados))
    Efectivo.objects.filter(pk__in=[e.pk for e in libres]).update(
        estado=EstadoEfectivo.DISPONIBLE, actualizado_en=ahora
    )
    en_bloque(libres, {"estado": (EstadoEfectivo.EN_TAREA, EstadoEfectivo.DISPONIBLE)})
    if tarea.delegado_id in ids:
        tarea.delegado_id = None
    publicaciones = [
        eventos.tarea_asignacion(tarea_datos(tarea), efectivo_id=a.efectivo_id, respuesta=respuesta)
        for a in asignaciones
    ]
    publicaciones += [
        efectivo_estado_evento(efectivo=e, anterior=EstadoEfectivo.EN_TAREA, estado=EstadoEfectivo.DISPONIBLE)
        for e in libres
    ]
    return publicaciones


def _sin_nadie(tarea: Tarea, usuario: Usuario | None) -> list[Publicacion]:
    """A task left with no live assignment goes back to programada (it was only assigned)."""
    if tarea.estado != EstadoTarea.ASIGNADA or tarea.asignaciones.filter(estado__in=VIVAS).exists():
        return []
    tarea.estado = EstadoTarea.PROGRAMADA
    _registrar(tarea, usuario, EstadoTarea.ASIGNADA, EstadoTarea.PROGRAMADA, "sin efectivos asignados")
    return [
        eventos.tarea_estado(
            tarea_datos(tarea),
            anterior=EstadoTarea.ASIGNADA,
            por_usuario_id=usuario.pk if usuario else None,
            asignados=_asignados(tarea),
        )
    ]


def tarea_completar(*, tarea_id: int, usuario: Usuario | None = None) -> int:
    """Dispatch the next nearest available efectivos until the task has the number it asked for
    (never someone who already had it). Nobody in range: the task is marked "sin cubrir" once
    and its commanders get `tarea.sin_cubrir`. Returns how many were dispatched."""
    with transaction.atomic():
        tarea = Tarea.objects.select_for_update(of=("self",)).select_related("creada_por").get(pk=tarea_id)
        return _completar(tarea, usuario)


@rls.usar(rls.SISTEMA)  # the dispatch workflow acts on the task's whole team, whoever triggered it (row-level security)
def _completar(tarea: Tarea, usuario: Usuario | None) -> int:
    """tarea_completar on a task already locked by the caller's transaction."""
    if tarea.estado not in ESTADOS_ABIERTOS or tarea.ubicacion is None:
        return 0
    faltan = tarea.requeridos - tarea.asignaciones.filter(estado__in=VIVAS).count()
    if faltan <= 0:
        return 0
    try:
        # On behalf of the commander who asked (reopening), else of whoever created the task.
        enviados = tarea_asignar(tarea_id=tarea.pk, usuario=usuario or tarea.creada_por, cercanos=faltan, sistema=True)
    except Conflicto as exc:
        tarea.refresh_from_db()
        if tarea.corta_desde is None:
            tarea.corta_desde = timezone.now()
            Tarea.objects.filter(pk=tarea.pk).update(corta_desde=tarea.corta_desde)
            _registrar(tarea, usuario, tarea.estado, tarea.estado, f"sin cubrir: {exc.mensaje}")
            metrics.SIN_CUBRIR.inc()
            publish_many([eventos.tarea_sin_cubrir(tarea_datos(tarea), faltan=faltan, radio_m=radio_de_despacho(None))])
        return 0
    metrics.REDESPACHOS.inc(len(enviados))
    return len(enviados)


def asignaciones_vencer(*, ahora: datetime | None = None, lote: int = 500) -> int:
    """Release every pending assignment past its acceptance time and re-dispatch its task.

    One index-assisted query (the partial index on pending `vence_en`) finds the tasks with one
    due. Each task is then handled in its own transaction, locked as every writer of a task
    locks it (the task, then its assignments) and claimed with SKIP LOCKED: a second worker, or a
    commander acting on that task at the same moment, is never waited on nor doubled; the due
    assignments are re-read under the lock, so an efectivo who accepts just in time keeps it.
    Returns how many assignments were released."""
    ahora = ahora or timezone.now()
    tareas = list(
        Asignacion.objects.filter(estado=EstadoAsignacion.PENDIENTE, vence_en__lte=ahora)
        .order_by("vence_en")
        .values_list("tarea_id", flat=True)[:lote]
    )
    liberadas = 0
    for tarea_id in dict.fromkeys(tareas):
        with transaction.atomic():
            tarea = (
                Tarea.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("creada_por")
                .filter(pk=tarea_id)
                .first()
            )
            if tarea is None:
                continue  # another worker, or a commander, has it right now: next pass
            grupo = list(
                Asignacion.objects.select_for_update(of=("self",))
                .select_related("efectivo")
                .filter(tarea=tarea, estado=EstadoAsignacion.PENDIENTE, vence_en__lte=ahora)
            )
            if not grupo:
                continue
            antes = (tarea.estado, tarea.delegado_id)
            publicaciones = _soltar(tarea, grupo, motivo="sin respuesta", respuesta="vencida", ahora=ahora)
            nombres = "; ".join(f"{a.efectivo.apellido}, {a.efectivo.nombre}" for a in grupo)
            _registrar(tarea, None, tarea.estado, tarea.estado, f"sin respuesta a tiempo: liberados {nombres}")
            publicaciones += _sin_nadie(tarea, None)
            if (tarea.estado, tarea.delegado_id) != antes:
                tarea.save(update_fields=["estado", "delegado", "actualizada_en"])
            publish_many(publicaciones)
            liberadas += len(grupo)
            # In the same transaction: the next assignee is committed with the release, and the
            # task is not locked twice.
            _completar(tarea, None)
    metrics.VENCIDAS.inc(liberadas)
    return liberadas


def asignacion_liberar(*, tarea_id: int, efectivo_id: int, usuario: Usuario, motivo: str = "") -> Tarea:
    """A commander takes one efectivo off a task (the task then asks for one fewer). The last
    efectivo of an open emergency cannot be released: cancel or finish the emergency instead."""
    with transaction.atomic():
        tarea = Tarea.objects.select_for_update().get(pk=tarea_id)
        _exigir_mando(tarea, usuario)
        asignacion = (
            Asignacion.objects.select_for_update()
            .filter(tarea=tarea, efectivo_id=efectivo_id, estado__in=VIVAS)
            .first()
        )
        if asignacion is None:
            raise NoEncontrado("Ese efectivo no está asignado a la tarea.", detalle={"efectivo": efectivo_id})
        vivas = tarea.asignaciones.filter(estado__in=VIVAS).count()
        if tarea.tipo == TipoTarea.EMERGENCIA and tarea.estado in ESTADOS_ABIERTOS and vivas == 1:
            raise Conflicto(
                "Es el último efectivo de una emergencia abierta: cancélela o finalícela.",
                codigo="ultimo_de_emergencia",
            )
        ahora = timezone.now()
        texto = f"liberada por el mando{': ' + motivo if motivo else ''}"
        publicaciones = _soltar(tarea, [asignacion], motivo=texto, respuesta="liberada", ahora=ahora)
        tarea.requeridos = max(0, tarea.requeridos - 1)
        _registrar(tarea, usuario, tarea.estado, tarea.estado, f"efectivo {efectivo_id} {texto}")
        publicaciones += _sin_nadie(tarea, usuario)
        tarea.save()
        publish_many(publicaciones)
    return tarea


def tarea_reasignar(*, tarea_id: int, de_efectivo: int, a_efectivo: int, usuario: Usuario) -> Tarea:
    """Replace one assignee by another chosen efectivo (available, of the task's unidad), in one
    transaction: if the new one cannot take it, nothing changes."""
    if de_efectivo == a_efectivo:
        raise EntradaInvalida("Elija a otro efectivo.", detalle={"a": a_efectivo})
    with transaction.atomic():
        tarea = Tarea.objects.select_for_update().get(pk=tarea_id)
        _exigir_mando(tarea, usuario)
        asignacion = (
            Asignacion.objects.select_for_update()
            .filter(tarea=tarea, efectivo_id=de_efectivo, estado__in=VIVAS)
            .first()
        )
        if asignacion is None:
            raise NoEncontrado("Ese efectivo no está asignado a la tarea.", detalle={"de": de_efectivo})
        publicaciones = _soltar(
            tarea, [asignacion], motivo="reasignada por el mando", respuesta="reasignada", ahora=timezone.now()
        )
        tarea.save()
        publish_many(publicaciones)
        tarea_asignar(tarea_id=tarea.pk, usuario=usuario, efectivos=[a_efectivo])  # raises: all rolls back
        _registrar(tarea, usuario, tarea.estado, tarea.estado, f"reasignada de {de_efectivo} a {a_efectivo}")
    tarea.refresh_from_db()
    return tarea


def tarea_busqueda_reabrir(*, tarea_id: int, usuario: Usuario) -> int:
    """A short-handed task's search again (after efectivos became available): 409 while still
    nobody is in range. Returns how many were dispatched."""
    with transaction.atomic():
        tarea = Tarea.objects.select_for_update().get(pk=tarea_id)
        _exigir_mando(tarea, usuario)
        if tarea.estado not in ESTADOS_ABIERTOS:
            raise Conflicto("La tarea está cerrada.", detalle={"estado": tarea.estado}, codigo="transicion_invalida")
        tarea.requeridos = max(tarea.requeridos, 1)
        tarea.corta_desde = None
        tarea.save(update_fields=["requeridos", "corta_desde", "actualizada_en"])
        _registrar(tarea, usuario, tarea.estado, tarea.estado, "búsqueda reabierta")
        enviados = tarea_completar(tarea_id=tarea.pk, usuario=usuario)
        tarea.refresh_from_db()
        if not enviados and tarea.corta_desde is not None:
            raise Conflicto("Sigue sin haber efectivos disponibles en rango.", codigo="sin_efectivos_en_rango")
    return enviados
