"""The lean path for the nearest available efectivos (tareas.asgi), against a real daphne: a JWT
client gets exactly what the DRF view gives a browser session — the same efectivos in the same
order, the same JSON, the same errors — without going through Django's stack."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from tests.factories import CENTRO, EfectivoFactory, desplazar
from tests.vivo import daphne, post_json, sesion_navegador

CLAVE = "clave-segura-123"
RUTA = "/api/v1/efectivos/cercanos/"


@pytest.fixture
def servidor(transactional_db):
    with daphne() as base:
        yield base


def pedir(base: str, params: dict, cabeceras: dict) -> tuple[int, dict, object]:
    req = urllib.request.Request(f"{base}{RUTA}?{urlencode(params)}", headers=cabeceras)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def portador(base: str, usuario: str) -> dict:
    _, cuerpo = post_json(f"{base}/api/v1/auth/token/", {"username": usuario, "password": CLAVE})
    return {"Authorization": f"Bearer {cuerpo['access']}"}


def test_la_via_rapida_responde_lo_mismo_que_la_vista(servidor, comandante_a, unidad_a, unidad_b, efectivo):
    ahora = timezone.now()
    cerca = EfectivoFactory(
        unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=300)), ultima_posicion_en=ahora
    )
    lejos = EfectivoFactory(
        unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=900)), ultima_posicion_en=ahora
    )
    EfectivoFactory(unidad=unidad_b, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=10)), ultima_posicion_en=ahora)
    jwt = portador(servidor, "comandante_a")
    sesion = {"Cookie": sesion_navegador(servidor, "comandante_a", CLAVE)}

    params = {"lat": CENTRO[1], "lon": CENTRO[0], "k": 5}
    estado, cabeceras, rapido = pedir(servidor, params, jwt)
    assert estado == 200
    assert "Content-Security-Policy" not in cabeceras  # answered before Django
    estado_vista, cabeceras_vista, vista = pedir(servidor, params, sesion)
    assert estado_vista == 200 and "Content-Security-Policy" in cabeceras_vista
    # Only the commander's unidad, nearest first, as the view says it.
    ids = [e["id"] for e in rapido]
    assert {e["unidad"] for e in rapido} == {unidad_a.pk} and ids.index(cerca.pk) < ids.index(lejos.pk)
    assert rapido == vista
    assert rapido[ids.index(cerca.pk)]["distancia_m"] == pytest.approx(300, abs=1)

    for malos in (
        {"lon": -58},
        {"lat": "x", "lon": 1},
        {"lat": 1, "lon": 1, "k": 0},
        {"lat": 1, "lon": 1, "estado": "en_tarea"},
    ):
        estado, _, cuerpo = pedir(servidor, malos, jwt)
        assert estado == 400, malos
        assert (estado, cuerpo) == pedir(servidor, malos, sesion)[::2], malos

    assert lejos.pk not in [e["id"] for e in pedir(servidor, {**params, "radio_m": 500}, jwt)[2]]  # the radius cuts

    # An efectivo may not ask; a forged token is refused.
    estado, _, cuerpo = pedir(servidor, params, portador(servidor, efectivo.usuario.username))
    assert (estado, cuerpo["error"]["codigo"]) == (403, "no_permitido")
    encabezado, carga, _ = jwt["Authorization"].split(".")
    estado, cabeceras, cuerpo = pedir(servidor, params, {"Authorization": f"{encabezado}.{carga}.inventada"})
    assert (estado, cuerpo["error"]["codigo"]) == (401, "autenticacion_fallida")
