from __future__ import annotations

from django.urls import path, re_path

from mapa import views

urlpatterns = [
    path("mapa/", views.mapa, name="mapa"),
    path("mapa/datos/", views.MapaDatosView.as_view(), name="mapa_datos"),
    path("mapa/datos/efectivos/<int:efectivo_id>/", views.EfectivoPanelView.as_view(), name="mapa_efectivo"),
    path("mapa/datos/tareas-actuales/", views.TareasActualesView.as_view(), name="mapa_tareas_actuales"),
    path("mapa/datos/vigencias/", views.VigenciasView.as_view(), name="mapa_vigencias"),
    path("mapa/datos/buscar/", views.BuscarView.as_view(), name="mapa_buscar"),
    # Any text in z/x/y reaches the view, so a bad address is a 400 in the error shape, not a 404.
    re_path(r"^tiles/(?P<capa>[^/]+)/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.pbf$", views.tile, name="tile"),
]
