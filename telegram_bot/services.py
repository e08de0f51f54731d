"""Writes for the Telegram bot: account linking, update de-duplication, and notifications (their
generation from the event log and their delivery with retries)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from auditoria.registro import en_bloque
from efectivos.alcance import exigir_mando
from efectivos.models import Rol, Usuario
from efectivos.selectors import efectivos_visibles
from gad_project.exceptions import Conflicto, EntradaInvalida, NoEncontrado
from realtime.models import Evento
from telegram_bot import mensajes, metrics
from telegram_bot.models import ActualizacionProcesada, CodigoVinculacion, EstadoNotificacion, Notificacion, Progreso

logger = logging.getLogger(__name__)


def _hash(codigo: str) -> str:
    return hashlib.sha256(codigo.encode()).hexdigest()


# --- linking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodigoNuevo:
    codigo: str  # shown once; only its hash is stored
    vence_en: object
    enlace: str | None  # https://t.me/<bot>?start=<codigo> when TELEGRAM_BOT_USERNAME is set


def codigo_generar(*, efectivo_id: int | None, creado_por: Usuario) -> CodigoNuevo:
    """A single-use, short-lived code that links the Telegram account that opens it to this
    efectivo's user (None: to the caller's own, a commander or admin who wants escalations).
    Earlier unused codes for the same user stop working."""
    exigir_mando(creado_por, "Solo comandantes o administradores generan códigos de vinculación.")
    if efectivo_id is None:
        usuario = creado_por
    else:
        efectivo = efectivos_visibles(usuario=creado_por).select_related("usuario").filter(pk=efectivo_id).first()
        if efectivo is None:
            raise NoEncontrado("Efectivo inexistente o fuera de su alcance.")
        if efectivo.usuario is None:
            raise Conflicto("El efectivo no tiene usuario: créelo antes de vincular Telegram.", codigo="sin_usuario")
        usuario = efectivo.usuario
    codigo = secrets.token_urlsafe(12)  # 96 bits: not guessable within its lifetime
    ahora = timezone.now()
    vence_en = ahora + timedelta(minutes=settings.TELEGRAM_CODIGO_TTL_MIN)
    with transaction.atomic():
        CodigoVinculacion.objects.filter(usuario=usuario, usado_en__isnull=True).update(vence_en=ahora)
        CodigoVinculacion.objects.create(
            usuario=usuario, codigo=_hash(codigo), creado_por=creado_por, vence_en=vence_en
        )
    enlace = f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start={codigo}" if settings.TELEGRAM_BOT_USERNAME else None
    return CodigoNuevo(codigo, vence_en, enlace)


def cuenta_vincular(*, codigo: str, telegram_id: int) -> Usuario:
    """Bind the Telegram account that presented the code to the code's user. The code is spent
    even if something else is wrong, so a leaked code cannot be tried twice."""
    with transaction.atomic():
        fila = (
            CodigoVinculacion.objects.select_for_update().select_related("usuario").filter(codigo=_hash(codigo)).first()
        )
        if fila is None:
            raise EntradaInvalida("Código de vinculación inválido.", codigo="codigo_invalido")
        if fila.usado_en is not None:
            raise EntradaInvalida("Ese código ya fue usado. Pida uno nuevo a su comandante.", codigo="codigo_usado")
        if fila.vence_en <= timezone.now():
            raise EntradaInvalida("Ese código venció. Pida uno nuevo a su comandante.", codigo="codigo_vencido")
        fila.usado_en = timezone.now()
        fila.save(update_fields=["usado_en"])
        otro = Usuario.objects.filter(telegram_id=telegram_id).exclude(pk=fila.usuario_id).first()
        if otro is not None:
            raise Conflicto(
                "Esta cuenta de Telegram ya está vinculada a otro efectivo. Pida que la desvinculen primero.",
                codigo="telegram_ya_vinculado",
            )
        usuario = fila.usuario
        usuario.telegram_id = telegram_id
        usuario.save(update_fields=["telegram_id"])
    return usuario


def cuenta_desvincular(*, usuario: Usuario) -> None:
    """From now on the bot no longer knows this Telegram account (checked on every update)."""
    Usuario.objects.filter(pk=usuario.pk).update(telegram_id=None)
    # The id is encrypted at rest: the trail records that it went, not what it was.
    en_bloque([usuario], {"telegram_id": ("(cifrado)", None)})
    Notificacion.objects.filter(usuario=usuario, estado=EstadoNotificacion.PENDIENTE).update(
        estado=EstadoNotificacion.FALLIDA, ultimo_error="Cuenta desvinculada"
    )


def usuario_de_telegram(telegram_id: int) -> Usuario | None:
    return Usuario.objects.filter(telegram_id=telegram_id, is_active=True).first()


def actualizacion_registrar(update_id: int) -> bool:
    """True the first time an update id is seen; False for a replay."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO telegram_bot_actualizacionprocesada (update_id, procesada_en) VALUES (%s, now()) "
            "ON CONFLICT DO NOTHING",
            [update_id],
        )
        return bool(cursor.rowcount == 1)


