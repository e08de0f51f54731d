from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)


class CadenaSincronica:
    """Keeps the whole middleware chain in sync mode under ASGI.

    Django builds the chain from the view outwards and keeps each async-capable middleware in the
    mode of what it wraps. Left in async mode, every MiddlewareMixin runs its process_request and
    process_response through sync_to_async: dozens of thread hops per request, most of a /health's
    time (benchmarks/README.md). This sync-only, pass-through middleware sits innermost, so the chain runs
    in one thread with a single hop at the top. Our views are sync (the ORM is), so they lose
    nothing; the one async view (/health/ready) is adapted once."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


class SesionDeslizante:
    """A signed-in session's expiry slides while it is used: at most every SESION_RENOVAR_S the
    session is marked modified, which saves it with a new expiry (SESSION_COOKIE_AGE from now)
    and sends the cookie again. Idle for SESSION_COOKIE_AGE, it ends."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sesion = getattr(request, "session", None)
        # Only a request that came with a session cookie reads the session (from the cache).
        if sesion is not None and sesion.session_key and "_auth_user_id" in sesion:
            ahora = int(time.time())
            if ahora - int(sesion.get("_renovada", 0)) >= settings.SESION_RENOVAR_S:
                sesion["_renovada"] = ahora
        return self.get_response(request)


class Degradacion:
    """A view outside the API (the map's pages, the admin, reports) that fails because PostgreSQL
    or Redis is unreachable answers 503 with Retry-After — JSON in the project's error shape for
    machine paths, a short page for people — never Django's 500 page. (The API's own handler does
    the same for DRF views.)"""

    sync_capable = True
    async_capable = False
    REINTENTAR_S = 5

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        from gad_project.api.errors import ERRORES_REDIS, error_body

        if isinstance(exc, (OperationalError, InterfaceError)):
            que = "La base de datos no está disponible."
        elif isinstance(exc, ERRORES_REDIS):
            que = "Redis no está disponible."
        else:
            return None
        logger.warning("503 on %s: %s", request.path, type(exc).__name__)
        if request.path.startswith(("/api/", "/mapa/datos/", "/metrics")) or "json" in request.headers.get(
            "Accept", ""
        ):
            r: HttpResponse = JsonResponse(error_body("servicio_no_disponible", que), status=503)
        else:
            r = HttpResponse(
                f'<!DOCTYPE html><html lang="es-AR"><meta charset="utf-8"><title>Servicio no disponible</title>'
                f"<h1>Servicio no disponible</h1><p>{que} Reintente en unos segundos.</p></html>",
                status=503,
                content_type="text/html; charset=utf-8",
            )
        r["Retry-After"] = str(self.REINTENTAR_S)
        return r
