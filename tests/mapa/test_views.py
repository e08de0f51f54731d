from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone

from tareas.models import EstadoTarea
from tests.factories import CENTRO, EfectivoFactory, EventoFactory, PosicionFactory, TareaFactory, cuadrado, desplazar

pytestmark = pytest.mark.django_db


def sesion(usuario) -> Client:
    c = Client()
    c.force_login(usuario)
    return c


def test_la_raiz_lleva_al_mapa_y_sin_sesion_al_login():
    r = Client().get("/", follow=True)
    assert r.redirect_chain[0][0] == "/mapa/"
    assert r.redirect_chain[-1][0].startswith("/login/?next=/mapa/")


def test_el_comandante_ve_el_mapa_con_su_configuracion(comandante_a, unidad_a):
    unidad_a.jurisdiccion = cuadrado(lado_m=2000)
    unidad_a.save()
    r = sesion(comandante_a).get("/mapa/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "vendor/maplibre/maplibre-gl.js" in html
    assert "unpkg" not in html and "cdn" not in html.lower()
    config = json.loads(html.split('id="mapa-config" type="application/json">')[1].split("</script>")[0])
    assert config["rol"] == "comandante"
    assert [u["codigo"] for u in config["unidades"]] == ["UA"]
    assert config["zona"][0] < CENTRO[0] < config["zona"][2]


def test_un_efectivo_va_a_la_app_de_campo_y_sin_legajo_es_rechazado(efectivo, ajeno, comandante_a):
    r = sesion(efectivo.usuario).get("/mapa/")
    assert (r.status_code, r["Location"]) == (302, "/campo/")
    assert sesion(efectivo.usuario).get("/").url == "/campo/"
    assert sesion(comandante_a).get("/").url == "/mapa/"
    assert sesion(comandante_a).get("/campo/").url == "/mapa/"
    r = sesion(ajeno).get("/mapa/")  # an efectivo's role but no record: nothing to open
    assert r.status_code == 403
    assert "no tiene acceso" in r.content.decode() and "/campo/" in r.content.decode()


def test_datos_del_mapa_traen_cursor_y_solo_el_alcance(comandante_a, unidad_a, unidad_b):
    evento = EventoFactory()
    propio = EfectivoFactory(unidad=unidad_a, codigo_interno="A-1")
    EfectivoFactory(unidad=unidad_b, codigo_interno="B-1")
    EfectivoFactory(unidad=unidad_a, ultima_posicion=None)  # nothing to draw
    abierta = TareaFactory(unidad=unidad_a, prioridad=5)
    TareaFactory(unidad=unidad_a, estado=EstadoTarea.FINALIZADA)
    TareaFactory(unidad=unidad_b)
    r = sesion(comandante_a).get("/mapa/datos/")
    assert r.status_code == 200
    datos = r.json()
    assert datos["cursor"] == evento.pk
    [f] = datos["efectivos"]["features"]
    assert f["id"] == propio.pk
    assert f["geometry"]["coordinates"] == pytest.approx(list(CENTRO))
    assert f["properties"]["codigo"] == "A-1"
    assert abs(f["properties"]["fix"] / 1000 - propio.ultima_posicion_en.timestamp()) < 0.01
    assert [t["id"] for t in datos["tareas"]["features"]] == [abierta.pk]
    assert datos["tareas"]["features"][0]["properties"]["prioridad"] == 5


def test_datos_del_mapa_son_solo_para_mandos(efectivo):
    r = sesion(efectivo.usuario).get("/mapa/datos/")
    assert r.status_code == 403
    assert r.json()["error"]["codigo"] == "no_permitido"


def test_panel_de_efectivo_y_alcance(comandante_a, comandante_b, unidad_a):
    e = EfectivoFactory(unidad=unidad_a, especialidades=["k9"])
    r = sesion(comandante_a).get(f"/mapa/datos/efectivos/{e.pk}/")
    assert r.status_code == 200
    assert r.json()["especialidades"] == ["k9"]
    assert r.json()["tareas"] == []
    assert sesion(comandante_b).get(f"/mapa/datos/efectivos/{e.pk}/").status_code == 404


class TestRecorrido:
    def test_devuelve_las_lecturas_de_la_ventana_en_orden(self, api, comandante_a, unidad_a):
        e = EfectivoFactory(unidad=unidad_a)
        ahora = timezone.now()
        for minutos in (90, 30, 10):
            PosicionFactory(
                efectivo=e,
                registrada_en=ahora - timedelta(minutes=minutos),
                punto=Point(*desplazar(*CENTRO, este_m=minutos), srid=4326),
            )
        PosicionFactory(efectivo=e, registrada_en=ahora - timedelta(hours=5))
        r = api(comandante_a).get(f"/api/v1/efectivos/{e.pk}/recorrido/?horas=2&motivo=supervision")
        assert r.status_code == 200
        cuerpo = r.json()
        assert cuerpo["lecturas"] == 3
        tiempos = [p[2] for p in cuerpo["puntos"]]
        assert tiempos == sorted(tiempos)
        assert cuerpo["puntos"][-1][0] == pytest.approx(desplazar(*CENTRO, este_m=10)[0], abs=1e-6)

    def test_adelgaza_los_recorridos_largos_conservando_la_ultima(self, api, comandante_a, unidad_a):
        from efectivos.selectors import recorrido_de

        e = EfectivoFactory(unidad=unidad_a)
        ahora = timezone.now()
        for i in range(25):
            PosicionFactory(efectivo=e, registrada_en=ahora - timedelta(seconds=100 - i))
        r = recorrido_de(efectivo_id=e.pk, desde=ahora - timedelta(hours=1), hasta=ahora, max_puntos=10)
        assert r.lecturas == 25
        assert len(r.puntos) <= 11
        assert r.puntos[-1][2] == ahora - timedelta(seconds=76)

    @pytest.mark.parametrize(
        "query", ["horas=0", "horas=abc", "horas=1000", "desde=ayer", "desde=2030-01-01T00:00:00Z"]
    )
    def test_parametros_invalidos_son_400(self, api, comandante_a, unidad_a, query):
        e = EfectivoFactory(unidad=unidad_a)
        r = api(comandante_a).get(f"/api/v1/efectivos/{e.pk}/recorrido/?{query}&motivo=supervision")
        assert r.status_code == 400, r.content
        assert "error" in r.json()

    def test_otro_comandante_y_efectivos_no_lo_ven(self, api, comandante_b, efectivo):
        assert (
            api(comandante_b).get(f"/api/v1/efectivos/{efectivo.pk}/recorrido/?motivo=supervision").status_code == 404
        )
        assert (
            api(efectivo.usuario).get(f"/api/v1/efectivos/{efectivo.pk}/recorrido/?motivo=supervision").status_code
            == 403
        )
