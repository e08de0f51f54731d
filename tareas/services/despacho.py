"""Dispatch: assigning the nearest available efectivos (claimed FOR UPDATE SKIP LOCKED),
their answers with re-dispatch, and emergencies dispatched at once."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.utils import timezone

from auditoria.registro import en_bloque, entradas_registrar
from efectivos.alcance import alcance_de
from efectivos.models import Efectivo, EstadoEfectivo, Usuario
from efectivos.selectors import efectivo_de
from efectivos.services import efectivo_estado_evento
from gad_project import rls
from gad_project.exceptions import Conflicto, EntradaInvalida, NoPermitido
from realtime import eventos
from realtime.services import publish_many
from tareas import metrics, selectors
from tareas.models import (
    Asignacion,
    EstadoAsignacion,
    EstadoTarea,
    Prioridad,
    Tarea,
    TipoTarea,
)
from tareas.services.estados import (
    VIVAS,
    TransicionInvalida,
    _asignados,
    _exigir_mando,
    _registrar,
    tarea_crear_desde_instancia,
    tarea_datos,
)


@dataclass(frozen=True)
class Asignado:
    efectivo: Efectivo
    distancia_m: float | None


def tarea_asignar(
    *,
    tarea_id: int,
    usuario: Usuario | None,
    efectivos: Sequence[int] = (),
    cercanos: int = 0,
    radio_m: float | None = None,
    especialidad: str | None = None,
    excluir: Sequence[int] = (),
    despacho_automatico: bool = False,
    sistema: bool = False,
) -> list[Asignado]:
    """Assign explicit efectivos, or the `cercanos` nearest available ones to the task's place.

    `despacho_automatico`: the system dispatches an efectivo's emergency report on its own (the
    reporter is no dispatcher); only the nearest-available path, never chosen efectivos.
    `sistema`: re-dispatch after a timeout or a rejection (tareas.services.redespacho); `usuario`
    is the task's creator when known, else None.

    Each new assignment must be accepted within the task's acceptance time (`vence_en`); the task
    records how many it asked for (`requeridos`), which re-dispatch fills back up.

    Nearest ones are claimed FOR UPDATE SKIP LOCKED and marked en_tarea in the same transaction,
    so concurrent dispatches never take the same efectivo. Explicit ones must be available and in
    the dispatcher's scope. The task becomes `asignada`."""
    inicio = time.perf_counter()
    modo = "elegidos" if efectivos else ("automatico" if despacho_automatico else "cercanos")
    with transaction.atomic():
        tarea = Tarea.objects.select_for_update().get(pk=tarea_id)
        if not sistema and not (despacho_automatico and cercanos and not efectivos):
            if usuario is None:
                raise NoPermitido("Falta quién despacha.")
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
            radio = radio_de_despacho(radio_m)
            # never again someone already on this task, or who turned it down
            excluidos = [*tarea.asignaciones.values_list("efectivo_id", flat=True), *excluir]
            if tarea.reportante_id is not None:
                excluidos.append(tarea.reportante_id)  # the one who asked for help is not the help
            for unidad_id in _unidades_de_despacho(tarea, usuario):
                elegidos = [
                    (c.efectivo_id, c.distancia_m)
                    for c in selectors.efectivos_cercanos(
                        lat=tarea.ubicacion.y,
                        lon=tarea.ubicacion.x,
                        k=cercanos,
                        unidad_id=unidad_id,
                        radio_m=radio,
                        especialidad=especialidad,
                        bloquear=True,
                        excluir=excluidos,
                    )
                ]
                if elegidos:
                    break
            if not elegidos:
                metrics.SIN_CANDIDATOS.inc()
                raise Conflicto(
                    f"Ningún efectivo disponible a menos de {radio / 1000:g} km.",
                    detalle={"radio_m": radio},
                    codigo="sin_efectivos_en_rango",
                )
        else:
            elegidos = _explicitos(tarea, efectivos)
        if not elegidos:
            metrics.SIN_CANDIDATOS.inc()
            raise Conflicto("No hay efectivos disponibles para asignar.", codigo="sin_efectivos_disponibles")
        ahora = timezone.now()
        Efectivo.objects.filter(pk__in=[e for e, _ in elegidos]).update(
            estado=EstadoEfectivo.EN_TAREA, actualizado_en=ahora
        )
        vence = ahora + plazo_aceptar(tarea)
        asignaciones = Asignacion.objects.bulk_create(
            Asignacion(tarea=tarea, efectivo_id=e, distancia_m=d, asignada_por=usuario, vence_en=vence)
            for e, d in elegidos
        )
        efectivos_map = {e.pk: e for e in Efectivo.objects.filter(pk__in=[e for e, _ in elegidos])}
        # The assignments and the efectivos they take, in the audit trail (bulk writes: no signals).
        entradas_registrar(
            [
                (
                    a,
                    {
                        "tarea": (None, tarea.pk),
                        "efectivo": (None, a.efectivo_id),
                        "distancia_m": (None, a.distancia_m),
                    },
                    True,
                )
                for a in asignaciones
            ]
            + [
                (e, {"estado": (EstadoEfectivo.DISPONIBLE, EstadoEfectivo.EN_TAREA)}, False)
                for e in efectivos_map.values()
            ]
        )
        anterior = tarea.estado
        antes = (tarea.estado, tarea.delegado_id, tarea.requeridos, tarea.corta_desde)
        if tarea.estado == EstadoTarea.PROGRAMADA:
            tarea.estado = EstadoTarea.ASIGNADA
        if tarea.delegado_id is None:
            tarea.delegado_id = elegidos[0][0]
        vivas = tarea.asignaciones.filter(estado__in=VIVAS).count()
        tarea.requeridos = max(tarea.requeridos, vivas)
        if vivas >= tarea.requeridos:
            tarea.corta_desde = None
        if (tarea.estado, tarea.delegado_id, tarea.requeridos, tarea.corta_desde) != antes:
            # Only what changed: a re-dispatch that only refills a task rewrites nothing.
            tarea.save(update_fields=["estado", "delegado", "requeridos", "corta_desde", "actualizada_en"])
        if anterior != tarea.estado:
            _registrar(tarea, usuario, anterior, tarea.estado, f"asignada a {len(elegidos)} efectivo(s)")
        publicaciones = []
        for a in asignaciones:
            ef = efectivos_map[a.efectivo_id]
            publicaciones.append(
                eventos.tarea_asignada(
                    tarea_datos(tarea),
                    efectivo_id=ef.pk,
                    efectivo=f"{ef.apellido}, {ef.nombre}",
                    distancia_m=a.distancia_m,
                    asignacion_id=a.pk,
                )
            )
            publicaciones.append(
                efectivo_estado_evento(efectivo=ef, anterior=EstadoEfectivo.DISPONIBLE, estado=EstadoEfectivo.EN_TAREA)
            )
        if anterior != tarea.estado:
            publicaciones.append(
                eventos.tarea_estado(
                    tarea_datos(tarea),
                    anterior=anterior,
                    por_usuario_id=usuario.pk if usuario else None,
                    asignados=_asignados(tarea),
                )
            )
        publish_many(publicaciones)
    metrics.DESPACHO.labels(modo=modo).observe(time.perf_counter() - inicio)
    metrics.ASIGNACIONES.labels(modo=modo).inc(len(asignaciones))
    return [Asignado(efectivos_map[a.efectivo_id], a.distancia_m) for a in asignaciones]


