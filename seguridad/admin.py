from __future__ import annotations

from django.contrib import admin

from mapa.admin_base import MapaSoloLecturaAdmin
from seguridad.models import ControlBienestar, SinReporte, Sos


@admin.register(Sos)
class SosAdmin(MapaSoloLecturaAdmin):
    """A record of every SOS; raised by efectivos and resolved from the map or the API, never here."""

    list_display = ("id", "efectivo", "estado", "fuente", "creado_en", "resuelto_en", "resuelto_por")
    list_filter = ("estado", "fuente")
    search_fields = ("efectivo__apellido", "efectivo__codigo_interno")


@admin.register(SinReporte)
class SinReporteAdmin(MapaSoloLecturaAdmin):
    list_display = ("id", "efectivo", "ultima_posicion_en", "creado_en", "cerrado_en")
    list_filter = (("cerrado_en", admin.EmptyFieldListFilter),)
    search_fields = ("efectivo__apellido", "efectivo__codigo_interno")


@admin.register(ControlBienestar)
class ControlBienestarAdmin(admin.ModelAdmin):
    """Check-in cadences and their record; started and ended from the map or the API."""

    list_display = ("id", "efectivo", "intervalo_min", "estado", "proximo_en", "fallos", "respuestas", "terminado_en")
    list_filter = ("estado", ("terminado_en", admin.EmptyFieldListFilter))
    search_fields = ("efectivo__apellido", "efectivo__codigo_interno")
    readonly_fields = [f.name for f in ControlBienestar._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
