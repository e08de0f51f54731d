from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from mensajes.api import views

router = SimpleRouter()
router.register("mensajes", views.MensajeViewSet, basename="mensaje")
urlpatterns = [
    path("mis-mensajes/", views.BandejaView.as_view(), name="mis_mensajes"),
    *(
        path(
            f"mis-mensajes/<int:mensaje_id>/{paso}/", views.EntregaMarcarView.as_view(paso=paso), name=f"mensaje_{paso}"
        )
        for paso in ("recibido", "leido", "confirmado")
    ),
    path("mis-mensajes/<int:mensaje_id>/responder/", views.ResponderView.as_view(), name="mensaje_responder"),
    *router.urls,
]
