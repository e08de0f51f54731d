"""The Telegram bot (python-telegram-bot): handlers for commands, buttons and locations.

Handlers are async (PTB); everything they do goes through the domain services, which are sync
Django code, run with `sync_to_async` on one thread. The Telegram user is resolved to our user on
every update (never cached), so unlinking takes effect at once. Every update id is recorded
before it is handled: a replayed update is dropped."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from functools import wraps

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from efectivos import services as efectivos_services
from efectivos.models import EstadoEfectivo, FuentePosicion
from efectivos.selectors import efectivo_de
from gad_project.exceptions import Conflicto, ErrorDominio
from tareas import selectors as tareas_selectors
from tareas import services as tareas_services
from tareas.models import Asignacion, EstadoAsignacion
from telegram_bot import mensajes, metrics, services

logger = logging.getLogger(__name__)
# Readings from Telegram get an id derived from the message and its edit time: a replayed update
# produces the same id and is stored once.
NS_LECTURAS = uuid.UUID("6f1c2a0e-5b7d-4c1e-9a57-0e2f3b9d4c11")


def _db(fn: Callable) -> Callable:
    """Run a sync domain function from a handler: one thread, fresh connections when needed."""

    @wraps(fn)
    def envuelta(*args, **kwargs):
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(envuelta, thread_sensitive=True)


def _medido(comando: str):
    def decorador(handler):
        @wraps(handler)
        async def envuelto(update: Update, context: ContextTypes.DEFAULT_TYPE):
            inicio = time.perf_counter()
            try:
                return await handler(update, context)
            finally:
                metrics.COMANDOS.labels(comando=comando).observe(time.perf_counter() - inicio)

        return envuelto

    return decorador


# --- sync parts (domain) -------------------------------------------------------------------------


def _efectivo_vinculado(telegram_id: int):
    usuario = services.usuario_de_telegram(telegram_id)
    if usuario is None:
        return None, None
    return usuario, efectivo_de(usuario=usuario)


def _mis_tareas(telegram_id: int) -> list[dict] | None:
    usuario, efectivo = _efectivo_vinculado(telegram_id)
    if efectivo is None:
        return None
    estados = dict(
        Asignacion.objects.filter(
            efectivo=efectivo, estado__in=[EstadoAsignacion.PENDIENTE, EstadoAsignacion.ACEPTADA]
        ).values_list("tarea_id", "estado")
    )
    return [
        {
            "texto": mensajes.tarea_texto(
                codigo=t.codigo, titulo=t.titulo, estado=t.estado, prioridad=t.prioridad, descripcion=t.descripcion
            ),
            "botones": mensajes.tarea_botones(t.pk, t.estado, estados.get(t.pk)),
        }
        for t in tareas_selectors.mis_tareas(usuario=usuario)
    ]


def _tarea_accion(telegram_id: int, accion: str, tarea_id: int) -> tuple[str, dict | None]:
    """Apply a button's action with the same services and rules as the API. Returns the answer for
    the button and the task's new text/buttons (None when the user may not see it)."""
    usuario, efectivo = _efectivo_vinculado(telegram_id)
    if efectivo is None:
        return "Cuenta no vinculada.", None
    if not tareas_selectors.tareas_visibles(usuario=usuario).filter(pk=tarea_id).exists():
        return "Tarea inexistente o fuera de su alcance.", None
    try:
        if accion in ("aceptar", "rechazar"):
            tareas_services.asignacion_responder(tarea_id=tarea_id, usuario=usuario, acepta=accion == "aceptar")
        else:
            tareas_services.tarea_transicionar(tarea_id=tarea_id, accion=accion, usuario=usuario)
        respuesta = {
            "aceptar": "Tarea aceptada.",
            "rechazar": "Tarea rechazada.",
            "iniciar": "Tarea iniciada.",
            "pausar": "Tarea pausada.",
            "reanudar": "Tarea reanudada.",
            "finalizar": "Tarea finalizada.",
        }.get(accion, "Hecho.")
    except ErrorDominio as exc:
        respuesta = exc.mensaje
    tarea = tareas_selectors.tareas_visibles(usuario=usuario).get(pk=tarea_id)
    asignacion = (
        Asignacion.objects.filter(tarea_id=tarea_id, efectivo=efectivo)
        .order_by("-id")
        .values_list("estado", flat=True)
        .first()
    )
    return respuesta, {
        "texto": mensajes.tarea_texto(
            codigo=tarea.codigo, titulo=tarea.titulo, estado=tarea.estado, prioridad=tarea.prioridad
        ),
        "botones": mensajes.tarea_botones(tarea.pk, tarea.estado, asignacion),
    }


