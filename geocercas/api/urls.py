from __future__ import annotations

from rest_framework.routers import SimpleRouter

from geocercas.api import views

router = SimpleRouter()
router.register("geocercas", views.GeocercaViewSet, basename="geocerca")
router.register("alertas", views.AlertaViewSet, basename="alerta")
urlpatterns = router.urls
