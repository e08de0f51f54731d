from __future__ import annotations

from django_filters import rest_framework as df

from gad_project.api.filtros import FiltroBbox, FiltroBooleano, FiltroFecha, FiltroId, FiltroOpcion
from tareas.models import ESTADOS_ABIERTOS, EstadoTarea, Prioridad, Tarea, TipoTarea


class TareaFiltro(df.FilterSet):
    estado = FiltroOpcion("estado", EstadoTarea)
    prioridad = FiltroOpcion("prioridad", Prioridad)
    tipo = FiltroOpcion("tipo", TipoTarea)
    unidad = FiltroId("unidad_id", label="Id de la unidad.")
    desde = FiltroFecha("creada_en", "gte", label="Creadas desde (ISO 8601 con zona).")
    hasta = FiltroFecha("creada_en", "lte", label="Creadas hasta (ISO 8601 con zona).")
    bbox = FiltroBbox("ubicacion", label="min_lon,min_lat,max_lon,max_lat: ubicación dentro.")
    abiertas = FiltroBooleano(method="filtrar_abiertas", label="true: solo las abiertas (la cola del mapa).")

    class Meta:
        model = Tarea
        fields: list[str] = []

    def filtrar_abiertas(self, qs, nombre, valor):
        if valor is None:
            return qs
        return qs.filter(estado__in=ESTADOS_ABIERTOS) if valor else qs.exclude(estado__in=ESTADOS_ABIERTOS)
