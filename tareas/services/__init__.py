"""Writes for tasks: the state machine (`estados`) and dispatch (`despacho`). Callers import from
here; the split is for reading."""

from tareas.services.despacho import (
    Asignado,
    asignacion_llegar,
    asignacion_responder,
    emergencia_crear,
    radio_de_despacho,
    tarea_asignar,
)
from tareas.services.estados import (
    ACCIONES_DE_MANDO,
    CAMPOS_EDITABLES,
    TRANSICIONES,
    TransicionInvalida,
    estadisticas_refrescar,
    tarea_actualizar,
    tarea_codigo_generar,
    tarea_crear,
    tarea_crear_desde_instancia,
    tarea_datos,
    tarea_transicionar,
)
from tareas.services.redespacho import (
    asignacion_liberar,
    asignaciones_vencer,
    tarea_busqueda_reabrir,
    tarea_completar,
    tarea_reasignar,
)

__all__ = [
    "ACCIONES_DE_MANDO",
    "CAMPOS_EDITABLES",
    "TRANSICIONES",
    "Asignado",
    "TransicionInvalida",
    "asignacion_liberar",
    "asignacion_llegar",
    "asignacion_responder",
    "asignaciones_vencer",
    "emergencia_crear",
    "estadisticas_refrescar",
    "radio_de_despacho",
    "tarea_actualizar",
    "tarea_asignar",
    "tarea_busqueda_reabrir",
    "tarea_codigo_generar",
    "tarea_completar",
    "tarea_crear",
    "tarea_crear_desde_instancia",
    "tarea_datos",
    "tarea_reasignar",
    "tarea_transicionar",
]
