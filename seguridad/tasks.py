from __future__ import annotations

from celery import shared_task

from seguridad import services


@shared_task(ignore_result=True)
def sin_reporte_revisar() -> None:
    services.sin_reporte_revisar()


@shared_task(ignore_result=True)
def bienestar_revisar() -> None:
    services.bienestar_revisar()
