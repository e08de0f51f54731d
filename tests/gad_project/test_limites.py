"""Limits, each configurable: per-user writes and readings (counted in Redis across processes,
the lean ASGI path included), wrong passwords per account, and refresh-token rotation with a
blacklist. Over a limit: 429 with Retry-After, in the error shape."""

from __future__ import annotations

import time
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
        # The window is the clock's minute: five requests across its turn would count in two.
        if time.time() % 60 > 50:
            time.sleep(61 - time.time() % 60)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tok}"}, timeout=10) as c:
            respuestas = [c.post("/api/v1/posiciones/", json=[_lectura()]) for _ in range(5)]
    assert [r.status_code for r in respuestas] == [201, 201, 201, 201, 429]
    ultima = respuestas[-1]
    assert 1 <= int(ultima.headers["retry-after"]) <= 60
    assert ultima.json()["error"]["codigo"] == "demasiadas_solicitudes"
    assert Posicion.objects.filter(efectivo=efectivo).count() == 4


def _intento(c, nombre: str, clave: str, ip: str) -> int:
    datos = {"username": nombre, "password": clave}
    return c.post("/api/v1/auth/token/", datos, format="json", HTTP_X_FORWARDED_FOR=ip).status_code


def test_las_claves_equivocadas_bloquean_ese_usuario_desde_esa_direccion_y_no_desde_otra(settings, efectivo):
    """The lockout is per (username, address): a guesser elsewhere cannot lock the officer's own
    phone out. However the name is written, it is the same account."""
    settings.INGRESO_FALLOS_PAR = "3/15min"
    c = APIClient()
    assert _intento(c, "efectivo", CLAVE, "10.0.0.1") == 200  # successful sign-ins are not counted
    assert [_intento(c, n, "mal", "10.6.6.6") for n in ("efectivo", "Efectivo ", "EFECTIVO")] == [401] * 3
    r = c.post(
        "/api/v1/auth/token/",
        {"username": "efectivo", "password": CLAVE},
        format="json",
        HTTP_X_FORWARDED_FOR="10.6.6.6",
    )
    assert r.status_code == 429 and 800 < int(r["Retry-After"]) <= 900  # locked there for the window
    assert _intento(c, "efectivo", CLAVE, "10.0.0.1") == 200  # the officer's phone still signs in
    assert _intento(c, "otro", "x", "10.6.6.6") == 401  # and another account from the guesser's address


def test_un_tope_global_mas_lento_frena_al_que_adivina_desde_muchas_direcciones(settings, efectivo):
    settings.INGRESO_FALLOS_PAR = "3/15min"
    settings.INGRESO_FALLOS_USUARIO = "5/h"
    c = APIClient()
    assert [_intento(c, "efectivo", "mal", f"10.0.9.{i}") for i in range(5)] == [401] * 5
    r = c.post(
        "/api/v1/auth/token/",
        {"username": "efectivo", "password": CLAVE},
        format="json",
        HTTP_X_FORWARDED_FOR="10.1.1.1",
    )
    assert r.status_code == 429 and 3000 < int(r["Retry-After"]) <= 3600


def test_una_direccion_que_prueba_muchas_cuentas_se_frena_y_los_aciertos_no_cuentan(settings, efectivo):
    settings.INGRESO_FALLOS_DIRECCION = "4/15min"
    c = APIClient()
    # A shift behind one NAT signing in: right passwords are never counted against the address.
    assert [_intento(c, "efectivo", CLAVE, "10.7.7.7") for _ in range(6)] == [200] * 6
    assert [_intento(c, f"nadie{i}", "x", "10.7.7.7") for i in range(4)] == [401] * 4
    assert _intento(c, "efectivo", CLAVE, "10.7.7.7") == 429


def test_los_formularios_de_ingreso_comparten_el_bloqueo_de_la_api(settings, client, admin, efectivo):
    """/login/ and /admin/login/ count wrong passwords into the same windows as the token endpoint,
    and a sign-in the API locked is refused by both forms (with the right password too)."""
    settings.INGRESO_FALLOS_PAR = "3/15min"
    ip = {"REMOTE_ADDR": "10.3.3.3", "HTTP_X_FORWARDED_FOR": "10.3.3.3"}
    r = client.post("/login/", {"username": "admin", "password": "mal"}, **ip)
    assert r.status_code == 200  # the form again, with its error
    r = client.post("/admin/login/", {"username": "admin", "password": "mal", "next": "/admin/"}, **ip)
    assert r.status_code == 200
    assert _intento(APIClient(), "admin", "mal", "10.3.3.3") == 401  # the third, through the API
    for ruta in ("/login/", "/admin/login/"):
        r = client.post(ruta, {"username": "admin", "password": CLAVE, "next": "/admin/"}, **ip)
        assert r.status_code == 429, ruta
        assert 800 < int(r["Retry-After"]) <= 900
        assert "Demasiados intentos fallidos" in r.content.decode()
        assert "_auth_user_id" not in client.session
    # Another address signs in (the lockout is the pair's).
    r = client.post(
        "/login/", {"username": "admin", "password": CLAVE}, REMOTE_ADDR="10.4.4.4", HTTP_X_FORWARDED_FOR="10.4.4.4"
    )
    assert r.status_code == 302


def test_la_api_bloquea_lo_que_los_formularios_contaron(settings, client, efectivo):
    settings.INGRESO_FALLOS_PAR = "2/15min"
    for _ in range(2):
        client.post("/login/", {"username": "efectivo", "password": "mal"}, HTTP_X_FORWARDED_FOR="10.5.5.5")
    assert _intento(APIClient(), "efectivo", CLAVE, "10.5.5.5") == 429


@pytest.mark.parametrize(
    ("clave", "motivo"),
    [("a", "demasiado corta"), ("password123456", "demasiado común"), ("483920174625", "completamente por dígitos")],
)
def test_el_admin_no_acepta_contrasenas_debiles(client, admin, clave, motivo):
    client.force_login(admin)
    r = client.post(
        "/admin/efectivos/usuario/add/",
        {"username": "nuevo", "password1": clave, "password2": clave, "usable_password": "true", "rol": "efectivo"},
    )
    assert r.status_code == 200
    assert motivo in r.content.decode()
    assert not type(admin).objects.filter(username="nuevo").exists()


@pytest.mark.parametrize("texto", ["10", "x/min", "10/semana", "-1/min", "10/0xmin"])
def test_un_limite_mal_escrito_se_explica(texto):
    with pytest.raises(ImproperlyConfigured, match="LIMITE_POSICIONES"):
        limites.Limite.leer("LIMITE_POSICIONES", texto)


def test_los_limites_se_leen_como_se_documentan():
    assert limites.Limite.leer("X", "600/min") == limites.Limite(600, 60)
    assert limites.Limite.leer("X", "10/15min") == limites.Limite(10, 900)
    assert limites.Limite.leer("X", "2/s") == limites.Limite(2, 1)
    assert limites.Limite.leer("X", "0") == limites.Limite(0, 1)
