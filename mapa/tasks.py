from __future__ import annotations

from celery import shared_task

from mapa import services


@shared_task(ignore_result=True)
def densidad_refrescar() -> None:
    services.densidad_refrescar()


@shared_task(ignore_result=True)
def tiles_calentar(capa: str) -> None:
    services.tiles_calentar(capa=capa)
