from __future__ import annotations

from celery import shared_task

from tareas import services


@shared_task(ignore_result=True)
def estadisticas_refrescar() -> None:
    services.estadisticas_refrescar()


@shared_task(ignore_result=True)
def asignaciones_vencer() -> None:
    """Every few seconds (beat): assignments not accepted in time are released and re-dispatched."""
    services.asignaciones_vencer()