def _propia_bloquear(tarea_id: int, efectivo: Efectivo, estado: str, si_no_hay: Conflicto) -> tuple[Tarea, Asignacion]:
    """The task and the efectivo's own assignment in `estado`, both locked (task first, as every
    writer of a task locks them); `si_no_hay` is raised when there is none. Inside the caller's
    transaction."""
    tarea = Tarea.objects.select_for_update().get(pk=tarea_id)
    asignacion = Asignacion.objects.select_for_update().filter(tarea=tarea, efectivo=efectivo, estado=estado).first()
    if asignacion is None:
        raise si_no_hay
    return tarea, asignacion


def asignacion_llegar(*, tarea_id: int, usuario: Usuario) -> Asignacion:
    """The assigned efectivo says they reached the task's place ("Llegué", from the app or the
    bot): recorded once on their accepted assignment with the distance from their last fix, in
    the task's history and to the task's audience (`tarea.asignacion`, respuesta `llegada`)."""
    efectivo = efectivo_de(usuario=usuario)
    if efectivo is None:
        raise NoPermitido("Solo el efectivo asignado puede registrar su llegada.")
    with transaction.atomic():
        tarea, asignacion = _propia_bloquear(
            tarea_id,
            efectivo,
            EstadoAsignacion.ACEPTADA,
            Conflicto("Acepte la tarea antes de registrar su llegada.", codigo="sin_asignacion_aceptada"),
        )
        if asignacion.llegada_en is not None:
            return asignacion  # said twice (a replayed button): once is the record
        distancia = None
        if tarea.ubicacion is not None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT ST_Distance(e.ultima_posicion::geography, %s::geography) "
                    "FROM efectivos_efectivo e WHERE e.id = %s AND e.ultima_posicion IS NOT NULL",
                    [tarea.ubicacion.ewkt, efectivo.pk],
                )
                fila = cursor.fetchone()
                distancia = float(fila[0]) if fila else None
        asignacion.llegada_en = timezone.now()
        asignacion.llegada_distancia_m = distancia
        asignacion.save(update_fields=["llegada_en", "llegada_distancia_m"])
        a_metros = f" (a {round(distancia)} m del lugar)" if distancia is not None else ""
        _registrar(tarea, usuario, tarea.estado, tarea.estado, f"llegada de {efectivo}{a_metros}")
        publish_many([eventos.tarea_asignacion(tarea_datos(tarea), efectivo_id=efectivo.pk, respuesta="llegada")])
    return asignacion


