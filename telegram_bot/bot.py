"""The Telegram bot (python-telegram-bot): handlers for commands, buttons and locations.

Handlers are async (PTB) and only talk to Telegram; what they do is in telegram_bot.acciones,
sync Django code calling the domain services, run with `sync_to_async` on one thread. The Telegram user is resolved to our user on
every update (never cached), so unlinking takes effect at once. Every update id is recorded
before it is handled: a replayed update is dropped."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from telegram import KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.constants import ChatType
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

from auditoria.models import Interfaz
from auditoria.registro import contexto
from efectivos.models import EstadoEfectivo
from gad_project.cifrado import indice
from gad_project.exceptions import ErrorDominio
from telegram_bot import acciones, mensajes, metrics, services

logger = logging.getLogger(__name__)


def _db(fn: Callable) -> Callable:
    """Run a sync domain function from a handler: one thread, fresh connections when needed."""

    @wraps(fn)
    def envuelta(*args, **kwargs):
        close_old_connections()
        # Whatever it writes is audited as the linked user, from Telegram, with the account id.
        telegram_id = kwargs.get("telegram_id", args[0] if args and isinstance(args[0], int) else None)
        try:
            with contexto(
                actor=lambda: services.usuario_de_telegram(telegram_id) if telegram_id else None,
                interfaz=Interfaz.TELEGRAM,
                extra={"telegram": indice(telegram_id)} if telegram_id else None,  # never the id in clear
            ):
                return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(envuelta, thread_sensitive=True)


def _medido(comando: str):
    assert comando in metrics.MEDIDOS, comando  # its series is created at start-up (metrics.py)

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
        await update.effective_message.reply_text(
            f"✅ Listo, {nombre}: su cuenta quedó vinculada.\n\n{mensajes.AYUDA}", reply_markup=_teclado_fijo()
        )
        return
    usuario, efectivo = await _db(acciones.efectivo_vinculado)(usuario_tg.id)
    if efectivo is None:
        if usuario is not None:  # a commander or admin linked for escalations
            nombre = usuario.get_full_name() or usuario.get_username()
            await update.effective_message.reply_text(f"Hola, {nombre}.\n\n{mensajes.AYUDA_MANDO}")
            return
        await update.effective_message.reply_text(mensajes.SIN_VINCULAR)
        return
    await update.effective_message.reply_text(
        f"Hola, {efectivo.nombre}.\n\n{mensajes.AYUDA}", reply_markup=_teclado_fijo()
    )


@_medido("ayuda")
async def ayuda(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _, efectivo = await _db(acciones.efectivo_vinculado)(update.effective_user.id)
    if efectivo is None:
        await update.effective_message.reply_text(mensajes.SIN_VINCULAR)
        return
    await update.effective_message.reply_text(mensajes.AYUDA, reply_markup=_teclado_fijo())


async def _enviar_pagina(update: Update, telegram_id: int, pagina: int) -> None:
    tareas = await _db(acciones.mis_tareas)(telegram_id)
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
        if t["ubicacion"]:
            await mensaje.reply_location(latitude=t["ubicacion"][0], longitude=t["ubicacion"][1])
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


@_medido("accesos")
async def accesos(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    texto = await _db(acciones.mis_accesos)(update.effective_user.id)
    await update.effective_message.reply_text(texto or mensajes.SIN_VINCULAR)


@_medido("servicio")
async def inicio_servicio(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    texto = await _db(acciones.servicio)(update.effective_user.id, "inicio")
    await update.effective_message.reply_text(texto or mensajes.SIN_VINCULAR)


@_medido("servicio")
async def fin_servicio(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    texto = await _db(acciones.servicio)(update.effective_user.id, "fin")
    await update.effective_message.reply_text(texto or mensajes.SIN_VINCULAR)


@_medido("estado")
async def estado(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    actual = await _db(acciones.estado_actual)(update.effective_user.id)
    if actual is None:
        await update.effective_message.reply_text(mensajes.SIN_VINCULAR)
        return
    await update.effective_message.reply_text(
        f"Su estado: {EstadoEfectivo(actual).label}. Elija el nuevo:",
        reply_markup=mensajes.teclado(mensajes.estado_teclado(actual)),
    )


def _teclado_fijo(*, pedir_ubicacion: bool = False) -> ReplyKeyboardMarkup:
    """The keyboard that stays under the chat: tasks and availability, and the SOS button one tap
    away (plus, while an SOS lacks its place, the button that shares the location)."""
    filas = [
        [KeyboardButton(mensajes.BOTON_TAREAS), KeyboardButton(mensajes.BOTON_ESTADO)],
        [KeyboardButton(mensajes.BOTON_SOS)],
    ]
    if pedir_ubicacion:
        filas.insert(0, [KeyboardButton("📍 Enviar mi ubicación", request_location=True)])
    return ReplyKeyboardMarkup(filas, resize_keyboard=True, is_persistent=True)


@_medido("sos")
async def sos(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    texto, pide_ubicacion = await _db(acciones.sos_pedir)(update.effective_user.id)
    await update.effective_message.reply_text(texto, reply_markup=_teclado_fijo(pedir_ubicacion=pide_ubicacion))


@_medido("emergencia")
async def emergencia(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    descripcion = " ".join(context.args or []).strip()
    if not descripcion:
        await update.effective_message.reply_text("Escriba /emergencia seguido de una descripción breve.")
        return
    if not await _db(acciones.emergencia_esperar)(update.effective_user.id, descripcion):
        await update.effective_message.reply_text(mensajes.SIN_VINCULAR)
        return
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
    registrada = await _db(acciones.ubicacion_registrar)(
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
    aviso = await _db(acciones.sos_ubicar)(
        update.effective_user.id, loc.latitude, loc.longitude, loc.horizontal_accuracy
    )
    if aviso:
        await mensaje.reply_text(aviso, reply_markup=_teclado_fijo())
        return
    if descripcion := await _db(acciones.emergencia_tomar)(update.effective_user.id):
        texto = await _db(acciones.emergencia_reportar)(
            update.effective_user.id, descripcion, loc.latitude, loc.longitude
        )
        await mensaje.reply_text(texto, reply_markup=_teclado_fijo())
        return
    if registrada == "fuera_de_servicio":
        await mensaje.reply_text(mensajes.FUERA_DE_SERVICIO, reply_markup=_teclado_fijo())
    elif loc.live_period:
        await mensaje.reply_text("📍 Ubicación en tiempo real activa: se registra mientras la comparta.")
    else:
        await mensaje.reply_text("📍 Ubicación registrada.")


@_medido("ubicacion_reenviada")
async def ubicacion_reenviada(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(mensajes.UBICACION_REENVIADA)


@_medido("boton")
async def boton(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    consulta = update.callback_query
    datos = consulta.data or ""
    partes = datos.split(":")
    telegram_id = update.effective_user.id
    if partes[0] == "t" and len(partes) == 3 and partes[1] == "rechazar" and partes[2].isdigit():
        # Rejecting asks why first: the reason goes to the task's history for the commander.
        tarea = await _db(acciones.tarea_vista)(telegram_id, int(partes[2]))
        if tarea is None:
            await consulta.answer("Tarea inexistente o fuera de su alcance.", show_alert=True)
            return
        await consulta.answer()
        await consulta.edit_message_text(
            f"{tarea['texto']}\n\n¿Por qué la rechaza?",
            reply_markup=mensajes.teclado(mensajes.motivos_botones(int(partes[2]))),
        )
        return
    if partes[0] == "r" and len(partes) == 3 and partes[1].isdigit():
        tarea_id, eleccion = int(partes[1]), partes[2]
        if eleccion == "x":
            tarea = await _db(acciones.tarea_vista)(telegram_id, tarea_id)
            await consulta.answer()
        else:
            motivo = ""
            if eleccion.isdigit() and int(eleccion) < len(mensajes.MOTIVOS_RECHAZO):
                motivo = mensajes.MOTIVOS_RECHAZO[int(eleccion)]
            respuesta, tarea = await _db(acciones.tarea_accion)(telegram_id, "rechazar", tarea_id, motivo)
            await consulta.answer(respuesta, show_alert=tarea is None)
        if tarea is not None:
            await consulta.edit_message_text(tarea["texto"], reply_markup=mensajes.teclado(tarea["botones"]))
        return
    if partes[0] == "t" and len(partes) == 3 and partes[2].isdigit():
        respuesta, tarea = await _db(acciones.tarea_accion)(telegram_id, partes[1], int(partes[2]))
        await consulta.answer(respuesta, show_alert=tarea is None)
        if tarea is not None:
            await consulta.edit_message_text(tarea["texto"], reply_markup=mensajes.teclado(tarea["botones"]))
        return
    if partes[0] == "e" and len(partes) == 2:
        respuesta, actual = await _db(acciones.estado_cambiar)(telegram_id, partes[1])
        await consulta.answer(respuesta)
        if actual is not None:
            await consulta.edit_message_text(
                f"Su estado: {EstadoEfectivo(actual).label}.",
                reply_markup=mensajes.teclado(mensajes.estado_teclado(actual)),
            )
        return
    if partes[0] == "a" and len(partes) == 3 and partes[1] == "r" and partes[2].isdigit():
        respuesta, hecho = await _db(acciones.alerta_reconocer)(telegram_id, int(partes[2]))
        await consulta.answer(respuesta, show_alert=not hecho)
        if hecho and consulta.message is not None:
            await consulta.edit_message_text(f"{consulta.message.text}\n\n✅ {respuesta}")
        return
    if partes[0] in ("m", "b") and len(partes) == 2:
        if partes[0] == "m" and partes[1].isdigit():
            respuesta, hecho = await _db(acciones.mensaje_confirmar)(telegram_id, int(partes[1]))
        elif partes[0] == "b" and partes[1] == "ok":
            respuesta, hecho = await _db(acciones.bienestar_ok)(telegram_id)
        else:
            respuesta, hecho = "Botón desconocido.", False
        await consulta.answer(respuesta, show_alert=not hecho)
        if hecho and consulta.message is not None:
            await consulta.edit_message_text(f"{consulta.message.text}\n\n✅ {respuesta}")
        return
    if partes[0] == "p" and len(partes) == 2 and partes[1].isdigit():
        await consulta.answer()
        await _enviar_pagina(update, telegram_id, int(partes[1]))
        return
    await consulta.answer("Botón desconocido.")


async def solo_privado(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Groups and channels get nothing: a task list or an SOS posted to a group would reach people
    it is not for. A command there gets one line saying so; anything else, silence."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    metrics.ACTUALIZACIONES.labels(tipo="no_privada").inc()
    mensaje = update.effective_message
    if update.callback_query:
        await update.callback_query.answer(mensajes.SOLO_PRIVADO, show_alert=True)
    elif mensaje is not None and (mensaje.text or "").startswith("/"):
        await mensaje.reply_text(mensajes.SOLO_PRIVADO)
    raise ApplicationHandlerStop


async def menu_instalar(app: Application) -> None:
    """The commands Telegram lists in the bot's menu."""
    await app.bot.set_my_commands(mensajes.COMANDOS)