def _estado_actual(telegram_id: int) -> str | None:
    _, efectivo = _efectivo_vinculado(telegram_id)
    return efectivo.estado if efectivo else None


def _estado_cambiar(telegram_id: int, estado: str) -> tuple[str, str | None]:
    _, efectivo = _efectivo_vinculado(telegram_id)
    if efectivo is None:
        return "Cuenta no vinculada.", None
    if estado not in mensajes.ESTADOS_ELEGIBLES:
        return "Estado no válido.", efectivo.estado
    try:
        efectivo = efectivos_services.efectivo_estado_cambiar(efectivo=efectivo, estado=estado)
    except Conflicto as exc:
        return exc.mensaje, efectivo.estado
    return f"Estado: {EstadoEfectivo(efectivo.estado).label}.", efectivo.estado


def _ubicacion(telegram_id: int, chat_id: int, message_id: int, momento, lat, lon, precision, rumbo) -> bool:
    _, efectivo = _efectivo_vinculado(telegram_id)
    if efectivo is None:
        return False
    lectura = efectivos_services.LecturaNueva(
        id_cliente=uuid.uuid5(NS_LECTURAS, f"{chat_id}:{message_id}:{momento.timestamp()}"),
        efectivo_id=efectivo.pk,
        lat=lat,
        lon=lon,
        registrada_en=momento,
        precision_m=precision,
        velocidad_kmh=None,
        rumbo=rumbo,
    )
    efectivos_services.posiciones_registrar(lecturas=[lectura], fuente=FuentePosicion.TELEGRAM)
    return True


def _emergencia(telegram_id: int, descripcion: str, lat: float, lon: float) -> str:
    usuario, efectivo = _efectivo_vinculado(telegram_id)
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


# --- handlers ------------------------------------------------------------------------------------


