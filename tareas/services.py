"""Writes for tasks. The full state machine and dispatch build on these."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from efectivos.models import Usuario
from realtime import grupos
from realtime.services import publish
from tareas.models import EstadoTarea, Tarea, TareaEvento


def tarea_codigo_generar() -> str:
    """T<year>-<n>: n comes from a database sequence, so concurrent creators never collide."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('tareas_tarea_codigo_seq')")
        (n,) = cursor.fetchone()
    return f"T{timezone.localdate():%Y}-{n:06d}"


def tarea_crear_desde_instancia(*, tarea: Tarea, usuario: Usuario | None) -> Tarea:
    """Persist a new, unsaved task (built by a form or serializer) as `programada`."""
    with transaction.atomic():
        tarea.codigo = tarea_codigo_generar()
        tarea.estado = EstadoTarea.PROGRAMADA
        tarea.creada_por = usuario
        tarea.save()
        TareaEvento.objects.create(
            tarea=tarea, usuario=usuario, estado_anterior="", estado_nuevo=EstadoTarea.PROGRAMADA, motivo="creada"
        )
        publish("tarea.creada", tarea_datos(tarea), grupos.mando_de_unidad(tarea.unidad_id))
    return tarea


def tarea_datos(tarea: Tarea) -> dict:
    return {
        "tarea_id": tarea.pk,
        "codigo": tarea.codigo,
        "titulo": tarea.titulo,
        "tipo": tarea.tipo,
        "prioridad": tarea.prioridad,
        "estado": tarea.estado,
        "unidad_id": tarea.unidad_id,
        "lat": tarea.ubicacion.y if tarea.ubicacion else None,
        "lon": tarea.ubicacion.x if tarea.ubicacion else None,
    }
