"""The OpenAPI document is valid OpenAPI and says what the lists really answer."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from tests.factories import EfectivoFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def esquema(client):
    respuesta = client.get("/api/schema/", {"format": "json"})
    assert respuesta.status_code == 200
    return respuesta.json()


def test_el_documento_openapi_es_valido(esquema):
    validate(esquema)


def _respuesta_200(esquema, ruta: str) -> dict:
    contenido = esquema["paths"][ruta]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    if "$ref" in contenido:
        contenido = esquema["components"]["schemas"][contenido["$ref"].rsplit("/", 1)[1]]
    return contenido


def test_las_listas_geojson_se_documentan_como_feature_collection(esquema):
    for ruta in ("/api/v1/efectivos/", "/api/v1/geocercas/"):
        propiedades = _respuesta_200(esquema, ruta)["properties"]
        assert set(propiedades) == {"type", "count", "next", "previous", "features"}, ruta
        assert propiedades["features"]["type"] == "array"


def test_las_listas_se_paginan_todas_con_limit_y_offset(esquema):
    for ruta in ("/api/v1/tareas/", "/api/v1/alertas/", "/api/v1/tareas/{id}/historial/", "/api/v1/efectivos/"):
        nombres = {p["name"] for p in esquema["paths"][ruta]["get"].get("parameters", [])}
        assert {"limit", "offset"} <= nombres, ruta


def test_quien_reconocio_una_alerta_puede_ser_nulo(esquema):
    alerta = esquema["components"]["schemas"]["Alerta"]["properties"]["reconocida_por"]
    assert alerta.get("nullable") is True or "null" in str(alerta.get("type"))


def test_limit_se_respeta_en_la_lista_de_efectivos(api, comandante_a, unidad_a):
    EfectivoFactory.create_batch(140, unidad=unidad_a)
    client = api(comandante_a)
    todos = client.get("/api/v1/efectivos/").json()
    assert (todos["count"], len(todos["features"])) == (140, 140)
    pagina = client.get("/api/v1/efectivos/", {"limit": 50, "offset": 100}).json()
    assert (pagina["type"], pagina["count"], len(pagina["features"])) == ("FeatureCollection", 140, 40)
    assert pagina["next"] is None and "offset=50" in pagina["previous"]


def test_las_operaciones_se_agrupan_por_recurso(esquema):
    etiquetas = {op["tags"][0] for metodos in esquema["paths"].values() for op in metodos.values()}
    assert {"posiciones", "efectivos", "geocercas", "alertas", "tareas"} <= etiquetas
    posiciones = esquema["paths"]["/api/v1/posiciones/"]["post"]["tags"]
    assert posiciones == ["posiciones"]


def test_los_filtros_de_las_listas_estan_en_el_esquema(esquema):
    esperados = {
        "/api/v1/efectivos/": {"estado", "unidad", "bbox"},
        "/api/v1/tareas/": {"estado", "prioridad", "tipo", "unidad", "desde", "hasta", "bbox"},
        "/api/v1/geocercas/": {"tipo", "severidad", "activa", "unidad", "bbox"},
        "/api/v1/alertas/": {"desde_id", "geocerca", "efectivo", "pendientes", "tipo", "severidad"},
    }
    for ruta, nombres in esperados.items():
        parametros = {p["name"]: p["schema"] for p in esquema["paths"][ruta]["get"]["parameters"]}
        assert nombres <= set(parametros), ruta
    alertas = {p["name"]: p["schema"] for p in esquema["paths"]["/api/v1/alertas/"]["get"]["parameters"]}
    assert alertas["pendientes"] == {"type": "boolean"}
    assert alertas["severidad"]["enum"] == ["advertencia", "critica", "info"]


def test_cada_operacion_documenta_sus_errores_con_la_forma_del_proyecto(esquema):
    error = esquema["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/_ErrorCuerpo") or "properties" in error
    for ruta, metodos in esquema["paths"].items():
        for metodo, op in metodos.items():
            respuestas = op["responses"]
            assert {"401", "503"} <= set(respuestas), (metodo, ruta)
            assert any(c.startswith("2") for c in respuestas), (metodo, ruta)
            for codigo, respuesta in respuestas.items():
                if codigo[0] in "45":
                    ref = respuesta["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/Error", (metodo, ruta, codigo)
    tarea = esquema["paths"]["/api/v1/tareas/{id}/iniciar/"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "503"} <= set(tarea)
    assert "413" in esquema["paths"]["/api/v1/posiciones/"]["post"]["responses"]
    assert "429" in esquema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
