"""The field app for efectivos (/campo/): one page, its web app manifest and its service worker.
The page is the app shell: what an officer sees comes from the API and the event socket, so the
shell itself can be cached and opens with no signal."""

from __future__ import annotations

import hashlib
import json
from functools import cache

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from efectivos.alcance import alcance_de
from efectivos.models import EstadoEfectivo
from mapa.views import base_osm_config
from tareas.models import EstadoTarea, Prioridad
from telegram_bot.mensajes import MOTIVOS_RECHAZO

# What the service worker keeps for offline use: the page itself and every file it loads.
SHELL = (
    "css/gad.css",
    "css/campo.css",
    "css/fuentes.css",
    "js/campo/app.js",
    "js/campo/cola.js",
    "js/campo/tareas.js",
    "js/mapa/api.js",
    "js/mapa/base.js",
    "vendor/idb-keyval/index.js",
    "vendor/maplibre/maplibre-gl.js",
    "vendor/maplibre/maplibre-gl.css",
    "vendor/fonts/noto-sans-latin-400-normal.woff2",
    "vendor/fonts/noto-sans-latin-700-normal.woff2",
    "img/gad.svg",
    "img/campo-192.png",
    "img/campo-512.png",
)


@cache
def version_shell() -> str:
    """A digest of the shell's files: a release that changes any of them changes the service
    worker's bytes, so every installed app updates itself on its next visit."""
    h = hashlib.sha256()
    for nombre in SHELL:
        ruta = finders.find(nombre)
        h.update(nombre.encode())
        if ruta:
            with open(ruta, "rb") as f:
                h.update(f.read())
    return h.hexdigest()[:16]


def _es_efectivo(request: HttpRequest) -> bool:
    return alcance_de(request.user).efectivo_id is not None


@login_required
def campo(request: HttpRequest) -> HttpResponse:
    if not _es_efectivo(request) or isinstance(request.user, AnonymousUser):
        # Commanders and admins work on the map; anyone else has nothing here.
        return redirect("mapa")
    config = {
        "usuario": request.user.get_full_name() or request.user.get_username(),
        "zonaHoraria": settings.TIME_ZONE,
        "estados": dict(EstadoEfectivo.choices),
        "estadosTarea": dict(EstadoTarea.choices),
        "prioridades": {str(k): v for k, v in Prioridad.choices},
        "motivosRechazo": list(MOTIVOS_RECHAZO),
        "osm": base_osm_config(),
        "tilesBase": settings.MAPA_TILES_URL,
        "centro": settings.MAPA_CENTRO,
        "version": version_shell(),
        "sw": reverse("campo_sw"),
    }
    return render(request, "campo/campo.html", {"config": config})


def inicio(request: HttpRequest) -> HttpResponse:
    """`/`: each role to its own screen (officers to the field app, command to the map)."""
    if request.user.is_authenticated and _es_efectivo(request):
        return redirect("campo")
    return redirect("mapa")


@require_GET
def manifiesto(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "name": "GRUPO_GAD · Campo",
            "short_name": "GAD Campo",
            "description": "Tareas, mensajes del mando, control de bienestar y SOS para efectivos.",
            "lang": "es-AR",
            "start_url": reverse("campo"),
            "scope": reverse("campo"),
            "display": "standalone",
            "orientation": "portrait",
            "background_color": "#0f1720",
            "theme_color": "#0f1720",
            "icons": [
                {
                    "src": static("img/campo-192.png"),
                    "sizes": "192x192",
                    "type": "image/png",
                    "purpose": "any maskable",
                },
                {
                    "src": static("img/campo-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "any maskable",
                },
                {"src": static("img/gad.svg"), "sizes": "any", "type": "image/svg+xml"},
            ],
        },
        content_type="application/manifest+json",
    )


@require_GET
@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from /campo/ so its scope is the app. Never cached by HTTP: the browser compares its
    bytes on every visit, and the shell's digest inside it is what announces a new release."""
    cuerpo = render(
        request,
        "campo/sw.js",
        {
            "version": version_shell(),
            "shell": json.dumps([reverse("campo"), reverse("campo_manifiesto"), *(static(n) for n in SHELL)]),
        },
        content_type="text/javascript",
    )
    return cuerpo
