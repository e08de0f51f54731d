"""Inputs a black-box fuzzer (schemathesis) found answering 500 or being accepted wrongly: each is
a clear 4xx in the project's error shape now."""

from __future__ import annotations

import pytest

from tareas.models import Tarea
from tests.factories import CENTRO, TareaFactory

pytestmark = pytest.mark.django_db


def test_un_id_invalido_en_una_lista_es_400_con_claves_de_texto(api, comandante_a, unidad_a):
    tarea = TareaFactory(unidad=unidad_a)
    r = api(comandante_a).post(f"/api/v1/tareas/{tarea.pk}/asignar/", {"efectivos": [0]}, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["detalle"] == {"efectivos": {"0": ["Asegúrese de que este valor es mayor o igual a 1."]}}


@pytest.mark.parametrize("cuerpo", ["12", "false", "[1, 2]", '"texto"'])
def test_una_geocerca_que_no_es_un_objeto_es_400(api, admin, cuerpo):
    r = api(admin).post("/api/v1/geocercas/", cuerpo, content_type="application/json")
    assert r.status_code == 400
    assert r.json()["error"]["codigo"] == "entrada_invalida"


def test_una_tarea_de_una_unidad_inexistente_es_400(api, admin):
    r = api(admin).post("/api/v1/tareas/", {"titulo": "x", "unidad": 999999}, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["detalle"] == {"unidad": 999999}
    assert not Tarea.objects.exists()


def test_los_booleanos_no_son_numeros_ni_los_numeros_textos(api, comandante_a):
    r = api(comandante_a).post(
        "/api/v1/tareas/emergencia/", {"lat": True, "lon": False, "descripcion": 5}, format="json"
    )
    assert r.status_code == 400
    assert set(r.json()["error"]["detalle"]) == {"lat", "lon", "descripcion"}
    assert not Tarea.objects.exists()


@pytest.mark.parametrize("fecha", ["1365-01-01T10:00:00Z", "2999-01-01T10:00:00Z"])
def test_una_fecha_fuera_de_rango_es_400(api, comandante_a, fecha):
    r = api(comandante_a).post(
        "/api/v1/tareas/",
        {"titulo": "x", "lat": CENTRO[1], "lon": CENTRO[0], "inicio_programado": fecha},
        format="json",
    )
    assert r.status_code == 400
    assert r.json()["error"]["detalle"] == {"inicio_programado": ["La fecha debe estar entre el año 2000 y el 2100."]}


@pytest.mark.parametrize("ruta", ["/api/v1/no-existe/", "/api/v2/", "/api/v1/tareas/abc/aceptar/x/"])
def test_una_ruta_desconocida_de_la_api_es_un_404_en_json(api, admin, ruta):
    r = api(admin).get(ruta)
    assert r.status_code == 404
    assert r["Content-Type"] == "application/json"
    assert r.json()["error"]["codigo"] == "no_encontrado"
