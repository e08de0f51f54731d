from __future__ import annotations

from django.urls import path

from reportes import views

urlpatterns = [
    path("reportes/", views.reporte, name="reporte"),
]
