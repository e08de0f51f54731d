"""The ASGI fast path for cached tiles, against a real daphne: it serves only what Django has
already authorized for a live session, and stops the moment the session ends."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import mapbox_vector_tile
import pytest
import redis
from django.conf import settings

from tests.factories import EfectivoFactory
from tests.mapa.test_tiles import url
from tests.vivo import daphne, sesion_navegador


@pytest.fixture
def servidor(transactional_db):
    # The efectivos layer's version moves every TILES_EFECTIVOS_TTL_S (5 s): a longer one here, so
    # the requests a test compares never straddle a change of version.
    with daphne(TILES_EFECTIVOS_TTL_S="600") as base:
        yield base


def pedir(base: str, ruta: str, cookie: str, metodo: str = "GET", headers: dict | None = None):
    req = urllib.request.Request(base + ruta, method=metodo, headers={"Cookie": cookie, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def aciertos(base: str) -> float:
    texto = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
    return sum(
        float(v) for v in re.findall(r'gad_tiles_servidas_total\{cache="acierto",capa="efectivos"\} (\S+)', texto)
    )


def test_la_via_rapida_sirve_lo_cacheado_y_corta_al_cerrar_sesion(servidor, comandante_a, unidad_a, unidad_b):
    propio = EfectivoFactory(unidad=unidad_a)
    EfectivoFactory(unidad=unidad_b)
    cookie = sesion_navegador(servidor, "comandante_a", "clave-segura-123")

    estado, cabeceras, cuerpo = pedir(servidor, url("efectivos"), cookie)
    assert estado == 200
    assert "Content-Security-Policy" in cabeceras  # built by Django
    antes = aciertos(servidor)

    estado, cabeceras, cuerpo2 = pedir(servidor, url("efectivos"), cookie)
    assert estado == 200
    assert cabeceras["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert "Content-Security-Policy" not in cabeceras  # answered before Django
    assert aciertos(servidor) == antes + 1
    assert cuerpo2 == cuerpo
    assert [f["id"] for f in mapbox_vector_tile.decode(cuerpo2)["efectivos"]["features"]] == [propio.pk]

    estado, _, _ = pedir(
        servidor,
        url("efectivos"),
        cookie,
        headers={"If-None-Match": {k.lower(): v for k, v in cabeceras.items()}["etag"]},
    )
    assert estado == 304
    # Redis forgot its scripts (a restart, SCRIPT FLUSH): the fast path loads its own again.
    redis.Redis.from_url(settings.REDIS_URL).script_flush()
    estado, cabeceras, cuerpo3 = pedir(servidor, url("efectivos"), cookie)
    assert estado == 200 and cuerpo3 == cuerpo
    assert "Content-Security-Policy" not in cabeceras
    assert aciertos(servidor) == antes + 2

    csrf = re.search(r"csrftoken=([^;]+)", cookie).group(1)
    estado, _, _ = pedir(servidor, "/logout/", cookie, metodo="POST", headers={"X-CSRFToken": csrf})
    assert estado in (200, 302)
    estado, _, cuerpo = pedir(servidor, url("efectivos"), cookie)
    assert estado == 401, cuerpo


def test_otra_sesion_no_hereda_el_alcance(servidor, comandante_a, comandante_b, unidad_a, unidad_b):
    EfectivoFactory(unidad=unidad_a)
    ajeno = EfectivoFactory(unidad=unidad_b)
    cookie_a = sesion_navegador(servidor, "comandante_a", "clave-segura-123")
    cookie_b = sesion_navegador(servidor, "comandante_b", "clave-segura-123")
    pedir(servidor, url("efectivos"), cookie_a)
    pedir(servidor, url("efectivos"), cookie_a)  # cached for A's scope
    estado, _, cuerpo = pedir(servidor, url("efectivos"), cookie_b)
    assert estado == 200
    assert [f["id"] for f in mapbox_vector_tile.decode(cuerpo)["efectivos"]["features"]] == [ajeno.pk]
    estado, _, _ = pedir(servidor, url("efectivos"), "sessionid=inventada123")
    assert estado == 401


def test_un_cliente_jwt_tambien_va_por_la_via_rapida_y_corta_al_cambiar_su_acceso(
    servidor, comandante_a, comandante_b, unidad_a, unidad_b
):
    """A phone or a script with a JWT: its first tile goes through Django, which authorizes it; the
    next cached ones are answered before Django, in its own scope, until its access changes."""
    from efectivos.models import Usuario
    from tests.vivo import post_json

    propio = EfectivoFactory(unidad=unidad_a)
    ajeno = EfectivoFactory(unidad=unidad_b)

    def portador(usuario: str) -> dict:
        _, cuerpo = post_json(f"{servidor}/api/v1/auth/token/", {"username": usuario, "password": "clave-segura-123"})
        return {"Authorization": f"Bearer {cuerpo['access']}"}

    a, b = portador("comandante_a"), portador("comandante_b")
    estado, cabeceras, cuerpo = pedir(servidor, url("efectivos"), "", headers=a)
    assert estado == 200
    assert "Content-Security-Policy" in cabeceras  # built by Django
    antes = aciertos(servidor)
    estado, cabeceras, cuerpo2 = pedir(servidor, url("efectivos"), "", headers=a)
    assert (estado, cuerpo2) == (200, cuerpo)
    assert "Content-Security-Policy" not in cabeceras  # answered before Django
    assert aciertos(servidor) == antes + 1
    assert [f["id"] for f in mapbox_vector_tile.decode(cuerpo2)["efectivos"]["features"]] == [propio.pk]

    # Another commander's token never inherits that scope, and a forged one goes to Django.
    pedir(servidor, url("efectivos"), "", headers=b)
    estado, _, cuerpo_b = pedir(servidor, url("efectivos"), "", headers=b)
    assert [f["id"] for f in mapbox_vector_tile.decode(cuerpo_b)["efectivos"]["features"]] == [ajeno.pk]
    encabezado, carga, _firma = a["Authorization"].split(".")
    estado, _, _ = pedir(servidor, url("efectivos"), "", headers={"Authorization": f"{encabezado}.{carga}.inventada"})
    assert estado == 401

    # Deactivated (the admin's save): the very next tile goes to Django, which refuses it.
    usuario = Usuario.objects.get(username="comandante_a")
    usuario.is_active = False
    usuario.save()
    estado, _, _ = pedir(servidor, url("efectivos"), "", headers=a)
    assert estado == 401
