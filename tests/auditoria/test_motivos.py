"""Reading an officer's personal data requires a reason (#30): a track, "who was where", an export
of someone's data. The reason is stored with the read; an officer's own data needs none."""

from __future__ import annotations

import pytest

from auditoria.models import Registro
from auditoria.motivos import DETALLE_MAX
from tests.conftest import cliente_jwt, motivo_en_sesion

pytestmark = pytest.mark.django_db

LECTURAS = [
    "/api/v1/efectivos/{id}/recorrido/?horas=2",
    "/api/v1/efectivos/recorridos/?unidad={unidad}",
    "/api/v1/exportes/recorridos/?formato=csv&efectivo={id}",
    "/api/v1/exportes/alertas/?formato=csv",
]


def _url(plantilla: str, efectivo) -> str:
    return plantilla.format(id=efectivo.pk, unidad=efectivo.unidad_id)


@pytest.mark.parametrize("plantilla", LECTURAS)
def test_sin_motivo_es_un_400_que_lista_los_motivos(comandante_a, efectivo, plantilla):
    antes = Registro.objects.filter(action=Registro.Action.ACCESS).count()
    r = cliente_jwt(comandante_a).get(_url(plantilla, efectivo))
    assert r.status_code == 400, r.content
    error = r.json()["error"]
    assert error["codigo"] == "motivo_requerido"
    assert "supervision" in error["detalle"]["opciones"] and error["detalle"]["detalle_max"] == DETALLE_MAX
    # Nothing was read, so nothing is recorded as read.
    assert Registro.objects.filter(action=Registro.Action.ACCESS).count() == antes


@pytest.mark.parametrize(
    "consulta, campo",
    [
        ("motivo=curiosidad", "opciones"),
        ("motivo=otro", "motivo_detalle"),
        ("motivo=otro&motivo_detalle=%20%20", "motivo_detalle"),
        (f"motivo=supervision&motivo_detalle={'x' * (DETALLE_MAX + 1)}", "maximo"),
    ],
)
@pytest.mark.parametrize("plantilla", LECTURAS[:2])
def test_un_motivo_mal_dado_es_un_400_claro(comandante_a, efectivo, plantilla, consulta, campo):
    r = cliente_jwt(comandante_a).get(f"{_url(plantilla, efectivo)}&{consulta}")
    assert r.status_code == 400, r.content
    error = r.json()["error"]
    assert error["codigo"] == "motivo_invalido" and campo in error["detalle"], error


@pytest.mark.parametrize("plantilla", LECTURAS)
def test_el_motivo_queda_con_la_lectura(comandante_a, efectivo, plantilla):
    r = cliente_jwt(comandante_a).get(
        f"{_url(plantilla, efectivo)}&motivo=judicial&motivo_detalle=Oficio%20123/26%20de%20la%20fiscal%C3%ADa"
    )
    assert r.status_code == 200
    if r.streaming:
        b"".join(r)
    leido = Registro.objects.filter(action=Registro.Action.ACCESS).latest("timestamp")
    assert leido.actor == comandante_a
    assert leido.additional_data["motivo"] == "judicial"
    assert leido.additional_data["motivo_detalle"] == "Oficio 123/26 de la fiscalía"


def test_sus_propios_datos_no_piden_motivo(efectivo):
    c = cliente_jwt(efectivo.usuario)
    r = c.get(f"/api/v1/exportes/recorridos/?formato=csv&efectivo={efectivo.pk}")
    assert r.status_code == 200, r.content
    b"".join(r)
    assert c.get("/api/v1/exportes/recorridos/?formato=csv").status_code == 200
    leido = Registro.objects.filter(action=Registro.Action.ACCESS).latest("timestamp")
    assert leido.actor == efectivo.usuario and "motivo" not in leido.additional_data


def test_la_administracion_pide_el_motivo_antes_de_descargar_recorridos(admin, efectivo):
    from urllib.parse import parse_qs, urlencode, urlsplit

    from django.test import Client

    c = Client()
    c.force_login(admin)
    motivo_en_sesion(c, efectivo)
    # The efectivo's page offers its track as downloads that go through the reason form.
    pagina = c.get(f"/admin/efectivos/efectivo/{efectivo.pk}/change/").content.decode()
    assert "/admin/motivo/?siguiente=%2Fapi%2Fv1%2Fexportes%2Frecorridos%2F" in pagina
    siguiente = f"/api/v1/exportes/recorridos/?formato=csv&efectivo={efectivo.pk}"
    formulario = c.get(f"/admin/motivo/?{urlencode({'siguiente': siguiente})}")
    assert formulario.status_code == 200 and "Requerimiento judicial o fiscal" in formulario.content.decode()
    sin = c.post("/admin/motivo/", {"siguiente": siguiente, "motivo": ""})
    assert sin.status_code == 200 and "Indique el motivo" in sin.content.decode()
    r = c.post("/admin/motivo/", {"siguiente": siguiente, "motivo": "judicial", "motivo_detalle": "Oficio 9"})
    assert r.status_code == 302
    destino = urlsplit(r["Location"])
    assert destino.path == "/api/v1/exportes/recorridos/"
    assert parse_qs(destino.query)["motivo"] == ["judicial"] and parse_qs(destino.query)["motivo_detalle"] == [
        "Oficio 9"
    ]
    descarga = c.get(r["Location"])
    assert descarga.status_code == 200
    b"".join(descarga)
    leido = Registro.objects.filter(action=Registro.Action.ACCESS).latest("timestamp")
    assert leido.actor == admin and leido.additional_data["motivo"] == "judicial"
    # Only to an export of this site.
    assert c.get("/admin/motivo/?siguiente=https://otro.example/api/v1/exportes/").status_code == 400
    assert c.get("/admin/motivo/?siguiente=/admin/").status_code == 400


def test_abrir_la_ficha_de_un_efectivo_en_el_admin_pide_el_motivo_una_vez_por_efectivo(admin, efectivo, unidad_a):
    from urllib.parse import urlencode

    from django.test import Client

    from tests.factories import EfectivoFactory

    c = Client()
    c.force_login(admin)
    ficha = f"/admin/efectivos/efectivo/{efectivo.pk}/change/"
    r = c.get(ficha)
    assert r.status_code == 302 and r["Location"] == f"/admin/motivo/?{urlencode({'siguiente': ficha})}"
    assert not Registro.objects.filter(action=Registro.Action.ACCESS).exists()  # nothing read yet
    formulario = c.get(r["Location"]).content.decode()
    assert "La ficha de un efectivo contiene sus datos personales" in formulario and "Abrir la ficha" in formulario
    largo = c.post("/admin/motivo/", {"siguiente": ficha, "motivo": "otro", "motivo_detalle": "x" * (DETALLE_MAX + 1)})
    assert largo.status_code == 200 and "errornote" in largo.content.decode()
    r = c.post("/admin/motivo/", {"siguiente": ficha, "motivo": "incidente", "motivo_detalle": "Parte 12"})
    assert (r.status_code, r["Location"]) == (302, ficha)
    assert c.get(ficha).status_code == 200
    assert c.get(ficha).status_code == 200  # asked once: the second opening goes straight in
    leidos = Registro.objects.filter(action=Registro.Action.ACCESS, object_id=efectivo.pk)
    assert leidos.count() == 2 and all(
        (x.actor, x.additional_data["motivo"], x.additional_data["motivo_detalle"]) == (admin, "incidente", "Parte 12")
        for x in leidos
    )
    otro = EfectivoFactory(unidad=unidad_a)
    assert c.get(f"/admin/efectivos/efectivo/{otro.pk}/change/").status_code == 302  # another officer: asked again
