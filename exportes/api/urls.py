from __future__ import annotations

from django.urls import path

from exportes.api import views

urlpatterns = [
    path("exportes/recorridos/", views.RecorridosExportView.as_view(), name="exportes_recorridos"),
    path("exportes/alertas/", views.AlertasExportView.as_view(), name="exportes_alertas"),
    path("exportes/tareas/", views.TareasExportView.as_view(), name="exportes_tareas"),
    path("yo/datos/", views.MisDatosView.as_view(), name="yo_datos"),
    path("exportes/geocercas/", views.GeocercasExportView.as_view(), name="exportes_geocercas"),
]
