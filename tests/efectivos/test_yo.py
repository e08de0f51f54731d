"""What the app can do that the bot can: the user's own profile and availability, arrival at a
task, rejection with a reason — through the same services."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from efectivos.models import Efectivo, EstadoEfectivo
from gad_project.tiempo import iso
from realtime.models import Evento
from tareas import services as tareas_services
from tests.conftest import cliente_jwt
from tests.factories import CENTRO, TareaFactory, desplazar

pytestmark = pytest.mark.django_db


def test_yo_describe_al_efectivo_y_al_comandante(efectivo, comandante_a):
    r = cliente_jwt(efectivo.usuario).get("/api/v1/yo/")
    turno = efectivo.turnos.get()
    assert r.status_code == 200
    assert r.json() == {
        "usuario": "efectivo",
        "nombre": efectivo.usuario.get_full_name() or "efectivo",
        "rol": "efectivo",
        "efectivo": efectivo.pk,
        "codigo": efectivo.codigo_interno,
        "unidad": efectivo.unidad.codigo,
        "estado": "disponible",
        "telegram_vinculado": False,
        "lat": efectivo.ultima_posicion.y,
        "lon": efectivo.ultima_posicion.x,
        "posicion_en": efectivo.ultima_posicion_en.astimezone(timezone.get_default_timezone()).isoformat(),
        "en_servicio": True,  # the factory puts them in a shift around now
        "turno": {
            "id": turno.pk,
            "inicio": iso(turno.inicio),
            "fin": iso(turno.fin),
            "funcion": "",
            "inicio_real": None,
            "fin_real": None,
        },
    }
    yo = cliente_jwt(comandante_a).get("/api/v1/yo/").json()
    assert (yo["rol"], yo["efectivo"], yo["estado"]) == ("comandante", None, None)
    assert (
        cliente_jwt(comandante_a).post("/api/v1/yo/estado/", {"estado": "disponible"}, format="json").status_code == 403
    )


def test_el_efectivo_cambia_su_disponibilidad_y_su_mando_lo_ve(efectivo):
    c = cliente_jwt(efectivo.usuario)
    r = c.post("/api/v1/yo/estado/", {"estado": "no_disponible"}, format="json")
    assert r.status_code == 200 and r.json()["estado"] == "no_disponible"
    assert Efectivo.objects.get(pk=efectivo.pk).estado == EstadoEfectivo.NO_DISPONIBLE
    evento = Evento.objects.filter(tipo="efectivo.estado").latest("id")
    assert evento.datos["estado"] == "no_disponible" and f"unidad.{efectivo.unidad_id}" in evento.audiencia

    r = c.post("/api/v1/yo/estado/", {"estado": "en_tarea"}, format="json")
    assert r.status_code == 400 and r.json()["error"]["detalle"]["estado"]
    r = c.post("/api/v1/yo/estado/", {}, format="json")
    assert r.status_code == 400 and "estado" in r.json()["error"]["detalle"]
    Efectivo.objects.filter(pk=efectivo.pk).update(estado=EstadoEfectivo.EN_TAREA)
    r = c.post("/api/v1/yo/estado/", {"estado": "disponible"}, format="json")
    assert r.status_code == 409 and r.json()["error"]["codigo"] == "estado_por_tarea"


def test_llegada_desde_la_app_una_sola_vez_y_con_la_distancia(efectivo, comandante_a):
    tarea = TareaFactory(unidad=efectivo.unidad, ubicacion=Point(*desplazar(*CENTRO, norte_m=120), srid=4326))
    Efectivo.objects.filter(pk=efectivo.pk).update(ultima_posicion=Point(*CENTRO, srid=4326))
    tareas_services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, efectivos=[efectivo.pk])
    c = cliente_jwt(efectivo.usuario)
    r = c.post(f"/api/v1/tareas/{tarea.pk}/llegada/")
    assert r.status_code == 409 and r.json()["error"]["codigo"] == "sin_asignacion_aceptada"

    assert c.post(f"/api/v1/tareas/{tarea.pk}/aceptar/").status_code == 200
    r = c.post(f"/api/v1/tareas/{tarea.pk}/llegada/")
    assert r.status_code == 200
    [a] = r.json()["asignaciones"]
    assert a["llegada_en"] is not None and a["llegada_distancia_m"] == pytest.approx(120, abs=1)
    assert a["llegada_en"].endswith("-03:00")
    evento = Evento.objects.filter(tipo="tarea.asignacion").latest("id")
    assert evento.datos["respuesta"] == "llegada" and evento.datos["efectivo_id"] == efectivo.pk
    primera = a["llegada_en"]
    assert c.post(f"/api/v1/tareas/{tarea.pk}/llegada/").json()["asignaciones"][0]["llegada_en"] == primera
    assert sum(e.motivo.startswith("llegada de") for e in tarea.eventos.all()) == 1
    assert cliente_jwt(comandante_a).post(f"/api/v1/tareas/{tarea.pk}/llegada/").status_code == 403


def test_rechazar_desde_la_app_con_motivo(efectivo, comandante_a):
    tarea = TareaFactory(unidad=efectivo.unidad)
    tareas_services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, efectivos=[efectivo.pk])
    r = cliente_jwt(efectivo.usuario).post(
        f"/api/v1/tareas/{tarea.pk}/rechazar/", {"motivo": "Sin medios para llegar"}, format="json"
    )
    assert r.status_code == 200
    assert any(e.motivo.endswith(": Sin medios para llegar") for e in tarea.eventos.all())


def test_el_tiempo_en_el_estado_lo_lleva_la_base_por_cualquier_camino(efectivo):
    """A trigger keeps `estado_desde` on every change of `estado`, also in bulk updates (dispatch)."""
    from datetime import timedelta

    from efectivos.models import Efectivo

    Efectivo.objects.filter(pk=efectivo.pk).update(estado_desde=timezone.now() - timedelta(hours=3))
    Efectivo.objects.filter(pk=efectivo.pk).update(ultima_posicion_en=timezone.now())  # no change of state
    assert Efectivo.objects.get(pk=efectivo.pk).estado_desde < timezone.now() - timedelta(hours=2)
    Efectivo.objects.filter(pk=efectivo.pk).update(estado="en_tarea")  # a bulk update, as dispatch does
    assert Efectivo.objects.get(pk=efectivo.pk).estado_desde > timezone.now() - timedelta(minutes=1)
