from __future__ import annotations

from django.urls import path

from posiciones.api import views

urlpatterns = [
    path("posiciones/", views.PosicionesView.as_view(), name="posiciones"),
]