async def otro(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _, efectivo = await _db(acciones.efectivo_vinculado)(update.effective_user.id)
    await update.effective_message.reply_text(("No entendí. " + mensajes.AYUDA) if efectivo else mensajes.SIN_VINCULAR)


async def error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    logger.exception("bot handler failed", exc_info=context.error)


def construir() -> Application:
    app = (
        ApplicationBuilder()
        .token(settings.TELEGRAM_BOT_TOKEN)
        .base_url(settings.TELEGRAM_API_URL)
        .base_file_url(settings.TELEGRAM_API_URL.replace("/bot", "/file/bot"))
        .post_init(menu_instalar)
        .build()
    )
    app.add_handler(TypeHandler(Update, deduplicar), group=-2)
    app.add_handler(TypeHandler(Update, solo_privado), group=-1)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler(["ayuda", "help"], ayuda))
    app.add_handler(CommandHandler("tareas", tareas))
    app.add_handler(CommandHandler("estado", estado))
    app.add_handler(CommandHandler("accesos", accesos))
    app.add_handler(CommandHandler("inicio_servicio", inicio_servicio))
    app.add_handler(CommandHandler("fin_servicio", fin_servicio))
    app.add_handler(CommandHandler("emergencia", emergencia))
    app.add_handler(CommandHandler("sos", sos))
    app.add_handler(MessageHandler(filters.Text([mensajes.BOTON_SOS]), sos))
    app.add_handler(MessageHandler(filters.Text([mensajes.BOTON_TAREAS]), tareas))
    app.add_handler(MessageHandler(filters.Text([mensajes.BOTON_ESTADO]), estado))
    app.add_handler(CallbackQueryHandler(boton))
    # A forwarded location is someone else's (or an old one): never the officer's position.
    app.add_handler(MessageHandler(filters.LOCATION & filters.FORWARDED, ubicacion_reenviada))
    app.add_handler(MessageHandler(filters.LOCATION, ubicacion))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, otro))
    app.add_error_handler(error)
    return app