def actualizaciones_podar(*, dias: int = 7) -> int:
    borradas, _ = ActualizacionProcesada.objects.filter(procesada_en__lt=timezone.now() - timedelta(days=dias)).delete()
    return borradas


# --- notifications -------------------------------------------------------------------------------

# Events that reach users through Telegram. Task events go to the efectivos assigned to the task,
# alerts to the efectivo concerned; an escalated alert to the unidad's commanders and the admins.
TIPOS_NOTIFICADOS = (
    "tarea.asignada",
    "tarea.estado",
    "tarea.actualizada",
    "alerta.geocerca",
    "alerta.escalada",
    "mensaje.nuevo",
    "bienestar.pedido",
    "bienestar.estado",
    "tarea.asignacion",
    "tarea.sin_cubrir",
)
# An officer is told when a task is taken from them (not when they answered it themselves).
RESPUESTAS_AVISADAS = ("vencida", "liberada", "reasignada")
VENTANA_REORDEN = timedelta(seconds=10)  # see realtime.selectors: ids commit out of order


def notificaciones_generar() -> int:
    """Turn new events into notifications for linked efectivos; returns how many were considered
    (those already created from an earlier pass are skipped by the unique constraint).

    Reads the event log from the last position (minus the reorder window: an event with a smaller
    id may commit later), so a notification is never missed; the unique (usuario, evento) pair
    makes reading an event twice harmless."""
    with transaction.atomic():
        progreso, _ = Progreso.objects.select_for_update().get_or_create(pk=1)
        desde = progreso.ultimo_evento_id
        cursor_en = Evento.objects.filter(pk=desde).values_list("creado_en", flat=True).first()
        qs = Evento.objects.filter(tipo__in=TIPOS_NOTIFICADOS)
        if cursor_en is not None:
            qs = qs.filter(creado_en__gte=cursor_en - VENTANA_REORDEN) | qs.filter(id__gt=desde)
        else:
            qs = qs.filter(id__gt=desde)
        eventos = list(qs.order_by("id")[:1000])
        ultimo = Evento.objects.order_by("-id").values_list("id", flat=True).first() or 0
        nuevas = _notificaciones_de(eventos)
        Notificacion.objects.bulk_create(nuevas, ignore_conflicts=True)
        progreso.ultimo_evento_id = max(desde, eventos[-1].pk if len(eventos) == 1000 else ultimo)
        progreso.save(update_fields=["ultimo_evento_id", "actualizado_en"])
    return len(nuevas)


