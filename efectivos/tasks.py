from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction

from gad_project import particiones


@shared_task(ignore_result=True)
def posiciones_fuera_de_servicio_olvidar() -> int:
    """Every minute: officers gone off duty lose their last position (efectivos.turnos)."""
    from efectivos import turnos

    return turnos.posiciones_fuera_de_servicio_olvidar()


@shared_task(ignore_result=True)
def particiones_mantener() -> None:
    """Hourly: the days ahead are created and the readings past POSICIONES_RETENCION_DIAS dropped,
    a day partition at a time (pg_partman; the event log's days go in realtime.tasks.eventos_podar).
    Idempotent: a second run finds nothing to do."""
    with transaction.atomic(), connection.cursor() as c:
        particiones.retencion_fijar(c, "efectivos_posicion", settings.POSICIONES_RETENCION_DIAS)
        particiones.mantener(c)
