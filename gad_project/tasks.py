from __future__ import annotations

from celery import shared_task

from gad_project.retencion import retencion_aplicar as _aplicar


@shared_task(ignore_result=True)
def retencion_aplicar() -> dict[str, int]:
    """Daily: delete personal records past their retention (gad_project.retencion)."""
    return _aplicar()
