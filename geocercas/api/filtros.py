from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django_filters import rest_framework as df

from gad_project.api.filtros import FiltroBbox, FiltroBooleano, FiltroDesdeId, FiltroId, FiltroOpcion
from geocercas.models import ALERTA_ABIERTA, Alerta, EstadoAlerta, Geocerca, Severidad, TipoAlerta, TipoGeocerca


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
    estado = FiltroOpcion("estado", EstadoAlerta)
    pendientes = FiltroBooleano(method="_pendientes", label="true: solo pendientes; false: las demás.")
    abiertas = FiltroBooleano(method="_abiertas", label="true: sin resolver; false: solo resueltas.")
    orden = df.ChoiceFilter(
        method="_orden",
        choices=[
            ("recientes", "Las más nuevas primero"),
            ("severidad", "Crítica, advertencia, informativa; nuevas primero"),
        ],
        error_messages={"invalid_choice": "debe ser uno de: recientes, severidad"},
        label="recientes (por omisión) o severidad.",
    )

    class Meta:
        model = Alerta
        fields: list[str] = []

    def _pendientes(self, qs: QuerySet, nombre: str, valor: bool | None) -> QuerySet:
        if valor is None:
            return qs
        pendiente = {"estado": EstadoAlerta.PENDIENTE}
        return qs.filter(**pendiente) if valor else qs.exclude(**pendiente)

    def _abiertas(self, qs: QuerySet, nombre: str, valor: bool | None) -> QuerySet:
        if valor is None:
            return qs
        return qs.filter(ALERTA_ABIERTA) if valor else qs.exclude(ALERTA_ABIERTA)

    def _orden(self, qs: QuerySet, nombre: str, valor: str | None) -> QuerySet:
        if valor != "severidad":
            return qs
        rango = Case(
            When(severidad=Severidad.CRITICA, then=Value(3)),
            When(severidad=Severidad.ADVERTENCIA, then=Value(2)),
            default=Value(1),
            output_field=IntegerField(),
        )
        return qs.annotate(rango_severidad=rango).order_by("-rango_severidad", "-id")
