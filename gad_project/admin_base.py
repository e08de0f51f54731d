from __future__ import annotations

from django.contrib.gis.admin import GISModelAdmin

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
