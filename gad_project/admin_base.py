from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from gad_project.widgets import MapaWidget


class MapaAdmin(GISModelAdmin):
    """Admin whose geometry fields are edited on the offline OpenLayers map."""

    gis_widget = MapaWidget


class SoloLecturaAdmin:
    """History and log models: viewable, never edited or added by hand (with MapaAdmin for
    geometries, shown on the offline map)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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


# The exports (/api/v1/exportes/) offered in the admin as downloads, for the usual windows. The
# admin's session authenticates them; the export checks scope and audits the read like any other.
VENTANAS = (
    ("últimas 24 h", timedelta(hours=24)),
    ("últimos 7 días", timedelta(days=7)),
    ("últimos 30 días", timedelta(days=30)),
)
ETIQUETAS = {"gpx": "GPX", "kml": "KML", "geojson": "GeoJSON", "csv": "CSV"}


def descargas(nombre_url: str, formatos: tuple[str, ...], *, ventanas: bool = True, **parametros: object) -> list[dict]:
    base = reverse(nombre_url)
    ahora = timezone.now()
    filas = VENTANAS if ventanas else (("todas", None),)
    return [
        {
            "ventana": etiqueta,
            "enlaces": [
                (
                    ETIQUETAS[f],
                    f"{base}?{urlencode({'formato': f, **parametros, **({'desde': (ahora - d).isoformat()} if d else {})})}",
                )
                for f in formatos
            ],
        }
        for etiqueta, d in filas
    ]


def descargas_html(filas: list[dict]) -> str:
    return format_html_join(
        "",
        '<div class="descargas"><span>{}:</span> {}</div>',
        (
            (
                fila["ventana"],
                format_html_join(
                    " · ", '<a href="{}" download>{}</a>', ((url, etiqueta) for etiqueta, url in fila["enlaces"])
                ),
            )
            for fila in filas
        ),
    )


class ConDescargas(admin.ModelAdmin):
    """A changelist with its model's export as downloads above the list."""

    change_list_template = "admin/change_list_descargas.html"
    descargas_url = ""
    descargas_formatos: tuple[str, ...] = ()
    descargas_ventanas = True

    def changelist_view(self, request, extra_context=None):
        extra = {
            "descargas": descargas(self.descargas_url, self.descargas_formatos, ventanas=self.descargas_ventanas),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=extra)
