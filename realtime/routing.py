from __future__ import annotations

from django.urls import path

from realtime.consumers import EventosConsumer

websocket_urlpatterns = [path("ws/eventos/", EventosConsumer.as_asgi())]