async def deduplicar(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await _db(services.actualizacion_registrar)(update.update_id):
        metrics.ACTUALIZACIONES.labels(tipo="duplicada").inc()
        raise ApplicationHandlerStop
    tipo = "boton" if update.callback_query else "edicion" if update.edited_message else "mensaje"
    metrics.ACTUALIZACIONES.labels(tipo=tipo).inc()


@_medido("start")
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    usuario_tg = update.effective_user
    if context.args:
        try:
            usuario = await _db(services.cuenta_vincular)(codigo=context.args[0], telegram_id=usuario_tg.id)
        except ErrorDominio as exc:
            await update.effective_message.reply_text(f"No se pudo vincular: {exc.mensaje}")
            return
        nombre = usuario.get_full_name() or usuario.get_username()
        await update.effective_message.reply_text(f"✅ Listo, {nombre}: su cuenta quedó vinculada.\n\n{mensajes.AYUDA}")
        return
    _, efectivo = await _db(_efectivo_vinculado)(usuario_tg.id)
    if efectivo is None:
        await update.effective_message.reply_text(mensajes.SIN_VINCULAR)
        return
    await update.effective_message.reply_text(f"Hola, {efectivo.nombre}.\n\n{mensajes.AYUDA}")


@_medido("ayuda")
async def ayuda(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _, efectivo = await _db(_efectivo_vinculado)(update.effective_user.id)
    await update.effective_message.reply_text(mensajes.AYUDA if efectivo else mensajes.SIN_VINCULAR)


async def _enviar_pagina(update: Update, telegram_id: int, pagina: int) -> None:
    tareas = await _db(_mis_tareas)(telegram_id)
    mensaje = update.effective_message
    if tareas is None:
        await mensaje.reply_text(mensajes.SIN_VINCULAR)
        return
    if not tareas:
        await mensaje.reply_text("No tiene tareas abiertas.")
        return
    paginas = -(-len(tareas) // mensajes.POR_PAGINA)
    pagina = min(max(pagina, 1), paginas)
    desde = (pagina - 1) * mensajes.POR_PAGINA
    for t in tareas[desde : desde + mensajes.POR_PAGINA]:
        await mensaje.reply_text(t["texto"], reply_markup=mensajes.teclado(t["botones"]))
    if paginas > 1:
        nav = []
        if pagina > 1:
            nav.append(mensajes.boton("◀ Anteriores", f"p:{pagina - 1}"))
        if pagina < paginas:
            nav.append(mensajes.boton("Siguientes ▶", f"p:{pagina + 1}"))
        await mensaje.reply_text(
            f"Página {pagina} de {paginas} ({len(tareas)} tareas)", reply_markup=mensajes.teclado([nav])
        )


@_medido("tareas")
async def tareas(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _enviar_pagina(update, update.effective_user.id, 1)


@_medido("estado")
async def estado(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    actual = await _db(_estado_actual)(update.effective_user.id)
    if actual is None:
        await update.effective_message.reply_text(mensajes.SIN_VINCULAR)
        return
    await update.effective_message.reply_text(
        f"Su estado: {EstadoEfectivo(actual).label}. Elija el nuevo:",
        reply_markup=mensajes.teclado(mensajes.estado_teclado(actual)),
    )


@_medido("emergencia")
async def emergencia(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _, efectivo = await _db(_efectivo_vinculado)(update.effective_user.id)
    if efectivo is None:
        await update.effective_message.reply_text(mensajes.SIN_VINCULAR)
        return
    descripcion = " ".join(context.args or []).strip()
    if not descripcion:
        await update.effective_message.reply_text("Escriba /emergencia seguido de una descripción breve.")
        return
    context.user_data["emergencia"] = descripcion[:2000]
    await update.effective_message.reply_text(
        "Comparta su ubicación para despachar la emergencia.",
        reply_markup=ReplyKeyboardMarkup(
            [[KeyboardButton("📍 Enviar mi ubicación", request_location=True)]],
            one_time_keyboard=True,
            resize_keyboard=True,
        ),
    )


@_medido("ubicacion")
async def ubicacion(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    mensaje = update.effective_message
    loc = mensaje.location
    momento = mensaje.edit_date or mensaje.date
    registrada = await _db(_ubicacion)(
        update.effective_user.id,
        mensaje.chat_id,
        mensaje.message_id,
        momento,
        loc.latitude,
        loc.longitude,
        loc.horizontal_accuracy,
        loc.heading,
    )
    if update.edited_message:
        return  # a live location moving: stored, no reply (it would flood the chat)
    if not registrada:
        await mensaje.reply_text(mensajes.SIN_VINCULAR)
        return
    if descripcion := context.user_data.pop("emergencia", None):
        texto = await _db(_emergencia)(update.effective_user.id, descripcion, loc.latitude, loc.longitude)
        await mensaje.reply_text(texto, reply_markup=ReplyKeyboardRemove())
        return
    if loc.live_period:
        await mensaje.reply_text("📍 Ubicación en tiempo real activa: se registra mientras la comparta.")
    else:
        await mensaje.reply_text("📍 Ubicación registrada.")


@_medido("boton")
async def boton(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    consulta = update.callback_query
    datos = consulta.data or ""
    partes = datos.split(":")
    telegram_id = update.effective_user.id
    if partes[0] == "t" and len(partes) == 3 and partes[2].isdigit():
        respuesta, tarea = await _db(_tarea_accion)(telegram_id, partes[1], int(partes[2]))
        await consulta.answer(respuesta, show_alert=tarea is None)
        if tarea is not None:
            await consulta.edit_message_text(tarea["texto"], reply_markup=mensajes.teclado(tarea["botones"]))
        return
    if partes[0] == "e" and len(partes) == 2:
        respuesta, actual = await _db(_estado_cambiar)(telegram_id, partes[1])
        await consulta.answer(respuesta)
        if actual is not None:
            await consulta.edit_message_text(
                f"Su estado: {EstadoEfectivo(actual).label}.",
                reply_markup=mensajes.teclado(mensajes.estado_teclado(actual)),
            )
        return
    if partes[0] == "p" and len(partes) == 2 and partes[1].isdigit():
        await consulta.answer()
        await _enviar_pagina(update, telegram_id, int(partes[1]))
        return
    await consulta.answer("Botón desconocido.")


async def otro(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _, efectivo = await _db(_efectivo_vinculado)(update.effective_user.id)
    await update.effective_message.reply_text(("No entendí. " + mensajes.AYUDA) if efectivo else mensajes.SIN_VINCULAR)


async def error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    logger.exception("bot handler failed", exc_info=context.error)


def construir() -> Application:
    app = (
        ApplicationBuilder()
        .token(settings.TELEGRAM_BOT_TOKEN)
        .base_url(settings.TELEGRAM_API_URL)
        .base_file_url(settings.TELEGRAM_API_URL.replace("/bot", "/file/bot"))
        .build()
    )
    app.add_handler(TypeHandler(Update, deduplicar), group=-1)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler(["ayuda", "help"], ayuda))
    app.add_handler(CommandHandler("tareas", tareas))
    app.add_handler(CommandHandler("estado", estado))
    app.add_handler(CommandHandler("emergencia", emergencia))
    app.add_handler(CallbackQueryHandler(boton))
    app.add_handler(MessageHandler(filters.LOCATION, ubicacion))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, otro))
    app.add_error_handler(error)
    return app
