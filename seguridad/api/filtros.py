from __future__ import annotations

from django_filters import rest_framework as df

from gad_project.api.filtros import FiltroId, FiltroOpcion
from seguridad.models import EstadoSos, Sos


class SosFiltro(df.FilterSet):
    estado = FiltroOpcion("estado", EstadoSos)
    efectivo = FiltroId("efectivo_id", label="Id del efectivo.")

    class Meta:
        model = Sos
        fields: list[str] = []
