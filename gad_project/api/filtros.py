"""List filters as django-filter FilterSets: validated one way, listed in the OpenAPI schema.

Each filter reads its value with the same parser as the views' other query parameters
(gad_project.api.params), so a bad value is the same 400 `parametro_invalido` naming the
parameter, in Spanish, wherever it is sent."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.contrib.gis.geos import Polygon
from django.db.models import QuerySet
from django_filters import rest_framework as df
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from gad_project.api.params import param_bbox, param_bool, param_fecha, param_int
from gad_project.exceptions import EntradaInvalida

ID_MAX = 2**62


class FiltroBackend(df.DjangoFilterBackend):
    """DjangoFilterBackend whose invalid filters answer in the project's error shape."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            errores = {nombre: str(mensajes[0]) for nombre, mensajes in filterset.errors.items()}
            nombre, motivo = next(iter(errores.items()))
            raise EntradaInvalida(
                f"Parámetro '{nombre}' inválido: {motivo}", detalle=errores, codigo="parametro_invalido"
            )
        return filterset.qs


class _Campo(forms.Field):
    """A form field that reads its value with one of gad_project.api.params' parsers."""

    def __init__(self, *, leer: Callable[[dict[str, Any], str], Any], **kwargs: Any) -> None:
        self.leer = leer
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        try:
            return self.leer({"valor": value}, "valor")
        except EntradaInvalida as exc:
            raise forms.ValidationError(exc.detalle["valor"]) from None


class _Filtro(df.Filter):
    field_class = _Campo
    lector: Callable[..., Any]

    def __init__(self, field_name: str | None = None, lookup_expr: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("leer", self.lector)
        super().__init__(field_name, lookup_expr, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": ID_MAX})
class FiltroId(_Filtro):
    lector = staticmethod(partial(param_int, minimo=1, maximo=ID_MAX))


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": ID_MAX})
class FiltroDesdeId(_Filtro):
    """Only rows with a greater id: how a client catches up after a reconnection."""

    lector = staticmethod(partial(param_int, minimo=0, maximo=ID_MAX))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("pk", "gt", **kwargs)


@extend_schema_field(OpenApiTypes.BOOL)
class FiltroBooleano(_Filtro):
    lector = staticmethod(param_bool)


@extend_schema_field(OpenApiTypes.DATETIME)
class FiltroFecha(_Filtro):
    lector = staticmethod(param_fecha)


@extend_schema_field({"type": "string", "pattern": r"^[^,]+,[^,]+,[^,]+,[^,]+$"})
class FiltroBbox(_Filtro):
    """`min_lon,min_lat,max_lon,max_lat` (WGS84): rows whose geometry's box overlaps it."""

    lector = staticmethod(param_bbox)

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__bboverlaps": Polygon.from_bbox(value)})


class FiltroOpcion(df.ChoiceFilter):
    """A choice filter with the choices of a model field and the project's message."""

    def __init__(self, field_name: str, opciones: Any, **kwargs: Any) -> None:
        validas = ", ".join(str(v) for v in opciones.values)
        kwargs.setdefault("error_messages", {"invalid_choice": f"debe ser uno de: {validas}"})
        super().__init__(field_name=field_name, choices=opciones.choices, **kwargs)
