"""Single-use, short-lived WebSocket tickets for mobile clients: the app trades its JWT for a
ticket over HTTPS and puts only the ticket in the WebSocket URL, never a long-lived token.
Redeemed with GETDEL, so two sockets can never share one ticket."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django_redis import get_redis_connection

from efectivos.models import Usuario
from gad_project.bd import conexiones_revisar


def _clave(ticket: str) -> str:
    return f"{settings.REDIS_PREFIX}:wsticket:{ticket}"


def ticket_emitir(*, usuario: Usuario) -> str:
    ticket = secrets.token_urlsafe(32)
    get_redis_connection("default").set(_clave(ticket), usuario.pk, ex=settings.WS_TICKET_TTL_S)
    return ticket


def ticket_canjear(*, ticket: str) -> Usuario | None:
    """The ticket's user, once; None for an unknown, expired or already used ticket."""
    if not ticket or len(ticket) > 100:
        return None
    usuario_id = get_redis_connection("default").getdel(_clave(ticket))
    if usuario_id is None:
        return None
    # The user alone: their efectivo record is read under their own context, once the socket has
    # set it (row-level security: read before, it would be "none").
    consulta = Usuario.objects.filter(pk=int(usuario_id), is_active=True)
    try:
        return consulta.first()
    except (OperationalError, InterfaceError):
        # A pooled connection that died with a PostgreSQL restart; the ticket is already spent,
        # so the read is retried here, on a fresh connection, rather than by the caller.
        conexiones_revisar()
        return consulta.first()
