from __future__ import annotations

import json

from django.conf import settings
from django.contrib.gis.forms import OSMWidget

from efectivos.models import Unidad
from geocercas.models import Geocerca
from mapa.views import base_osm_config


class MapaWidget(OSMWidget):
    """The admin's geometry editor, served entirely from local static files (OpenLayers from the
    npm registry, copied at install time), on the commanders' offline base map (Natural Earth land
    and, once installed, the OpenStreetMap extract: static/js/gis/base_ol.js), with the unidades'
    jurisdictions and the active geocercas (named) as context."""

    template_name = "gis/gad_openlayers.html"
    default_lon, default_lat = settings.MAPA_CENTRO  # type: ignore[assignment]  # degrees: floats, not the stub's int
    default_zoom = 12

    class Media:
        extend = False  # the parent's Media points at a CDN
        css = {"all": ("vendor/ol/ol.css", "gis/css/ol3.css", "css/fuentes.css")}
        js = ("vendor/ol/ol.js", "gis/js/OLMapWidget.js", "js/gis/base_ol.js")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["tiles_url"] = settings.MAPA_TILES_URL
        context["contexto_id"] = f"{context['id']}_contexto"
        context["contexto"] = contexto_geojson()
        context["base_id"] = f"{context['id']}_base"
        context["base_osm"] = base_osm_config()
        return context


def contexto_geojson() -> dict:
    features = [
        {"type": "Feature", "geometry": json.loads(u.jurisdiccion.geojson), "properties": {"capa": "jurisdiccion"}}
        for u in Unidad.objects.exclude(jurisdiccion=None).only("jurisdiccion")
        if u.jurisdiccion is not None
    ]
    features += [
        {
            "type": "Feature",
            "geometry": json.loads(g.geom.geojson),
            "properties": {"capa": "geocerca", "nombre": g.nombre},
        }
        for g in Geocerca.objects.filter(activa=True).only("geom", "nombre")[:2000]
    ]
    return {"type": "FeatureCollection", "features": features}
