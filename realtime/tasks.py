from __future__ import annotations

from celery import shared_task

from realtime import services


@shared_task(ignore_result=True)
def eventos_podar() -> int:
    return services.eventos_podar()
