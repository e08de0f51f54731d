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


def test_una_geocerca_con_properties_que_no_son_un_objeto_es_400(api, admin):
    cuerpo = {
        "type": "Feature",
        "geometry": {"type": "MultiPolygon", "coordinates": [[[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]]},
        "properties": [None, None],
    }
    r = api(admin).post("/api/v1/geocercas/", cuerpo, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["detalle"] == {"properties": ["Debe ser un objeto JSON."]}


@pytest.mark.parametrize("ruta", ["/mapa/datos/efectivos/null,null/", "/mapa/datos/x"])
def test_una_ruta_desconocida_de_los_datos_del_mapa_es_un_404_en_json(api, admin, ruta):
    r = api(admin).get(ruta)
    assert r.status_code == 404
    assert r.json()["error"]["codigo"] == "no_encontrado"


def test_un_post_sin_csrf_a_una_ruta_desconocida_es_json(admin):
    """A browser session (cookie, no CSRF token) posting to a URL no route matches: Django's CSRF
    check runs first; its refusal is in the project's shape too."""
    from django.test import Client

    cliente = Client(enforce_csrf_checks=True)
    cliente.force_login(admin)
    for ruta in ("/api/v1/geocercas/0.5/", "/api/v1/no-existe/"):
        r = cliente.delete(ruta)
        assert r.status_code in (403, 404), ruta
        assert r["Content-Type"] == "application/json", ruta
        assert r.json()["error"]["codigo"] in ("csrf_invalido", "no_encontrado"), ruta


def test_la_creacion_de_una_tarea_no_tiene_estado_anterior(api, comandante_a):
    r = api(comandante_a).post("/api/v1/tareas/", {"titulo": "x", "lat": CENTRO[1], "lon": CENTRO[0]}, format="json")
    historial = api(comandante_a).get(f"/api/v1/tareas/{r.json()['id']}/historial/").json()["results"]
    assert [(e["estado_anterior"], e["estado_nuevo"]) for e in historial] == [(None, "programada")]


def test_los_instantes_usan_la_hora_de_la_agencia_en_todas_las_respuestas(api, comandante_a, unidad_a):
    """Views that answer plain dicts (here the nearest efectivos) render instants like DRF's
    serializers: in the agency's zone, never UTC."""
    from django.contrib.gis.geos import Point

    from tests.factories import EfectivoFactory

    EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*CENTRO, srid=4326))
    r = api(comandante_a).get("/api/v1/efectivos/cercanos/", {"lat": CENTRO[1], "lon": CENTRO[0]})
    assert r.status_code == 200
    assert r.json()[0]["ultima_posicion_en"].endswith("-03:00")


def test_un_cuerpo_demasiado_grande_en_la_api_es_413_en_json(api, admin, settings):
    relleno = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    r = api(admin).post("/api/v1/geocercas/", {"type": "Feature", "relleno": relleno}, format="json")
    assert r.status_code == 413
    assert r.json()["error"]["codigo"] == "cuerpo_demasiado_grande"


def test_pegar_en_el_admin_mas_de_lo_que_admite_un_formulario_es_una_pagina_413_en_castellano(client, admin, settings):
    client.force_login(admin)
    texto = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    r = client.post("/admin/geocercas/geocerca/add/", {"nombre": "Grande", "importar_texto": texto})
    assert r.status_code == 413
    assert r["Content-Type"].startswith("text/html")
    assert "use el campo de archivo" in r.content.decode()


def test_haproxy_rechaza_un_cuerpo_enorme_con_json_en_la_forma_del_proyecto(tmp_path):
    import json
    import socket
    import subprocess
    import time

    from tests.vivo import RAIZ, puerto_libre

    puerto = puerto_libre()
    cfg = (RAIZ / "deploy" / "haproxy" / "gad.cfg").read_text()
    cfg = cfg.replace("@BIND@", f"127.0.0.1:{puerto}").replace("@HTTP@", "127.0.0.1:9").replace("@WS_SERVERS@", "")
    (tmp_path / "gad.cfg").write_text(cfg)
    proc = subprocess.Popen(
        ["haproxy", "-db", "-f", str(tmp_path / "gad.cfg")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    pedido = (
        "POST /api/v1/posiciones/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {9 * 1024 * 1024}\r\nConnection: close\r\n\r\n"
    ).encode()
    try:
        fin = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", puerto), timeout=5) as s:
                    s.sendall(pedido)
                    respuesta = b""
                    while trozo := s.recv(65536):
                        respuesta += trozo
                break
            except OSError:
                if time.monotonic() > fin:
                    raise
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    cabeza, _, cuerpo = respuesta.partition(b"\r\n\r\n")
    assert cabeza.startswith(b"HTTP/1.1 413")
    assert json.loads(cuerpo)["error"]["codigo"] == "cuerpo_demasiado_grande"
