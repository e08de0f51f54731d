from __future__ import annotations

from django_filters import rest_framework as df

from gad_project.api.filtros import FiltroBbox, FiltroBooleano, FiltroDesdeId, FiltroId, FiltroOpcion
from geocercas.models import Alerta, Geocerca, Severidad, TipoAlerta, TipoGeocerca


class GeocercaFiltro(df.FilterSet):
    tipo = FiltroOpcion("tipo", TipoGeocerca)
    severidad = FiltroOpcion("severidad", Severidad)
    activa = FiltroBooleano("activa")
    unidad = FiltroId("unidades", label="Id de una unidad a la que se aplica.")
    bbox = FiltroBbox("geom", label="min_lon,min_lat,max_lon,max_lat: geometría que lo toca.")

    class Meta:
        model = Geocerca
        fields: list[str] = []


class AlertaFiltro(df.FilterSet):
    desde_id = FiltroDesdeId(label="Solo alertas con id mayor (para ponerse al día).")
    tipo = FiltroOpcion("tipo", TipoAlerta)
    severidad = FiltroOpcion("severidad", Severidad)
    geocerca = FiltroId("geocerca_id", label="Id de la geocerca.")
    efectivo = FiltroId("efectivo_id", label="Id del efectivo.")
    pendientes = FiltroBooleano("reconocida_en", "isnull", label="true: solo sin reconocer; false: solo reconocidas.")

    class Meta:
        model = Alerta
        fields: list[str] = []