def asignacion_responder(
    *, tarea_id: int, usuario: Usuario, acepta: bool, motivo: str = "", redespachar: bool = True
) -> Tarea:
    """The assigned efectivo accepts or rejects. A rejection frees them and, if the task is left
    without anyone and has a place, re-dispatches it to the next nearest available efectivo."""
    efectivo = efectivo_de(usuario=usuario)
    if efectivo is None:
        raise NoPermitido("Solo el efectivo asignado puede responder.")
    with transaction.atomic():
        tarea, asignacion = _propia_bloquear(
            tarea_id,
            efectivo,
            EstadoAsignacion.PENDIENTE,
            Conflicto("No tiene una asignación pendiente en esta tarea.", codigo="sin_asignacion_pendiente"),
        )
        asignacion.estado = EstadoAsignacion.ACEPTADA if acepta else EstadoAsignacion.RECHAZADA
        asignacion.respondida_en = timezone.now()
        asignacion.motivo = "" if acepta else (motivo or "rechazada")[:300]
        asignacion.save(update_fields=["estado", "respondida_en", "motivo"])
        accion = "aceptada" if acepta else "rechazada"
        metrics.RESPUESTAS.labels(respuesta=accion).inc()
        _registrar(
            tarea,
            usuario,
            tarea.estado,
            tarea.estado,
            f"asignación {accion} por {efectivo}" + (f": {motivo}" if motivo else ""),
        )
        publicaciones = [eventos.tarea_asignacion(tarea_datos(tarea), efectivo_id=efectivo.pk, respuesta=accion)]
        if not acepta:
            Efectivo.objects.filter(pk=efectivo.pk).update(
                estado=EstadoEfectivo.DISPONIBLE, actualizado_en=timezone.now()
            )
            en_bloque([efectivo], {"estado": (EstadoEfectivo.EN_TAREA, EstadoEfectivo.DISPONIBLE)})
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
                    eventos.tarea_estado(
                        tarea_datos(tarea),
                        anterior=EstadoTarea.ASIGNADA,
                        por_usuario_id=usuario.pk,
                        asignados=_asignados(tarea),
                    )
                )
            tarea.save()
        publish_many(publicaciones)
    if not acepta and redespachar:
        # At once: the next nearest available efectivo, up to the number the task asked for
        # (nobody in range: the task is marked "sin cubrir" and the commanders are told).
        from tareas.services.redespacho import tarea_completar

        tarea_completar(tarea_id=tarea.pk)
        tarea.refresh_from_db()
    return tarea


@rls.usar(rls.SISTEMA)  # an SOS dispatches colleagues the officer in danger cannot see (row-level security)
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
    unidad_id: int | None
    if alcance.todo:
        unidad_id = _unidad_del_lugar(lat, lon)
    elif alcance.es_mando:
        unidad_id = alcance.unidad_id
    elif reportante is not None:
        unidad_id = reportante.unidad_id
    else:
        raise NoPermitido("Solo efectivos con legajo, comandantes o administradores reportan emergencias.")
    if unidad_id is None:
        raise NoPermitido("El usuario no tiene unidad.")
    tarea = Tarea(
        titulo=f"Emergencia: {descripcion[:80]}",
        descripcion=descripcion,
        unidad_id=unidad_id,
        tipo=TipoTarea.EMERGENCIA,
        prioridad=Prioridad.CRITICA,
        ubicacion=Point(lon, lat, srid=4326),
        inicio_programado=timezone.now(),
        reportante=reportante,
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
    except Conflicto as exc:
        # Nobody in range: the emergency stays open and visible (programada), and its history
        # says why, for the commander who dispatches it by hand.
        asignados = []
        _registrar(tarea, usuario, tarea.estado, tarea.estado, f"sin despacho: {exc.mensaje}")
    tarea.refresh_from_db()
    return tarea, asignados


def plazo_aceptar(tarea: Tarea) -> timedelta:
    """How long an assignee of this task has to accept: its own `plazo_aceptar_s`, else
    DESPACHO_ACEPTAR_S for its priority (1 baja … 5 crítica)."""
    segundos = tarea.plazo_aceptar_s or settings.DESPACHO_ACEPTAR_S[min(5, max(1, tarea.prioridad)) - 1]
    return timedelta(seconds=segundos)


def radio_de_despacho(pedido_m: float | None) -> float:
    """The search radius: what the dispatcher asked for, never beyond DESPACHO_RADIO_MAX_M."""
    maximo = float(settings.DESPACHO_RADIO_MAX_M)
    return maximo if pedido_m is None else min(float(pedido_m), maximo)


def _unidades_de_despacho(tarea: Tarea, usuario: Usuario | None) -> list[int | None]:
    """Where the nearest are sought, in order (None: every unidad). An admin dispatches from every
    unidad; anyone else (a commander, or the system on an efectivo's report) from the task's own
    unidad first and, when nobody of it is in range, reinforcements from any (DESPACHO_REFUERZOS)."""
    if usuario is not None and alcance_de(usuario).todo:
        return [None]
    return [tarea.unidad_id, None] if settings.DESPACHO_REFUERZOS else [tarea.unidad_id]


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
    return int(fila[0])
