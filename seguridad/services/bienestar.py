"""Welfare check-ins (*control de bienestar*). A commander starts a cadence for an efectivo, for
everyone on a task or for a unidad; every interval the officer is asked to answer "Estoy bien"
(field app or bot), or any fresh fix counts when BIENESTAR_POSICION_CUENTA allows it. The
interval tightens while the officer is inside a restricted geocerca, on an emergency task, or
alone at night (each factor a setting). A miss warns their commanders and asks again at once;
BIENESTAR_FALLOS_SOS misses in a row raise an SOS on their behalf, through the SOS service, so
backup is dispatched to their last known position.

Every change is in the database first (a restart of any process loses nothing) and published on
the event log in the same transaction; the sweep claims due rows with SKIP LOCKED, so two Celery
workers never ask or count a miss twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.gis.measure import D
from django.db import transaction
from django.utils import timezone

from efectivos.alcance import alcance_de, exigir_mando, exigir_mando_en
from efectivos.models import Efectivo, EstadoEfectivo, Usuario
from efectivos.selectors import efectivo_visible
from gad_project.exceptions import Conflicto, EntradaInvalida, NoEncontrado
from gad_project.geo import grados_que_cubren
from gad_project.tiempo import iso
from geocercas.models import Presencia, TipoGeocerca
from realtime import eventos
from realtime.services import publish_many
from seguridad.models import ControlBienestar, EstadoBienestar, FuenteSos
from seguridad.services.sos import sos_activar
from tareas.models import ESTADOS_ABIERTOS, Asignacion, EstadoAsignacion, Tarea, TipoTarea

INTERVALO_MIN, INTERVALO_MAX = 1, 24 * 60
EN_SERVICIO = (EstadoEfectivo.DISPONIBLE, EstadoEfectivo.EN_TAREA, EstadoEfectivo.NO_DISPONIBLE)


def intervalo_vigente(control: ControlBienestar, ahora: datetime) -> tuple[float, list[str]]:
    """The cadence in force now and the factors that tightened it (never under a minute)."""
    e = control.efectivo
    factores: list[tuple[str, float]] = []
    if (
        settings.BIENESTAR_FACTOR_RESTRINGIDA < 1
        and Presencia.objects.filter(
            efectivo=e, dentro=True, geocerca__activa=True, geocerca__tipo=TipoGeocerca.RESTRINGIDA
        ).exists()
    ):
        factores.append(("restringida", settings.BIENESTAR_FACTOR_RESTRINGIDA))
    if (
        settings.BIENESTAR_FACTOR_EMERGENCIA < 1
        and Asignacion.objects.filter(
            efectivo=e,
            estado__in=(EstadoAsignacion.PENDIENTE, EstadoAsignacion.ACEPTADA),
            tarea__tipo=TipoTarea.EMERGENCIA,
            tarea__estado__in=ESTADOS_ABIERTOS,
        ).exists()
    ):
        factores.append(("emergencia", settings.BIENESTAR_FACTOR_EMERGENCIA))
    if settings.BIENESTAR_FACTOR_NOCHE_SOLO < 1 and _de_noche(ahora) and _solo(e, ahora):
        factores.append(("noche_solo", settings.BIENESTAR_FACTOR_NOCHE_SOLO))
    minutos = control.intervalo_min
    for _, f in factores:
        minutos *= f
    return max(float(INTERVALO_MIN), minutos), [n for n, _ in factores]


def _de_noche(ahora: datetime) -> bool:
    hora = timezone.localtime(ahora).hour
    desde, hasta = settings.BIENESTAR_NOCHE_DESDE, settings.BIENESTAR_NOCHE_HASTA
    return desde <= hora or hora < hasta if desde > hasta else desde <= hora < hasta


def _solo(e: Efectivo, ahora: datetime) -> bool:
    """No other efectivo in service with a recent fix within BIENESTAR_SOLO_RADIO_M of them."""
    if e.ultima_posicion is None:
        return True
    reciente = ahora - timedelta(minutes=settings.DESPACHO_FIX_MAX_MIN)
    radio = settings.BIENESTAR_SOLO_RADIO_M
    return not (
        Efectivo.objects.filter(
            estado__in=EN_SERVICIO,
            ultima_posicion_en__gte=reciente,
            # The GiST index narrows by a box in degrees that holds the circle; metres decide.
            ultima_posicion__dwithin=(e.ultima_posicion, grados_que_cubren(radio, e.ultima_posicion.y)),
            ultima_posicion__distance_lte=(e.ultima_posicion, D(m=radio)),
        )
        .exclude(pk=e.pk)
        .exists()
    )


def bienestar_datos(
    control: ControlBienestar, *, intervalo: float | None = None, factores: Sequence[str] = ()
) -> eventos.BienestarDatos:
    e = control.efectivo
    return {
        "control_id": control.pk,
        "efectivo_id": e.pk,
        "efectivo": f"{e.apellido}, {e.nombre}",
        "unidad_id": e.unidad_id,
        "estado": control.estado,
        "intervalo_min": intervalo if intervalo is not None else control.intervalo_min,
        "factores": list(factores),
        "proximo_en": iso(control.proximo_en) if control.terminado_en is None else None,
        "pedido_en": iso(control.pedido_en) if control.pedido_en else None,
        "vence_en": iso(control.vence_en) if control.vence_en else None,
        "ultima_respuesta_en": iso(control.ultima_respuesta_en) if control.ultima_respuesta_en else None,
        "fallos_seguidos": control.fallos_seguidos,
        "sos_id": control.sos_id,
    }


def _programar(control: ControlBienestar, ahora: datetime, *, ya: bool = False) -> eventos.BienestarDatos:
    """Set the next ask (now, or one interval in force from now) and return the event's data."""
    intervalo, factores = intervalo_vigente(control, ahora)
    control.proximo_en = ahora if ya else ahora + timedelta(minutes=intervalo)
    control.pedido_en = control.vence_en = None
    return bienestar_datos(control, intervalo=intervalo, factores=factores)


