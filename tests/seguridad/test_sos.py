"""SOS: one tap raises it, backup is dispatched at once, it lives in the database until resolved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from realtime.models import Evento
from seguridad.models import Sos
from tareas.models import Prioridad, Tarea, TipoTarea
from tests.factories import CENTRO, EfectivoFactory, desplazar

pytestmark = pytest.mark.django_db


def test_un_sos_despacha_al_refuerzo_mas_cercano_y_avisa_al_mando(api, efectivo, unidad_a, unidad_b):
    cerca = EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=300), srid=4326))
    segundo = EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=900), srid=4326))
    EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=2000), srid=4326))
    r = api(efectivo.usuario).post("/api/v1/sos/", {"lat": CENTRO[1], "lon": CENTRO[0]}, format="json")
    assert r.status_code == 201, r.json()
    cuerpo = r.json()
    assert (cuerpo["estado"], cuerpo["efectivo"], cuerpo["unidad"]) == ("activo", efectivo.pk, unidad_a.pk)
    assert (cuerpo["lat"], cuerpo["lon"]) == pytest.approx((CENTRO[1], CENTRO[0]))
    tarea = Tarea.objects.get(pk=cuerpo["tarea"])
    assert (tarea.tipo, tarea.prioridad) == (TipoTarea.EMERGENCIA, Prioridad.CRITICA)
    assert sorted(tarea.asignaciones.values_list("efectivo_id", flat=True)) == sorted([cerca.pk, segundo.pk])
    assert efectivo.pk not in tarea.asignaciones.values_list("efectivo_id", flat=True)
    evento = Evento.objects.filter(tipo="sos.activado").get()
    assert evento.datos["asignados"] == [cerca.pk, segundo.pk]
    assert evento.datos["sos_id"] == cuerpo["id"] and evento.datos["tarea_id"] == tarea.pk
    assert set(evento.audiencia) == {"rol.administrador", f"unidad.{unidad_a.pk}", f"efectivo.{efectivo.pk}"}


def test_un_segundo_toque_es_el_mismo_sos(api, efectivo):
    cliente = api(efectivo.usuario)
    primero = cliente.post("/api/v1/sos/", {"lat": CENTRO[1], "lon": CENTRO[0]}, format="json")
    segundo = cliente.post("/api/v1/sos/", {}, format="json")
    assert (primero.status_code, segundo.status_code) == (201, 200)
    assert primero.json()["id"] == segundo.json()["id"]
    assert Sos.objects.count() == 1 and Tarea.objects.count() == 1
    assert Evento.objects.filter(tipo="sos.activado").count() == 1


def test_sin_ubicacion_se_avisa_igual_y_se_despacha_al_llegar(api, efectivo, unidad_a):
    efectivo.ultima_posicion_en = timezone.now() - timedelta(hours=2)  # a stale fix is not used
    efectivo.save()
    EfectivoFactory(unidad=unidad_a)
    cliente = api(efectivo.usuario)
    r = cliente.post("/api/v1/sos/", {}, format="json")
    assert r.status_code == 201
    assert (r.json()["lat"], r.json()["tarea"]) == (None, None)
    assert Evento.objects.filter(tipo="sos.activado").count() == 1  # the commanders know already
    r = cliente.post("/api/v1/sos/", {"lat": CENTRO[1], "lon": CENTRO[0]}, format="json")
    assert r.status_code == 200 and r.json()["tarea"] is not None
    assert Evento.objects.filter(tipo="sos.activado").count() == 2


def test_el_mando_resuelve_y_nadie_ajeno_puede(api, efectivo, comandante_a, comandante_b):
    sos_id = (
        api(efectivo.usuario).post("/api/v1/sos/", {"lat": CENTRO[1], "lon": CENTRO[0]}, format="json").json()["id"]
    )
    assert api(comandante_b).post(f"/api/v1/sos/{sos_id}/resolver/", {}, format="json").status_code == 404
    activos = api(comandante_a).get("/api/v1/sos/", {"estado": "activo"}).json()
    assert [s["id"] for s in activos["results"]] == [sos_id]
    r = api(comandante_a).post(f"/api/v1/sos/{sos_id}/resolver/", {"nota": "Asistido"}, format="json")
    assert r.status_code == 200
    assert (r.json()["estado"], r.json()["resuelto_por"], r.json()["nota"]) == ("resuelto", "comandante_a", "Asistido")
    evento = Evento.objects.filter(tipo="sos.resuelto").get()
    assert evento.datos["nota"] == "Asistido"
    again = api(comandante_a).post(f"/api/v1/sos/{sos_id}/resolver/", {}, format="json")
    assert (again.status_code, again.json()["error"]["codigo"]) == (409, "sos_resuelto")
    assert api(comandante_a).get("/api/v1/sos/", {"estado": "activo"}).json()["count"] == 0


@pytest.mark.parametrize(
    "cuerpo,campo",
    [({"lat": 100, "lon": 0}, "lat"), ({"lat": True, "lon": False}, "lat"), ({"lat": -34.6}, "lat"), ([1], None)],
)
def test_un_sos_con_datos_invalidos_es_400(api, efectivo, cuerpo, campo):
    r = api(efectivo.usuario).post("/api/v1/sos/", cuerpo, format="json")
    assert r.status_code == 400
    if campo:
        assert campo in r.json()["error"]["detalle"]
    assert not Sos.objects.exists()


def test_solo_un_efectivo_con_legajo_pide_auxilio(api, comandante_a, ajeno):
    for usuario in (comandante_a, ajeno):
        r = api(usuario).post("/api/v1/sos/", {"lat": CENTRO[1], "lon": CENTRO[0]}, format="json")
        assert r.status_code == 403
        assert r.json()["error"]["codigo"] == "sin_legajo"
    assert not Sos.objects.exists()


@pytest.mark.parametrize(
    "destino, estado_tarea", [("cancelar", "cancelada"), ("finalizar", "finalizada"), ("mantener", "asignada")]
)
def test_resolver_decide_la_emergencia_y_libera_al_refuerzo(
    api, efectivo, comandante_a, unidad_a, destino, estado_tarea
):
    from efectivos.models import Efectivo

    refuerzo = EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=300), srid=4326))
    sos = api(efectivo.usuario).post("/api/v1/sos/", {"lat": CENTRO[1], "lon": CENTRO[0]}, format="json").json()
    assert Efectivo.objects.get(pk=refuerzo.pk).estado == "en_tarea"
    r = api(comandante_a).post(f"/api/v1/sos/{sos['id']}/resolver/", {"nota": "ok", "tarea": destino}, format="json")
    assert r.status_code == 200, r.json()
    assert Tarea.objects.get(pk=sos["tarea"]).estado == estado_tarea
    assert Efectivo.objects.get(pk=refuerzo.pk).estado == ("en_tarea" if destino == "mantener" else "disponible")


def test_el_efectivo_no_decide_la_emergencia_y_un_destino_invalido_es_400(api, efectivo, unidad_a):
    EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=300), srid=4326))
    cliente = api(efectivo.usuario)
    sos = cliente.post("/api/v1/sos/", {"lat": CENTRO[1], "lon": CENTRO[0]}, format="json").json()
    r = cliente.post(f"/api/v1/sos/{sos['id']}/resolver/", {"tarea": "cancelar"}, format="json")
    assert (r.status_code, r.json()["error"]["codigo"]) == (403, "tarea_del_mando")
    r = cliente.post(f"/api/v1/sos/{sos['id']}/resolver/", {"tarea": "borrar"}, format="json")
    assert r.status_code == 400
    assert Sos.objects.get(pk=sos["id"]).estado == "activo"  # nothing changed
    assert Tarea.objects.get(pk=sos["tarea"]).estado == "asignada"
