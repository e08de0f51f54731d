from __future__ import annotations

from celery import shared_task

from auditoria import services


@shared_task(ignore_result=True)
def podar() -> int:
    return services.podar()


@shared_task(ignore_result=True)
def anclar() -> None:
    services.cabeza_anclar()
