"""An officer sees who read their data and why (GET /api/v1/yo/accesos/), and downloads all of it
(GET /api/v1/yo/datos/) (#30)."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest
from django.utils import timezone

from efectivos.models import Rol
from tests.conftest import cliente_jwt
from tests.factories import CENTRO, EfectivoFactory, UsuarioFactory

pytestmark = pytest.mark.django_db


def _leer(r) -> bytes:
    assert r.status_code == 200, getattr(r, "content", r)
    return b"".join(r)


def _reportar(efectivo) -> None:
    r = cliente_jwt(efectivo.usuario).post(
        "/api/v1/posiciones/",
        {
            "id_cliente": str(uuid.uuid4()),
            "lat": CENTRO[1],
            "lon": CENTRO[0],
            "registrada_en": timezone.now().isoformat(),
            "precision_m": 5,
        },
        format="json",
    )
    assert r.status_code in (200, 201), r.content


def test_el_efectivo_ve_quien_miro_sus_datos_cuando_y_por_que(comandante_a, efectivo, unidad_a):
    otro = EfectivoFactory(usuario=UsuarioFactory(username="otro", rol=Rol.EFECTIVO), unidad=unidad_a)
    _reportar(efectivo)
    mando = cliente_jwt(comandante_a)
    assert mando.get(f"/api/v1/efectivos/{efectivo.pk}/recorrido/?horas=2&motivo=incidente").status_code == 200
    r = mando.get(
        f"/api/v1/efectivos/recorridos/?unidad={efectivo.unidad_id}&motivo=judicial&motivo_detalle=Oficio%2012"
    )
    assert [e["id"] for e in r.json()["efectivos"]] == [efectivo.pk]
    # Their own reads are not "someone looked at my data".
    _leer(cliente_jwt(efectivo.usuario).get(f"/api/v1/exportes/recorridos/?formato=csv&efectivo={efectivo.pk}"))

    r = cliente_jwt(efectivo.usuario).get("/api/v1/yo/accesos/")
    assert r.status_code == 200, r.content
    cuerpo = r.json()
    assert cuerpo["count"] == 2
    quien, recorrido = cuerpo["results"]  # newest first
    assert quien["que"] == "quién estaba dónde" and quien["motivo"] == "judicial"
    assert quien["motivo_texto"] == "Requerimiento judicial o fiscal" and quien["motivo_detalle"] == "Oficio 12"
    assert recorrido["que"] == "recorrido" and recorrido["motivo"] == "incidente"
    assert recorrido["quien"] == (comandante_a.get_full_name() or comandante_a.get_username())
    assert recorrido["rol"] == "comandante" and recorrido["interfaz"] == "api" and recorrido["desde"]
    # Someone else's accesses are not theirs; a commander has no "my accesses".
    assert cliente_jwt(otro.usuario).get("/api/v1/yo/accesos/").json()["count"] == 0
    assert mando.get("/api/v1/yo/accesos/").status_code == 403


def test_el_efectivo_descarga_todos_sus_datos_en_json_y_csv(comandante_a, efectivo):
    _reportar(efectivo)
    _reportar(efectivo)
    assert cliente_jwt(comandante_a).get(f"/api/v1/efectivos/{efectivo.pk}/recorrido/?motivo=tarea").status_code == 200
    c = cliente_jwt(efectivo.usuario)
    r = c.get("/api/v1/yo/datos/?formato=json")
    assert r["Content-Type"] == "application/json"
    assert "attachment" in r["Content-Disposition"]
    datos = json.loads(_leer(r))
    assert datos["efectivo"]["codigo"] == efectivo.codigo_interno and datos["efectivo"]["dni"] == efectivo.dni
    assert len(datos["lecturas"]) == 2 and datos["lecturas"][0]["efectivo_id"] == efectivo.pk
    assert set(datos) >= {"alertas", "tareas", "mensajes", "respuestas", "accesos"}
    assert [a["motivo"] for a in datos["accesos"]] == ["tarea"]

    filas = list(
        csv.reader(io.StringIO(_leer(c.get("/api/v1/yo/datos/?formato=csv&seccion=lecturas")).decode("utf-8-sig")))
    )
    assert filas[0][:3] == ["efectivo_id", "codigo", "nombre"] and len(filas) == 3


@pytest.mark.parametrize(
    "consulta, campo",
    [("", "formato"), ("formato=xml", "formato"), ("formato=csv", "seccion"), ("formato=csv&seccion=todo", "seccion")],
)
def test_un_pedido_de_sus_datos_mal_hecho_es_un_400(efectivo, consulta, campo):
    r = cliente_jwt(efectivo.usuario).get(f"/api/v1/yo/datos/?{consulta}")
    assert r.status_code == 400, r.content
    assert campo in json.dumps(r.json()["error"]), r.json()
