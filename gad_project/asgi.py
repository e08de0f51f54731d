from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gad_project.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry ready)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from mapa.asgi import TeselasRapidas  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Cached vector tiles are answered before Django (see mapa.asgi); the rest is Django.
        "http": TeselasRapidas(django_asgi_app),
        # Origin is checked by the consumer for session-authenticated sockets only: mobile clients
        # authenticate with a single-use ticket and send no browser Origin.
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
