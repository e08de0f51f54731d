"""Error pages for people: in Spanish, in the site's style, never Django's bare English ones."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.views import defaults

pytestmark = pytest.mark.django_db


def test_una_pagina_que_no_existe_es_un_404_en_castellano(comandante_a, settings):
    settings.DEBUG = False
    c = Client()
    c.force_login(comandante_a)
    r = c.get("/no-existe/")
    html = r.content.decode()
    assert r.status_code == 404
    assert "No encontrado (404)" in html and "/no-existe/" in html and 'lang="es-AR"' in html
    assert "Not Found" not in html and "gad.css" in html


def test_sin_permiso_y_error_del_servidor_en_castellano():
    pedido = RequestFactory().get("/algo/")
    r = defaults.permission_denied(pedido, PermissionDenied())
    assert r.status_code == 403 and "Sin permiso (403)" in r.content.decode()
    assert "Forbidden" not in r.content.decode()
    r = defaults.server_error(pedido)
    assert r.status_code == 500 and "Error del servidor (500)" in r.content.decode()
    assert "Server Error" not in r.content.decode()


def test_una_solicitud_que_django_rechaza_se_explica_en_la_pagina(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    r = client.post("/login/", {f"c{i}": "x" for i in range(10)})
    assert r.status_code == 400
    assert "Solicitud rechazada (400)" in r.content.decode() and "demasiados campos" in r.content.decode()
