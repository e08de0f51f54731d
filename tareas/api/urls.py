from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from tareas.api import views

router = SimpleRouter()
router.register("tareas", views.TareaViewSet, basename="tarea")
urlpatterns = [
    path("mis-tareas/", views.MisTareasView.as_view(), name="mis_tareas"),
    path("efectivos/cercanos/", views.CercanosView.as_view(), name="efectivos_cercanos"),
    path(
        "efectivos/<int:efectivo_id>/estadisticas/",
        views.EfectivoEstadisticasView.as_view(),
        name="efectivo_estadisticas",
    ),
    path("estadisticas/unidades/", views.EstadisticasUnidadesView.as_view(), name="estadisticas_unidades"),
    *router.urls,
]
