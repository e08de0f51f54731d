from __future__ import annotations

from celery import shared_task

from telegram_bot import services


@shared_task(ignore_result=True)
def notificaciones_despachar() -> None:
    """Every few seconds (beat): new events become notifications, and whatever is due is sent."""
    services.notificaciones_generar()
    services.notificaciones_pendientes_enviar()


@shared_task(ignore_result=True)
def podar() -> None:
    services.actualizaciones_podar()


@shared_task(ignore_result=True)
def mensajes_urgentes_reenviar() -> None:
    services.mensajes_urgentes_reenviar()
