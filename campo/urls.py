from __future__ import annotations

from django.urls import path

from campo import views

urlpatterns = [
    path("campo/", views.campo, name="campo"),
    path("campo/manifest.webmanifest", views.manifiesto, name="campo_manifiesto"),
    path("campo/sw.js", views.service_worker, name="campo_sw"),
]
