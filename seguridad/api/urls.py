from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from seguridad.api import views

router = SimpleRouter()
router.register("sos", views.SosViewSet, basename="sos")
router.register("sin-reporte", views.SinReporteViewSet, basename="sin_reporte")
router.register("bienestar", views.BienestarViewSet, basename="bienestar")
urlpatterns = [path("mi-bienestar/", views.MiBienestarView.as_view(), name="mi_bienestar"), *router.urls]
