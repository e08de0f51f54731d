"""What the bot's handlers do, as sync domain code: resolve the Telegram account to our user (on
every call: unlinking takes effect at once) and call the same selectors and services as the API.
The handlers in telegram_bot.bot run these with `sync_to_async` and only talk to Telegram."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from efectivos import services as efectivos_services
from efectivos.models import EstadoEfectivo, FuentePosicion
from efectivos.selectors import efectivo_de
from gad_project.exceptions import Conflicto, ErrorDominio
from geocercas import services as geocercas_services
from mensajes import services as mensajes_services
from posiciones import services as posiciones_services
from seguridad import services as seguridad_services
from seguridad.models import EstadoSos, FuenteSos, Sos
from tareas import selectors as tareas_selectors
from tareas import services as tareas_services
from tareas.models import Asignacion, EstadoAsignacion
from telegram_bot import mensajes, services
from telegram_bot.models import EmergenciaPendiente

# Readings from Telegram get an id derived from the message and its edit time: a replayed update
# produces the same id and is stored once.
NS_LECTURAS = uuid.UUID("6f1c2a0e-5b7d-4c1e-9a57-0e2f3b9d4c11")


def efectivo_vinculado(telegram_id: int):
    usuario = services.usuario_de_telegram(telegram_id)
    if usuario is None:
        return None, None
    return usuario, efectivo_de(usuario=usuario)


def mis_tareas(telegram_id: int) -> list[dict] | None:
    usuario, efectivo = efectivo_vinculado(telegram_id)
    if efectivo is None:
        return None
    estados = {
        tarea_id: (estado, llegada_en is not None)
        for tarea_id, estado, llegada_en in Asignacion.objects.filter(
            efectivo=efectivo, estado__in=[EstadoAsignacion.PENDIENTE, EstadoAsignacion.ACEPTADA]
        ).values_list("tarea_id", "estado", "llegada_en")
    }
    return [
        {
            "texto": mensajes.tarea_texto(
                codigo=t.codigo,
                titulo=t.titulo,
                estado=t.estado,
                prioridad=t.prioridad,
                descripcion=t.descripcion,
                lugar=t.lugar,
            ),
            "botones": mensajes.tarea_botones(
                t.pk, t.estado, estados.get(t.pk, (None, False))[0], llego=estados.get(t.pk, (None, False))[1]
            ),
            "ubicacion": (t.ubicacion.y, t.ubicacion.x) if t.ubicacion else None,
        }
        for t in tareas_selectors.mis_tareas(usuario=usuario)
    ]


ACCIONES_TAREA = ("aceptar", "rechazar", "llegue", "iniciar", "pausar", "reanudar", "finalizar")


def tarea_accion(telegram_id: int, accion: str, tarea_id: int, motivo: str = "") -> tuple[str, dict | None]:
    """Apply a button's action with the same services and rules as the API. Returns the answer for
    the button and the task's new text/buttons (None when the user may not see it)."""
    usuario, efectivo = efectivo_vinculado(telegram_id)
    if efectivo is None:
        return "Cuenta no vinculada.", None
    if not tareas_selectors.tareas_visibles(usuario=usuario).filter(pk=tarea_id).exists():
        return "Tarea inexistente o fuera de su alcance.", None
    if accion not in ACCIONES_TAREA:
        return "Acción desconocida.", tarea_mensaje(efectivo, usuario, tarea_id)
    try:
        if accion in ("aceptar", "rechazar"):
            tareas_services.asignacion_responder(
                tarea_id=tarea_id, usuario=usuario, acepta=accion == "aceptar", motivo=motivo
            )
        elif accion == "llegue":
            tareas_services.asignacion_llegar(tarea_id=tarea_id, usuario=usuario)
        else:
            tareas_services.tarea_transicionar(tarea_id=tarea_id, accion=accion, usuario=usuario)
        respuesta = {
            "aceptar": "Tarea aceptada.",
            "rechazar": "Tarea rechazada" + (f" ({motivo})." if motivo else "."),
            "llegue": "Llegada registrada: el mando ya lo ve.",
            "iniciar": "Tarea iniciada.",
            "pausar": "Tarea pausada.",
            "reanudar": "Tarea reanudada.",
            "finalizar": "Tarea finalizada.",
        }[accion]
    except ErrorDominio as exc:
        respuesta = exc.mensaje
    return respuesta, tarea_mensaje(efectivo, usuario, tarea_id)


def tarea_mensaje(efectivo, usuario, tarea_id: int) -> dict:
    """A task's text and the buttons this efectivo has on it now."""
    tarea = tareas_selectors.tareas_visibles(usuario=usuario).get(pk=tarea_id)
    asignacion = (
        Asignacion.objects.filter(tarea_id=tarea_id, efectivo=efectivo)
        .order_by("-id")
        .values_list("estado", "llegada_en")
        .first()
    )
    estado, llegada_en = asignacion or (None, None)
    return {
        "texto": mensajes.tarea_texto(
            codigo=tarea.codigo, titulo=tarea.titulo, estado=tarea.estado, prioridad=tarea.prioridad, lugar=tarea.lugar
        ),
        "botones": mensajes.tarea_botones(tarea.pk, tarea.estado, estado, llego=llegada_en is not None),
    }


