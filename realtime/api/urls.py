from __future__ import annotations

from django.urls import path

from realtime.api import views

urlpatterns = [path("ws/ticket/", views.TicketView.as_view(), name="ws_ticket")]
