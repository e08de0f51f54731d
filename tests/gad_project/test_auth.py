from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.conftest import CLAVE

pytestmark = pytest.mark.django_db


def test_token_se_obtiene_con_usuario_y_clave_y_abre_la_api(efectivo):
    client = APIClient()
    respuesta = client.post("/api/v1/auth/token/", {"username": "efectivo", "password": CLAVE}, format="json")
    assert respuesta.status_code == 200
    tokens = respuesta.json()
    assert set(tokens) == {"access", "refresh"}
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    lista = client.get("/api/v1/efectivos/")
    assert lista.status_code == 200
    assert [f["id"] for f in lista.json()["features"]] == [efectivo.pk]


def test_refresh_rota_el_token_de_refresco(efectivo):
    client = APIClient()
    tokens = client.post("/api/v1/auth/token/", {"username": "efectivo", "password": CLAVE}, format="json").json()
    respuesta = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert respuesta.status_code == 200
    nuevos = respuesta.json()
    assert nuevos["access"] != tokens["access"]
    assert nuevos["refresh"] != tokens["refresh"]


def test_clave_incorrecta_es_401_con_la_forma_de_error(efectivo):
    respuesta = APIClient().post("/api/v1/auth/token/", {"username": "efectivo", "password": "mal"}, format="json")
    assert respuesta.status_code == 401
    assert respuesta.json()["error"]["codigo"] == "autenticacion_fallida"


def test_token_adulterado_es_rechazado(efectivo):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.firma-falsa")
    respuesta = client.get("/api/v1/efectivos/")
    assert respuesta.status_code == 401
    assert set(respuesta.json()["error"]) == {"codigo", "mensaje", "detalle"}


def test_sin_credenciales_es_401():
    respuesta = APIClient().get("/api/v1/efectivos/")
    assert respuesta.status_code == 401
    assert respuesta.json()["error"]["codigo"] == "no_autenticado"


@pytest.mark.parametrize(
    ("ruta", "cuerpo", "motivo", "mensaje"),
    [
        (
            "/api/v1/auth/token/",
            {"username": "nadie", "password": "mal"},
            "no_active_account",
            "Usuario o contraseña incorrectos, o la cuenta está inactiva.",
        ),
        ("/api/v1/auth/token/refresh/", {"refresh": "x"}, "token_not_valid", "El token no es válido o expiró."),
    ],
)
def test_los_rechazos_de_autenticacion_se_explican_en_castellano(client, db, ruta, cuerpo, motivo, mensaje):
    r = client.post(ruta, cuerpo, content_type="application/json")
    assert r.status_code == 401
    assert r.json()["error"] == {"codigo": "autenticacion_fallida", "mensaje": mensaje, "detalle": {"motivo": motivo}}


def test_los_intentos_de_ingreso_se_limitan_por_cliente(efectivo, monkeypatch):
    """Password guessing is throttled (THROTTLE_TOKEN) per client address, counted in Redis; the
    address is the last X-Forwarded-For entry (the proxy's), so a forged one does not reset it."""
    import uuid

    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"token": "3/min"})
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"  # a fresh bucket on every run
    client = APIClient()
    datos = {"username": "efectivo", "password": "mal"}
    estados = [
        client.post("/api/v1/auth/token/", datos, format="json", HTTP_X_FORWARDED_FOR=f"{falsa}, {ip}").status_code
        for falsa in ("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4")
    ]
    assert estados == [401, 401, 401, 429]
    r = client.post(
        "/api/v1/auth/token/", {"username": "efectivo", "password": CLAVE}, format="json", HTTP_X_FORWARDED_FOR=ip
    )
    assert r.status_code == 429
    assert r.json()["error"]["codigo"] == "demasiadas_solicitudes"
    assert r.json()["error"]["detalle"]["reintentar_en_s"] > 0
    otro = client.post(
        "/api/v1/auth/token/",
        {"username": "efectivo", "password": CLAVE},
        format="json",
        HTTP_X_FORWARDED_FOR=ip.replace(".7", ".8"),
    )
    assert otro.status_code == 200


def test_la_sesion_dura_horas_y_se_desliza_mientras_se_usa(client, comandante_a, settings):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    assert settings.SESSION_COOKIE_AGE == 12 * 3600  # not Django's two weeks
    client.force_login(comandante_a)
    clave = client.session.session_key
    Session.objects.filter(session_key=clave).update(expire_date=timezone.now() + timedelta(minutes=5))
    from django.core.cache import caches

    caches[settings.SESSION_CACHE_ALIAS].delete(f"django.contrib.sessions.cached_db{clave}")
    assert client.get("/mapa/").status_code == 200
    vence = Session.objects.get(session_key=clave).expire_date
    assert timedelta(hours=11, minutes=55) < vence - timezone.now() <= timedelta(hours=12)


def test_la_politica_de_contenido_solo_deja_conectar_al_propio_origen(client, comandante_a):
    client.force_login(comandante_a)
    csp = client.get("/mapa/")["Content-Security-Policy"]
    conectar = next(d for d in csp.split(";") if d.strip().startswith("connect-src")).split()[1:]
    assert conectar == ["'self'"]  # no bare ws: / wss: (any host)


def test_el_token_de_metricas_se_compara_en_tiempo_constante(settings, client):
    settings.METRICS_TOKEN = "t" * 32
    settings.METRICS_REDES = []

    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "t" * 32, REMOTE_ADDR="10.9.9.9").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "t" * 31, REMOTE_ADDR="10.9.9.9").status_code in (
        401,
        403,
    )