def _notificaciones_de(eventos: list[Evento]) -> list[Notificacion]:
    from tareas.models import Asignacion, EstadoAsignacion

    tareas = {e.datos["tarea_id"] for e in eventos if e.tipo.startswith("tarea.")}
    asignaciones: dict[int, list[tuple[int, str, datetime | None]]] = {}
    for tarea_id, efectivo_id, estado, liberada_en in Asignacion.objects.filter(tarea_id__in=tareas).values_list(
        "tarea_id", "efectivo_id", "estado", "liberada_en"
    ):
        asignaciones.setdefault(tarea_id, []).append((efectivo_id, estado, liberada_en))

    def asignados_al_momento(evento: Evento) -> list[int]:
        # Live assignments, plus those released by this very change (a cancelled or finished task
        # releases its efectivos in the same transaction as its event).
        return [
            efectivo_id
            for efectivo_id, estado, liberada_en in asignaciones.get(evento.datos["tarea_id"], [])
            if estado in (EstadoAsignacion.PENDIENTE, EstadoAsignacion.ACEPTADA)
            or (liberada_en is not None and liberada_en >= evento.creado_en - timedelta(seconds=5))
        ]

    efectivos_de_tarea = {
        e.pk: asignados_al_momento(e)
        for e in eventos
        if e.tipo.startswith("tarea.") and e.tipo not in ("tarea.asignacion", "tarea.sin_cubrir")
    }
    destinatarios = {
        e.datos["efectivo_id"]
        if e.tipo in ("alerta.geocerca", "tarea.asignada", "bienestar.pedido", "tarea.asignacion")
        else None
        for e in eventos
    } | {eid for ids in efectivos_de_tarea.values() for eid in ids}
    vinculados = dict(
        Usuario.objects.filter(
            efectivo__pk__in={d for d in destinatarios if d is not None}, telegram_id__isnull=False
        ).values_list("efectivo__pk", "pk")
    )
    ahora = timezone.now()
    nuevas = _escaladas_de([e for e in eventos if e.tipo == "alerta.escalada"], ahora)
    nuevas += _escaladas_de(
        [e for e in eventos if e.tipo == "bienestar.estado" and e.datos["estado"] == "fallido"], ahora
    )
    nuevas += _escaladas_de([e for e in eventos if e.tipo == "tarea.sin_cubrir"], ahora)
    nuevas += _mensajes_de([e for e in eventos if e.tipo == "mensaje.nuevo"], ahora)
    for evento in eventos:
        if evento.tipo in ("alerta.escalada", "mensaje.nuevo", "bienestar.estado", "tarea.sin_cubrir"):
            continue
        if evento.tipo == "tarea.asignacion" and evento.datos["respuesta"] not in RESPUESTAS_AVISADAS:
            continue
        if evento.tipo in ("alerta.geocerca", "tarea.asignada", "bienestar.pedido", "tarea.asignacion"):
            para = [evento.datos["efectivo_id"]]
        else:
            para = efectivos_de_tarea.get(evento.pk, [])
        if evento.tipo == "tarea.estado" and evento.datos["estado"] == "asignada":
            continue  # the assignment itself is notified by tarea.asignada
        if evento.tipo == "alerta.geocerca" and evento.datos.get("silenciada"):
            continue  # its fence was silenced by command
        for efectivo_id in para:
            if efectivo_id not in vinculados or evento.datos.get("por_usuario_id") == vinculados[efectivo_id]:
                continue  # not linked, or they did it themselves (they pressed the button)
            texto, botones = mensajes.notificacion(evento.tipo, evento.datos)
            if texto:
                nuevas.append(
                    Notificacion(
                        usuario_id=vinculados[efectivo_id],
                        evento=evento,
                        texto=texto,
                        botones=botones,
                        ubicacion=mensajes.ubicacion_de(evento.tipo, evento.datos),
                        proximo_intento_en=ahora,
                    )
                )
    return nuevas


def _mensajes_de(eventos: list[Evento], ahora: datetime) -> list[Notificacion]:
    """A message from command reaches each linked recipient (its delivery is recorded when Telegram
    takes it)."""
    if not eventos:
        return []
    from mensajes.models import Entrega

    por_mensaje = {e.datos["mensaje_id"]: e for e in eventos}
    nuevas = []
    for entrega_id, mensaje_id, usuario_id in Entrega.objects.filter(
        mensaje_id__in=por_mensaje, efectivo__usuario__telegram_id__isnull=False
    ).values_list("pk", "mensaje_id", "efectivo__usuario_id"):
        evento = por_mensaje[mensaje_id]
        texto, botones = mensajes.notificacion(evento.tipo, evento.datos)
        nuevas.append(
            Notificacion(
                usuario_id=usuario_id,
                evento=evento,
                entrega_id=entrega_id,
                texto=texto,
                botones=botones,
                proximo_intento_en=ahora,
            )
        )
    return nuevas