def bienestar_iniciar(
    *,
    usuario: Usuario,
    intervalo_min: float,
    efectivo_id: int | None = None,
    tarea_id: int | None = None,
    unidad_id: int | None = None,
) -> list[ControlBienestar]:
    """Start (or change the interval of) the cadence for one efectivo, everyone assigned to a task,
    or everyone in service in a unidad, within the caller's command. One cadence per efectivo."""
    exigir_mando(usuario, "Solo comandantes y administradores inician controles de bienestar.")
    if not INTERVALO_MIN <= intervalo_min <= INTERVALO_MAX:
        raise EntradaInvalida(
            "El intervalo va de 1 minuto a 24 horas.", detalle={"intervalo_min": intervalo_min}, codigo="intervalo"
        )
    if sum(x is not None for x in (efectivo_id, tarea_id, unidad_id)) != 1:
        raise EntradaInvalida("Indique un efectivo, una tarea o una unidad.", codigo="sin_destinatarios")
    tarea = None
    if efectivo_id is not None:
        efectivos = [efectivo_visible(usuario=usuario, efectivo_id=efectivo_id)]
    elif tarea_id is not None:
        tarea = Tarea.objects.filter(pk=tarea_id).first()
        if tarea is None or not alcance_de(usuario).manda_en(tarea.unidad_id):
            raise NoEncontrado("Tarea inexistente o fuera de su alcance.")
        efectivos = list(
            Efectivo.objects.filter(
                asignaciones__tarea=tarea,
                asignaciones__estado__in=(EstadoAsignacion.PENDIENTE, EstadoAsignacion.ACEPTADA),
            ).select_related("unidad")
        )
    else:
        assert unidad_id is not None
        exigir_mando_en(usuario, unidad_id, "Solo puede iniciar controles en su propia unidad.")
        efectivos = list(Efectivo.objects.filter(unidad_id=unidad_id, estado__in=EN_SERVICIO).select_related("unidad"))
    efectivos = [e for e in efectivos if e.usuario_id is not None]
    if not efectivos:
        raise EntradaInvalida(
            "Nadie a quien pedirle el control (sin efectivos con cuenta).", codigo="sin_destinatarios"
        )
    ahora = timezone.now()
    controles = []
    with transaction.atomic():
        publicaciones = []
        for e in efectivos:
            control = ControlBienestar.objects.select_for_update().filter(efectivo=e, terminado_en__isnull=True).first()
            if control is None:
                control = ControlBienestar(efectivo=e, creado_por=usuario, intervalo_min=intervalo_min, tarea=tarea)
            control.efectivo = e
            control.intervalo_min = intervalo_min
            datos = _programar(control, ahora) if control.pedido_en is None else bienestar_datos(control)
            control.save()
            datos["control_id"] = control.pk
            publicaciones.append(eventos.bienestar(datos))
            controles.append(control)
        publish_many(publicaciones)
    return controles


def bienestar_terminar(*, usuario: Usuario, control_id: int) -> ControlBienestar:
    with transaction.atomic():
        control = (
            ControlBienestar.objects.select_for_update(of=("self",))
            .select_related("efectivo")
            .filter(pk=control_id)
            .first()
        )
        if control is None or not alcance_de(usuario).manda_en(control.efectivo.unidad_id):
            raise NoEncontrado("Control inexistente o fuera de su alcance.")
        if control.terminado_en is not None:
            raise Conflicto("El control ya terminó.", codigo="control_terminado")
        control.terminado_en = timezone.now()
        control.terminado_por = usuario
        control.estado = EstadoBienestar.TERMINADO
        control.pedido_en = control.vence_en = None
        control.save()
        publish_many([eventos.bienestar(bienestar_datos(control))])
    return control


