from __future__ import annotations

from celery import shared_task

from tareas import services


@shared_task(ignore_result=True)
def estadisticas_refrescar() -> None:
    services.estadisticas_refrescar()