def mensajes_urgentes_reenviar(*, ahora: datetime | None = None) -> int:
    """Urgent messages not yet acknowledged go out again through the bot, every
    MENSAJE_URGENTE_REENVIO_MIN, for at most MENSAJE_URGENTE_REENVIO_MAX_MIN after they were
    written. Claimed with SKIP LOCKED: two workers never re-send the same one twice."""
    from mensajes.selectors import urgentes_sin_confirmar
    from mensajes.services import reenvio_registrar

    ahora = ahora or timezone.now()
    with transaction.atomic():
        entregas = list(
            urgentes_sin_confirmar(
                desde=ahora - timedelta(minutes=settings.MENSAJE_URGENTE_REENVIO_MAX_MIN),
                antes_de=ahora - timedelta(minutes=settings.MENSAJE_URGENTE_REENVIO_MIN),
            )
            .filter(efectivo__usuario__telegram_id__isnull=False)
            .select_for_update(skip_locked=True, of=("self",))[:500]
        )
        nuevas = []
        for entrega in entregas:
            m = entrega.mensaje
            assert entrega.efectivo.usuario_id is not None  # filtered: a linked account
            texto, botones = mensajes.notificacion(
                "mensaje.nuevo",
                {
                    "mensaje_id": m.pk,
                    "texto": m.texto,
                    "urgente": True,
                    "autor": m.autor.get_full_name() or m.autor.get_username(),
                    "reenvio": entrega.reenvios + 1,
                },
            )
            nuevas.append(
                Notificacion(
                    usuario_id=entrega.efectivo.usuario_id,
                    entrega=entrega,
                    texto=texto,
                    botones=botones,
                    proximo_intento_en=ahora,
                )
            )
        Notificacion.objects.bulk_create(nuevas)
        reenvio_registrar(entrega_ids=[e.pk for e in entregas], en=ahora)
    return len(nuevas)


def _escaladas_de(eventos: list[Evento], ahora: datetime) -> list[Notificacion]:
    """An escalated alert, or a missed welfare check-in, reaches every linked commander of its
    unidad and every linked admin; an escalated alert whose fence names its own commanders
    (`notificar_a`), those only."""
    if not eventos:
        return []
    mandos = list(
        Usuario.objects.filter(telegram_id__isnull=False, is_active=True)
        .filter(Q(rol=Rol.ADMINISTRADOR) | Q(is_superuser=True) | Q(rol=Rol.COMANDANTE))
        .values_list("pk", "rol", "unidad_id", "is_superuser")
    )
    nuevas = []
    for evento in eventos:
        texto, botones = mensajes.notificacion(evento.tipo, evento.datos)
        elegidos = set(evento.datos.get("notificar_a") or ())  # a fence's own list, when it has one
        for pk, rol, unidad_id, superusuario in mandos:
            if elegidos:
                if pk not in elegidos:
                    continue
            elif rol == Rol.COMANDANTE and not superusuario and unidad_id != evento.datos["unidad_id"]:
                continue
            nuevas.append(
                Notificacion(usuario_id=pk, evento=evento, texto=texto, botones=botones, proximo_intento_en=ahora)
            )
    return nuevas


def notificacion_enviar(
    *, notificacion_id: int, enviar: Callable[[int, str, list[Any], dict[str, Any] | None], None]
) -> str:
    """Deliver one notification. Claims it first with a conditional update (another worker that got
    there first makes this a no-op), sends it, then records the outcome:
    - sent → `enviada`;
    - Telegram says 429 → retried after its `retry_after`;
    - network error / outage / 5xx → retried with exponential backoff and jitter, with no limit on
      attempts: a Telegram outage loses nothing;
    - refused for good (bot blocked, chat gone, bad request) → `fallida`.
    `enviar(chat_id, texto, botones, ubicacion)` sends through the bot the sweep keeps open (the
    text, then the place as a venue when there is one). Returns the resulting state."""
    ahora = timezone.now()
    reclamadas = Notificacion.objects.filter(
        pk=notificacion_id, estado=EstadoNotificacion.PENDIENTE, proximo_intento_en__lte=ahora
    ).update(proximo_intento_en=ahora + timedelta(seconds=60), intentos=F("intentos") + 1)
    if not reclamadas:
        return "ocupada"
    n = Notificacion.objects.select_related("usuario").get(pk=notificacion_id)
    if not settings.TELEGRAM_BOT_TOKEN or n.usuario.telegram_id is None:
        motivo = "Sin token del bot" if not settings.TELEGRAM_BOT_TOKEN else "Cuenta desvinculada"
        Notificacion.objects.filter(pk=n.pk).update(
            estado=EstadoNotificacion.FALLIDA if n.usuario.telegram_id is None else EstadoNotificacion.PENDIENTE,
            ultimo_error=motivo,
            proximo_intento_en=ahora + timedelta(minutes=5),
        )
        return "sin_destino"

    from telegram import error as tg_error

    try:
        enviar(n.usuario.telegram_id, n.texto, n.botones, n.ubicacion)
    except tg_error.RetryAfter as exc:
        espera = exc.retry_after.total_seconds() if isinstance(exc.retry_after, timedelta) else exc.retry_after
        _reintentar(n, f"429: reintentar en {espera} s", timedelta(seconds=float(espera)))
        metrics.NOTIFICACIONES.labels(resultado="reintento").inc()
        return "reintento"
    except (tg_error.Forbidden, tg_error.BadRequest) as exc:
        Notificacion.objects.filter(pk=n.pk).update(estado=EstadoNotificacion.FALLIDA, ultimo_error=str(exc)[:500])
        metrics.NOTIFICACIONES.labels(resultado="fallida").inc()
        return "fallida"
    except (tg_error.TelegramError, OSError) as exc:  # NetworkError, TimedOut, 5xx, connection refused
        base = min(settings.TELEGRAM_REINTENTO_MAX_S, 2 ** min(n.intentos, 12))
        _reintentar(n, f"{type(exc).__name__}: {exc}", timedelta(seconds=base * random.uniform(0.5, 1.0)))
        metrics.NOTIFICACIONES.labels(resultado="reintento").inc()
        return "reintento"
    Notificacion.objects.filter(pk=n.pk).update(
        estado=EstadoNotificacion.ENVIADA, enviada_en=timezone.now(), ultimo_error=""
    )
    if n.entrega_id is not None:
        from mensajes.models import Entrega
        from mensajes.services import entregas_recibidas

        entrega = Entrega.objects.filter(pk=n.entrega_id).values_list("efectivo_id", "mensaje_id").first()
        if entrega is not None:
            entregas_recibidas(efectivo_id=entrega[0], ids=[entrega[1]], via="telegram")
    metrics.NOTIFICACIONES.labels(resultado="enviada").inc()
    return "enviada"


