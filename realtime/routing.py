"""The WebSocket side of the ASGI application: session or ticket authentication, then the consumer."""

from __future__ import annotations

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.contrib.auth.models import AnonymousUser
from django.db import InterfaceError, OperationalError
from django.urls import path

from gad_project.bd import conexiones_revisar
from realtime.consumers import EventosConsumer

BD_CAIDA = "gad_bd_caida"  # scope key: the session's user could not be read


class AutenticacionConReintento(AuthMiddleware):
    """Channels' session authentication, retried once on a fresh connection: after a PostgreSQL
    restart the pool may hand out a connection that died with it (the failed one is discarded).
    If the database is still unreachable the socket is closed by the consumer with 4503, not
    refused with an HTTP 500."""

    async def resolve_scope(self, scope):
        for intento in range(2):
            try:
                await super().resolve_scope(scope)
                return
            except (OperationalError, InterfaceError):
                await database_sync_to_async(conexiones_revisar)()
                if intento:
                    scope["user"]._wrapped = AnonymousUser()
                    scope[BD_CAIDA] = True


def pila(interior):
    return CookieMiddleware(SessionMiddleware(AutenticacionConReintento(interior)))


websocket_urlpatterns = [path("ws/eventos/", EventosConsumer.as_asgi())]