def bienestar_responder(*, usuario: Usuario, via: str = "campo") -> ControlBienestar:
    """The officer's "Estoy bien": answers the ask in course (or, before one, resets the clock)."""
    alcance = alcance_de(usuario)
    if alcance.efectivo_id is None:
        raise NoEncontrado("Solo un efectivo con legajo responde un control de bienestar.")
    ahora = timezone.now()
    with transaction.atomic():
        control = (
            ControlBienestar.objects.select_for_update(of=("self",))
            .select_related("efectivo")
            .filter(efectivo_id=alcance.efectivo_id, terminado_en__isnull=True)
            .first()
        )
        if control is None:
            raise Conflicto("No tiene un control de bienestar en curso.", codigo="sin_control")
        publish_many([eventos.bienestar(_respondido(control, ahora, via))])
    return control


def _respondido(control: ControlBienestar, ahora: datetime, via: str) -> eventos.BienestarDatos:
    control.estado = EstadoBienestar.AL_DIA
    control.ultima_respuesta_en = ahora
    control.ultima_via = via
    control.fallos_seguidos = 0
    control.respuestas += 1
    datos = _programar(control, ahora)
    control.save()
    return datos


def bienestar_revisar(*, ahora: datetime | None = None, lote: int = 500) -> dict[str, int]:
    """The sweep (Celery beat, every few seconds): ask those whose turn came, and settle asks
    whose deadline passed (answered by a fresh fix when allowed, else a miss; enough misses in a
    row raise an SOS). Returns counts by outcome."""
    ahora = ahora or timezone.now()
    cuenta = {"pedidos": 0, "por_posicion": 0, "fallos": 0, "sos": 0}
    plazo = timedelta(minutes=settings.BIENESTAR_PLAZO_MIN)
    with transaction.atomic():
        vencidos = list(
            ControlBienestar.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("efectivo__usuario")
            .filter(terminado_en__isnull=True, vence_en__lte=ahora)[:lote]
        )
        publicaciones = []
        for control in vencidos:
            e = control.efectivo
            assert control.pedido_en is not None
            if (
                settings.BIENESTAR_POSICION_CUENTA
                and e.ultima_posicion_en
                and e.ultima_posicion_en >= control.pedido_en
            ):
                publicaciones.append(eventos.bienestar(_respondido(control, ahora, "posicion")))
                cuenta["por_posicion"] += 1
                continue
            control.estado = EstadoBienestar.FALLIDO
            control.fallos += 1
            control.fallos_seguidos += 1
            cuenta["fallos"] += 1
            if control.fallos_seguidos >= settings.BIENESTAR_FALLOS_SOS and control.sos_id is None and e.usuario:
                sos, _, _ = sos_activar(usuario=e.usuario, fuente=FuenteSos.BIENESTAR)
                control.sos = sos
                cuenta["sos"] += 1
            datos = _programar(control, ahora, ya=True)  # a miss is asked again at once
            control.save()
            publicaciones.append(eventos.bienestar(datos))
        publish_many(publicaciones)
    with transaction.atomic():
        turnos = list(
            ControlBienestar.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("efectivo")
            .filter(terminado_en__isnull=True, pedido_en__isnull=True, proximo_en__lte=ahora)[:lote]
        )
        publicaciones = []
        for control in turnos:
            e = control.efectivo
            if e.estado == EstadoEfectivo.FUERA_SERVICIO:
                _programar(control, ahora)  # off duty: nobody to ask; looked at again later
                control.save()
                continue
            fresco = ahora - plazo
            if (
                settings.BIENESTAR_POSICION_CUENTA
                and control.fallos_seguidos == 0
                and e.ultima_posicion_en
                and e.ultima_posicion_en >= max(fresco, control.ultima_respuesta_en or control.creado_en)
            ):
                publicaciones.append(eventos.bienestar(_respondido(control, ahora, "posicion")))
                cuenta["por_posicion"] += 1
                continue
            control.estado = EstadoBienestar.PEDIDO if control.fallos_seguidos == 0 else EstadoBienestar.FALLIDO
            control.pedido_en = ahora
            control.vence_en = ahora + plazo
            intervalo, factores = intervalo_vigente(control, ahora)
            control.save()
            publicaciones.append(
                eventos.bienestar(bienestar_datos(control, intervalo=intervalo, factores=factores), pedido=True)
            )
            cuenta["pedidos"] += 1
        publish_many(publicaciones)
    return cuenta