def _reintentar(n: Notificacion, error: str, espera: timedelta) -> None:
    Notificacion.objects.filter(pk=n.pk).update(ultimo_error=error[:500], proximo_intento_en=timezone.now() + espera)


def notificaciones_pendientes_enviar(*, limite: int = 200) -> dict[str, int]:
    """Send every notification whose turn has come, oldest first, through one bot connection (the
    periodic sweep: it is also what delivers the backlog after an outage). When Telegram refuses
    (429) or is unreachable, the sweep stops and every other due notification waits as long as the
    failed one: Telegram's flood control is per bot, and the order of messages is kept.
    Returns a count per outcome."""
    ids = list(
        Notificacion.objects.filter(estado=EstadoNotificacion.PENDIENTE, proximo_intento_en__lte=timezone.now())
        .order_by("creada_en", "id")
        .values_list("pk", flat=True)[:limite]
    )
    resultado: dict[str, int] = {}
    if not ids:
        return resultado
    from telegram import Bot
    from telegram import error as tg_error

    with asyncio.Runner() as runner:
        bot = Bot(settings.TELEGRAM_BOT_TOKEN or "0:sin-token", base_url=settings.TELEGRAM_API_URL)

        def enviar(chat_id: int, texto: str, botones: list[Any], ubicacion: dict[str, Any] | None) -> None:
            runner.run(bot.send_message(chat_id=chat_id, text=texto, reply_markup=mensajes.teclado(botones)))
            if not ubicacion:
                return
            # A venue: a pin with a title, which the phone opens in its maps app for directions.
            # The text is out already: a failure here is logged, not retried (that would repeat it).
            try:
                runner.run(
                    bot.send_venue(
                        chat_id=chat_id,
                        latitude=ubicacion["lat"],
                        longitude=ubicacion["lon"],
                        title=ubicacion["titulo"],
                        address=ubicacion["direccion"],
                    )
                )
            except (tg_error.TelegramError, OSError):
                logger.warning("venue for chat %s not sent", chat_id, exc_info=True)

        try:
            for pk in ids:
                estado = notificacion_enviar(notificacion_id=pk, enviar=enviar)
                resultado[estado] = resultado.get(estado, 0) + 1
                if estado == "reintento":
                    hasta = Notificacion.objects.get(pk=pk).proximo_intento_en
                    Notificacion.objects.filter(
                        estado=EstadoNotificacion.PENDIENTE, proximo_intento_en__lt=hasta
                    ).update(proximo_intento_en=hasta)
                    break
        finally:
            runner.run(bot.shutdown())
    return resultado