def tarea_vista(telegram_id: int, tarea_id: int) -> dict | None:
    """The task message again (the "Volver" of the reasons keyboard)."""
    usuario, efectivo = efectivo_vinculado(telegram_id)
    if efectivo is None or not tareas_selectors.tareas_visibles(usuario=usuario).filter(pk=tarea_id).exists():
        return None
    return tarea_mensaje(efectivo, usuario, tarea_id)


def estado_actual(telegram_id: int) -> str | None:
    _, efectivo = efectivo_vinculado(telegram_id)
    return efectivo.estado if efectivo else None


def estado_cambiar(telegram_id: int, estado: str) -> tuple[str, str | None]:
    _, efectivo = efectivo_vinculado(telegram_id)
    if efectivo is None:
        return "Cuenta no vinculada.", None
    if estado not in mensajes.ESTADOS_ELEGIBLES:
        return "Estado no válido.", efectivo.estado
    try:
        efectivo = efectivos_services.efectivo_estado_cambiar(efectivo=efectivo, estado=estado)
    except Conflicto as exc:
        return exc.mensaje, efectivo.estado
    return f"Estado: {EstadoEfectivo(efectivo.estado).label}.", efectivo.estado


def ubicacion_registrar(
    telegram_id: int, chat_id: int, message_id: int, momento, lat, lon, precision, rumbo
) -> str | None:
    """What became of a shared location: "aceptada", "duplicada" or "fuera_de_servicio" (taken
    off duty: not stored); None when the account is not linked to an efectivo."""
    _, efectivo = efectivo_vinculado(telegram_id)
    if efectivo is None:
        return None
    lectura = posiciones_services.LecturaNueva(
        id_cliente=uuid.uuid5(NS_LECTURAS, f"{chat_id}:{message_id}:{momento.timestamp()}"),
        efectivo_id=efectivo.pk,
        lat=lat,
        lon=lon,
        registrada_en=momento,
        precision_m=precision,
        velocidad_kmh=None,
        rumbo=rumbo,
    )
    resultado = posiciones_services.posiciones_registrar(lecturas=[lectura], fuente=FuentePosicion.TELEGRAM)
    return str(resultado.destinos[0])


def alerta_reconocer(telegram_id: int, alerta_id: int) -> tuple[str, bool]:
    """A commander's "Reconocer" on an escalated alert: the same service as the map's button
    (scope and state enforced there). Returns the reply and whether it was acknowledged."""
    usuario = services.usuario_de_telegram(telegram_id)
    if usuario is None:
        return mensajes.SIN_VINCULAR, False
    try:
        geocercas_services.alerta_reconocer(alerta_id=alerta_id, usuario=usuario)
    except ErrorDominio as exc:
        return exc.mensaje, False
    return f"Reconocida por {usuario.get_full_name() or usuario.get_username()}.", True


# A pending /emergencia older than this is forgotten: a location shared much later is not its place.
EMERGENCIA_VIGENCIA = timedelta(minutes=30)


def emergencia_esperar(telegram_id: int, descripcion: str) -> bool:
    """Keep the description until the location arrives (False: the account is not linked)."""
    usuario, efectivo = efectivo_vinculado(telegram_id)
    if efectivo is None:
        return False
    EmergenciaPendiente.objects.update_or_create(
        usuario=usuario, defaults={"descripcion": descripcion[:2000], "creada_en": timezone.now()}
    )
    return True


def emergencia_tomar(telegram_id: int) -> str | None:
    """The pending description, taken once (None when there is none, or it expired)."""
    usuario = services.usuario_de_telegram(telegram_id)
    if usuario is None:
        return None
    with transaction.atomic():
        pendiente = EmergenciaPendiente.objects.select_for_update().filter(usuario=usuario).first()
        if pendiente is None:
            return None
        pendiente.delete()
    return pendiente.descripcion if timezone.now() - pendiente.creada_en <= EMERGENCIA_VIGENCIA else None


def emergencia_reportar(telegram_id: int, descripcion: str, lat: float, lon: float) -> str:
    usuario, efectivo = efectivo_vinculado(telegram_id)
    if efectivo is None:
        return mensajes.SIN_VINCULAR
    try:
        tarea, asignados = tareas_services.emergencia_crear(usuario=usuario, lat=lat, lon=lon, descripcion=descripcion)
    except ErrorDominio as exc:
        return exc.mensaje
    if not asignados:
        return f"🚨 Emergencia {tarea.codigo} registrada. No hay efectivos disponibles cerca: el centro de operaciones ya la ve."
    quienes = ", ".join(
        f"{a.efectivo.apellido} ({round(a.distancia_m)} m)" if a.distancia_m is not None else a.efectivo.apellido
        for a in asignados
    )
    return f"🚨 Emergencia {tarea.codigo} registrada y despachada a: {quienes}."


