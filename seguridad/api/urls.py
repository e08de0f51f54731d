from __future__ import annotations

from rest_framework.routers import SimpleRouter

from seguridad.api import views

router = SimpleRouter()
router.register("sos", views.SosViewSet, basename="sos")
router.register("sin-reporte", views.SinReporteViewSet, basename="sin_reporte")
urlpatterns = router.urls
