"""An officer's own data, all of it (#30, "download all my data"): their readings, alerts, task
assignments, messages (received and answered) and every access others made to their data, as one
JSON document or as one CSV per section. Streamed like the other exports."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from auditoria.selectors import acceso_vista, accesos_a
from efectivos.models import Efectivo
from efectivos.selectors import CAMPOS_RECORRIDO, recorridos_filas
from exportes.formatos import csv_filas, json_defecto
from geocercas.models import Alerta
from geocercas.selectors import CAMPOS_ALERTA, alertas_filas
from mensajes.models import Entrega, Respuesta
from tareas.models import Asignacion

CAMPOS_ASIGNACION = (
    "tarea",
    "titulo",
    "estado_tarea",
    "estado",
    "asignada_en",
    "asignada_por",
    "respondida_en",
    "motivo",
    "llegada_en",
    "liberada_en",
)
CAMPOS_MENSAJE = ("mensaje", "creado_en", "autor", "urgente", "texto", "entregado_en", "leido_en", "confirmado_en")
CAMPOS_RESPUESTA = ("mensaje", "creada_en", "texto")
CAMPOS_ACCESO = (
    "id",
    "cuando",
    "quien",
    "rol",
    "unidad",
    "que",
    "motivo",
    "motivo_texto",
    "motivo_detalle",
    "interfaz",
    "desde",
    "hasta",
    "formato",
)

SECCIONES = ("lecturas", "alertas", "tareas", "mensajes", "respuestas", "accesos")

Seccion = tuple[tuple[str, ...], Callable[[], Iterator[tuple[Any, ...]]]]


def secciones(efectivo: Efectivo) -> dict[str, Seccion]:
    """Each section's columns and a function giving its rows, oldest first."""
    propio = Efectivo.objects.filter(pk=efectivo.pk)
    return {
        "lecturas": (
            CAMPOS_RECORRIDO,
            lambda: recorridos_filas(
                efectivos=propio, desde=datetime(2000, 1, 1, tzinfo=UTC), hasta=timezone.now() + timedelta(days=1)
            ),
        ),
        "alertas": (CAMPOS_ALERTA, lambda: alertas_filas(Alerta.objects.filter(efectivo=efectivo))),
        "tareas": (
            CAMPOS_ASIGNACION,
            lambda: (
                Asignacion.objects.filter(efectivo=efectivo)
                .order_by("asignada_en", "id")
                .values_list(
                    "tarea__codigo",
                    "tarea__titulo",
                    "tarea__estado",
                    "estado",
                    "asignada_en",
                    "asignada_por__username",
                    "respondida_en",
                    "motivo",
                    "llegada_en",
                    "liberada_en",
                )
                .iterator()
            ),
        ),
        "mensajes": (
            CAMPOS_MENSAJE,
            lambda: (
                Entrega.objects.filter(efectivo=efectivo)
                .order_by("mensaje__creado_en", "id")
                .values_list(
                    "mensaje_id",
                    "mensaje__creado_en",
                    "mensaje__autor__username",
                    "mensaje__urgente",
                    "mensaje__texto",
                    "entregado_en",
                    "leido_en",
                    "confirmado_en",
                )
                .iterator()
            ),
        ),
        "respuestas": (
            CAMPOS_RESPUESTA,
            lambda: (
                Respuesta.objects.filter(efectivo=efectivo)
                .order_by("creada_en", "id")
                .values_list("mensaje_id", "creada_en", "texto")
                .iterator()
            ),
        ),
        "accesos": (
            CAMPOS_ACCESO,
            lambda: (
                tuple(acceso_vista(r)[c] for c in CAMPOS_ACCESO)
                for r in accesos_a(efectivo_id=efectivo.pk, usuario_id=efectivo.usuario_id).reverse().iterator()
            ),
        ),
    }


def como_json(efectivo: Efectivo) -> Iterator[str]:
    """One JSON document: who they are, then each section as a list of objects."""
    yield json.dumps(
        {
            "generado_en": timezone.localtime(),
            "efectivo": {
                "codigo": efectivo.codigo_interno,
                "dni": efectivo.dni,
                "apellido": efectivo.apellido,
                "nombre": efectivo.nombre,
                "rango": efectivo.rango,
                "unidad": efectivo.unidad.codigo,
            },
        },
        ensure_ascii=False,
        default=json_defecto,
    )[:-1]
    for nombre, (campos, filas) in secciones(efectivo).items():
        yield f', "{nombre}": ['
        primera = True
        for fila in filas():
            yield (
                ("" if primera else ",")
                + "\n"
                + json.dumps(dict(zip(campos, fila, strict=True)), ensure_ascii=False, default=json_defecto)
            )
            primera = False
        yield "]"
    yield "}\n"


def como_csv(efectivo: Efectivo, seccion: str) -> Iterator[str]:
    campos, filas = secciones(efectivo)[seccion]
    return csv_filas(campos, filas())
