from __future__ import annotations

from django.urls import path

from efectivos.api import dispositivos, quien, views

urlpatterns = [
    path("yo/", views.YoView.as_view(), name="yo"),
    path("yo/estado/", views.YoEstadoView.as_view(), name="yo_estado"),
    path("yo/accesos/", views.YoAccesosView.as_view(), name="yo_accesos"),
    path("yo/servicio/", views.YoServicioView.as_view(), name="yo_servicio"),
    path("efectivos/", views.EfectivosListView.as_view(), name="efectivos"),
    path("efectivos/recorridos/", quien.RecorridosView.as_view(), name="efectivos_recorridos"),
    path("efectivos/<int:efectivo_id>/recorrido/", views.RecorridoView.as_view(), name="efectivo_recorrido"),
    path(
        "efectivos/<int:efectivo_id>/dispositivos/",
        dispositivos.DispositivosView.as_view(),
        name="efectivo_dispositivos",
    ),
    path(
        "dispositivos/<int:dispositivo_id>/revocar/",
        dispositivos.DispositivoRevocarView.as_view(),
        name="dispositivo_revocar",
    ),
    path(
        "dispositivos/<int:dispositivo_id>/pedir-ubicacion/",
        dispositivos.DispositivoUbicacionView.as_view(),
        name="dispositivo_pedir_ubicacion",
    ),
]
