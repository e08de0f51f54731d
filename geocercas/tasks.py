from __future__ import annotations

from celery import shared_task

from geocercas import services


@shared_task(ignore_result=True)
def permanencias_verificar() -> int:
    return len(services.permanencias_verificar())


@shared_task(ignore_result=True)
def alertas_escalar() -> int:
    return len(services.alertas_escalar())
