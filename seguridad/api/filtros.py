from __future__ import annotations

from django_filters import rest_framework as df

from gad_project.api.filtros import FiltroBooleano, FiltroId, FiltroOpcion
from seguridad.models import EstadoSos, SinReporte, Sos


class SosFiltro(df.FilterSet):
    estado = FiltroOpcion("estado", EstadoSos)
    efectivo = FiltroId("efectivo_id", label="Id del efectivo.")

    class Meta:
        model = Sos
        fields: list[str] = []


class SinReporteFiltro(df.FilterSet):
    abiertos = FiltroBooleano("cerrado_en", "isnull", label="true: solo los silencios en curso.")
    efectivo = FiltroId("efectivo_id", label="Id del efectivo.")

    class Meta:
        model = SinReporte
        fields: list[str] = []
