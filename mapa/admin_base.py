"""Admin bases for models with a geometry: edited, or shown read-only, on the offline map widget
(mapa.widgets)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin
from django.utils.safestring import mark_safe

from gad_project.admin_base import SoloLecturaAdmin
from mapa.widgets import MapaWidget


class MapaAdmin(GISModelAdmin):
    """Admin whose geometry fields are edited on the offline OpenLayers map."""

    gis_widget = MapaWidget


class MapaSoloLecturaAdmin(SoloLecturaAdmin, MapaAdmin):
    """A read-only record with a geometry (a position, an alert's place): its geometry is shown on
    the offline map, not as WKT text."""

    class Media:
        css = {"all": ("vendor/ol/ol.css", "gis/css/ol3.css", "css/fuentes.css")}
        js = ("vendor/ol/ol.js", "gis/js/OLMapWidget.js", "js/gis/base_ol.js")

    def _geometrias(self) -> list:
        from django.contrib.gis.db.models import GeometryField

        return [f for f in self.model._meta.fields if isinstance(f, GeometryField)]

    def _campos(self) -> list[str]:
        geometrias = {f.name for f in self._geometrias()}
        campos = [
            f.name for f in self.model._meta.fields if f.editable and not f.primary_key and f.name not in geometrias
        ]
        return [*campos, "en_el_mapa"] if geometrias else campos

    def get_fields(self, request, obj=None):
        return self._campos()

    def get_readonly_fields(self, request, obj=None):
        return self._campos()

    @admin.display(description="En el mapa")
    def en_el_mapa(self, obj) -> str:
        for campo in self._geometrias():
            valor = getattr(obj, campo.name)
            if valor is not None:
                widget = MapaWidget(attrs={"geom_type": campo.geom_type, "disabled": True})
                return mark_safe(widget.render(f"{campo.name}_mapa", valor, attrs={"id": f"id_{campo.name}_mapa"}))
        return "—"
