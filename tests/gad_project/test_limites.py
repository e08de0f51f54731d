"""Limits, each configurable: per-user writes and readings (counted in Redis across processes,
the lean ASGI path included), wrong passwords per account, and refresh-token rotation with a
blacklist. Over a limit: 429 with Retry-After, in the error shape."""

from __future__ import annotations

import uuid

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from rest_framework.test import APIClient

from efectivos.models import Posicion
from gad_project import limites
from tests.conftest import CLAVE, cliente_jwt
from tests.vivo import daphne, token

pytestmark = pytest.mark.django_db


def _lectura() -> dict:
    return {"id_cliente": str(uuid.uuid4()), "lat": -34.6, "lon": -58.4, "registrada_en": timezone.now().isoformat()}


def test_un_token_de_refresco_rotado_ya_no_sirve(efectivo):
    c = APIClient()
    tokens = c.post("/api/v1/auth/token/", {"username": "efectivo", "password": CLAVE}, format="json").json()
    nuevos = c.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert nuevos.status_code == 200
    otra_vez = c.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert otra_vez.status_code == 401 and otra_vez.json()["error"]["codigo"] == "autenticacion_fallida"
    # The new one works, once.
    assert (
        c.post("/api/v1/auth/token/refresh/", {"refresh": nuevos.json()["refresh"]}, format="json").status_code == 200
    )


def test_las_escrituras_por_usuario_tienen_limite(settings, comandante_a, comandante_b):
    settings.LIMITE_ESCRITURAS = "3/min"
    c = cliente_jwt(comandante_a)
    tarea = {"titulo": "x", "tipo": "patrullaje", "prioridad": 2}
    estados = [c.post("/api/v1/tareas/", tarea, format="json").status_code for _ in range(4)]
    assert estados == [201, 201, 201, 429]
    r = c.post("/api/v1/tareas/", tarea, format="json")
    assert r.status_code == 429 and 1 <= int(r["Retry-After"]) <= 60
    assert r.json()["error"]["codigo"] == "demasiadas_solicitudes"
    assert r.json()["error"]["detalle"]["reintentar_en_s"] == int(r["Retry-After"])
    assert c.get("/api/v1/tareas/").status_code == 200  # reads are not counted
    assert cliente_jwt(comandante_b).post("/api/v1/tareas/", tarea, format="json").status_code == 201  # per user


def test_las_lecturas_tienen_su_propia_ventana_generosa(settings, efectivo):
    settings.LIMITE_ESCRITURAS = "1/min"  # writes are limited hard; readings have their own limit
    settings.LIMITE_POSICIONES = "5/min"
    c = cliente_jwt(efectivo.usuario)
    estados = [c.post("/api/v1/posiciones/", [_lectura()], format="json").status_code for _ in range(6)]
    assert estados == [201] * 5 + [429]
    assert Posicion.objects.filter(efectivo=efectivo).count() == 5  # the refused one was not stored


def test_el_camino_rapido_cuenta_en_la_misma_ventana_y_responde_429(transactional_db, efectivo):
    with daphne(LIMITE_POSICIONES="4/min") as url:
        tok = token(url, "efectivo", CLAVE)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tok}"}, timeout=10) as c:
            respuestas = [c.post("/api/v1/posiciones/", json=[_lectura()]) for _ in range(5)]
    assert [r.status_code for r in respuestas] == [201, 201, 201, 201, 429]
    ultima = respuestas[-1]
    assert 1 <= int(ultima.headers["retry-after"]) <= 60
    assert ultima.json()["error"]["codigo"] == "demasiadas_solicitudes"
    assert Posicion.objects.filter(efectivo=efectivo).count() == 4


def test_las_claves_equivocadas_bloquean_la_cuenta_desde_cualquier_direccion(settings, efectivo):
    settings.THROTTLE_TOKEN_USUARIO = "3/15min"
    c = APIClient()

    def intento(nombre: str, clave: str, ip: str) -> int:
        datos = {"username": nombre, "password": clave}
        return c.post("/api/v1/auth/token/", datos, format="json", HTTP_X_FORWARDED_FOR=ip).status_code

    # Successful sign-ins are not counted; three wrong ones, each from another address and however
    # the name is written, are.
    assert intento("efectivo", CLAVE, "10.0.0.1") == 200
    assert [intento(n, "mal", f"10.0.1.{i}") for i, n in enumerate(("efectivo", "Efectivo ", "EFECTIVO"))] == [401] * 3
    r = c.post("/api/v1/auth/token/", {"username": "efectivo", "password": CLAVE}, format="json")
    assert r.status_code == 429 and 800 < int(r["Retry-After"]) <= 900  # locked for the window
    # Another account is not affected.
    assert c.post("/api/v1/auth/token/", {"username": "otro", "password": "x"}, format="json").status_code == 401


@pytest.mark.parametrize("texto", ["10", "x/min", "10/semana", "-1/min", "10/0xmin"])
def test_un_limite_mal_escrito_se_explica(texto):
    with pytest.raises(ImproperlyConfigured, match="LIMITE_POSICIONES"):
        limites.Limite.leer("LIMITE_POSICIONES", texto)


def test_los_limites_se_leen_como_se_documentan():
    assert limites.Limite.leer("X", "600/min") == limites.Limite(600, 60)
    assert limites.Limite.leer("X", "10/15min") == limites.Limite(10, 900)
    assert limites.Limite.leer("X", "2/s") == limites.Limite(2, 1)
    assert limites.Limite.leer("X", "0") == limites.Limite(0, 1)
