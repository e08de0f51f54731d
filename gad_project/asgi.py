from __future__ import annotations

import os
import sys

from django.core.asgi import get_asgi_application

# The ingest writers (posiciones.agrupador) make a dozen PostgreSQL round trips per group from a
# thread, each ending in a wait for the GIL while the event loop thread holds it. With Python's
# default 5 ms switch interval that wait dominated the group's time under load; 0.5 ms keeps it
# small at a negligible cost in extra switches.
sys.setswitchinterval(float(os.environ.get("GAD_GIL_SWITCH_S", "0.0005")))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gad_project.settings")
django_asgi_app = get_asgi_application()

from gad_project import cifrado  # noqa: E402

# Never serve undecryptable personal data: keys that do not decrypt what is stored stop the server.
cifrado.verificar_al_arrancar()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from mapa.asgi import TeselasRapidas  # noqa: E402
from posiciones.asgi import IngestaRapida  # noqa: E402
from realtime.routing import pila, websocket_urlpatterns  # noqa: E402
from tareas.asgi import CercanosRapidos  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Readings and the nearest-efectivos question from JWT clients, and cached vector tiles,
        # are answered before Django (see posiciones.asgi, tareas.asgi and mapa.asgi); the rest
        # is Django.
        "http": IngestaRapida(TeselasRapidas(CercanosRapidos(django_asgi_app))),
        # Origin is checked by the consumer for session-authenticated sockets only: mobile clients
        # authenticate with a single-use ticket and send no browser Origin.
        "websocket": pila(URLRouter(websocket_urlpatterns)),
    }
)