def sos_pedir(telegram_id: int) -> tuple[str, bool]:
    """The SOS button: raised at once (with the last fix, if recent). Returns the reply and
    whether the location is still needed."""
    usuario, efectivo = efectivo_vinculado(telegram_id)
    if efectivo is None:
        return mensajes.SIN_VINCULAR, False
    try:
        sos, creado, asignados = seguridad_services.sos_activar(usuario=usuario, fuente=FuenteSos.TELEGRAM)
    except ErrorDominio as exc:
        return exc.mensaje, False
    despachado = creado and sos.tarea_id is not None
    texto = mensajes.sos_texto(ubicado=sos.punto is not None, despachado=despachado, refuerzos=len(asignados))
    return texto, sos.punto is None


def sos_ubicar(telegram_id: int, lat: float, lon: float, precision: float | None) -> str | None:
    """A location shared while the efectivo's SOS has none: it is the SOS's place, and backup goes."""
    usuario, efectivo = efectivo_vinculado(telegram_id)
    if efectivo is None or not Sos.objects.filter(efectivo=efectivo, estado=EstadoSos.ACTIVO, punto=None).exists():
        return None
    _, _, asignados = seguridad_services.sos_activar(
        usuario=usuario, lat=lat, lon=lon, precision_m=precision, fuente=FuenteSos.TELEGRAM
    )
    return mensajes.sos_texto(ubicado=True, despachado=True, refuerzos=len(asignados))


def mensaje_confirmar(telegram_id: int, mensaje_id: int) -> tuple[str, bool]:
    """ "Recibido" on an urgent message: the same service as the field app's button."""
    usuario = services.usuario_de_telegram(telegram_id)
    if usuario is None:
        return mensajes.SIN_VINCULAR, False
    try:
        mensajes_services.entrega_marcar(usuario=usuario, mensaje_id=mensaje_id, paso="confirmado", via="telegram")
    except ErrorDominio as exc:
        return exc.mensaje, False
    return "Recepción confirmada.", True


def bienestar_ok(telegram_id: int) -> tuple[str, bool]:
    """ "Estoy bien" on a check-in ask."""
    usuario = services.usuario_de_telegram(telegram_id)
    if usuario is None:
        return mensajes.SIN_VINCULAR, False
    try:
        seguridad_services.bienestar_responder(usuario=usuario, via="telegram")
    except ErrorDominio as exc:
        return exc.mensaje, False
    return "Gracias: el mando sabe que está bien.", True


def mis_accesos(telegram_id: int, limite: int = 10) -> str | None:
    """The last reads of the officer's data by someone else, as the bot's answer to /accesos
    (None: not linked to an efectivo)."""
    from auditoria.selectors import acceso_vista, accesos_a

    usuario, efectivo = efectivo_vinculado(telegram_id)
    if efectivo is None:
        return None
    qs = accesos_a(efectivo_id=efectivo.pk, usuario_id=usuario.pk)
    total = qs.count()
    if not total:
        return "Nadie consultó sus datos."
    lineas = [f"Consultas a sus datos: {total}" + (f" (las últimas {limite})" if total > limite else "")]
    for r in qs[:limite]:
        a = acceso_vista(r)
        cuando = timezone.localtime(a["cuando"]).strftime("%d/%m/%Y %H:%M")
        motivo = a["motivo_texto"] or "sin motivo registrado"
        if a["motivo_detalle"]:
            motivo += f" — {a['motivo_detalle']}"
        unidad = f" ({a['unidad']})" if a["unidad"] else ""
        lineas.append(f"• {cuando} · {a['quien']}{unidad}: {a['que']}. Motivo: {motivo}")
    lineas.append("Todo el detalle y la descarga de sus datos, en la app de campo («Mis datos»).")
    return "\n".join(lineas)


def servicio(telegram_id: int, accion: str) -> str | None:
    """/inicio_servicio and /fin_servicio (efectivos.turnos); the answer to send (None: not
    linked to an efectivo)."""
    from efectivos import turnos

    _, efectivo = efectivo_vinculado(telegram_id)
    if efectivo is None:
        return None
    try:
        turno = (turnos.servicio_iniciar if accion == "inicio" else turnos.servicio_terminar)(efectivo=efectivo)
    except ErrorDominio as exc:
        return exc.mensaje
    if accion == "inicio":
        return f"✅ Servicio iniciado. Turno hasta las {timezone.localtime(turno.fin):%H:%M}."
    return "Servicio terminado: su ubicación ya no se registra (salvo un SOS o una tarea abierta)."
