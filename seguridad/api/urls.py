from __future__ import annotations

from rest_framework.routers import SimpleRouter

from seguridad.api import views

router = SimpleRouter()
router.register("sos", views.SosViewSet, basename="sos")
urlpatterns = router.urls
