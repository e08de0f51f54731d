from __future__ import annotations

from django_filters import rest_framework as df

from efectivos.models import Efectivo, EstadoEfectivo
from gad_project.api.filtros import FiltroBbox, FiltroId, FiltroOpcion


class EfectivoFiltro(df.FilterSet):
    estado = FiltroOpcion("estado", EstadoEfectivo)
    unidad = FiltroId("unidad_id", label="Id de la unidad.")
    bbox = FiltroBbox("ultima_posicion", label="min_lon,min_lat,max_lon,max_lat: última posición dentro.")

    class Meta:
        model = Efectivo
        fields: list[str] = []
