"""Who a fence applies to: besides unidades, chosen efectivos, or the efectivos assigned to a task
(an escort corridor that follows the assignments as they change). Out-of-scope names: 4xx."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from geocercas.models import Alerta, TipoGeocerca
from posiciones.services import LecturaNueva, posiciones_registrar
from tareas.models import Asignacion, EstadoAsignacion
from tests.factories import CENTRO, EfectivoFactory, GeocercaFactory, TareaFactory, cuadrado, desplazar

pytestmark = pytest.mark.django_db
T0 = timezone.now() - timedelta(hours=1)


def en(efectivo, este_m: float, t: float) -> None:
    lon, lat = desplazar(*CENTRO, este_m=este_m)
    posiciones_registrar(lecturas=[LecturaNueva(uuid.uuid4(), efectivo.pk, lat, lon, T0 + timedelta(seconds=t), 5.0)])


def alertas(efectivo) -> list[str]:
    return list(Alerta.objects.filter(efectivo=efectivo).order_by("id").values_list("tipo", flat=True))


def test_una_geocerca_para_efectivos_elegidos_no_alerta_al_resto_de_la_unidad(unidad_a):
    elegido, otro = EfectivoFactory.create_batch(2, unidad=unidad_a, ultima_posicion_en=None)
    g = GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=200))
    g.unidades.add(unidad_a)
    g.efectivos.add(elegido)
    for e in (elegido, otro):
        en(e, -300, 0)
        en(e, 0, 60)
    assert (alertas(elegido), alertas(otro)) == (["entrada"], [])


def test_el_corredor_de_una_escolta_sigue_a_los_asignados(unidad_a):
    """Applies to whoever is assigned now: a new assignee is watched from their next reading, and
    one released is forgotten without an alert (leaving the corridor after the task is not a
    deviation)."""
    escolta, relevo, ajeno = EfectivoFactory.create_batch(3, unidad=unidad_a, ultima_posicion_en=None)
    tarea = TareaFactory(unidad=unidad_a)
    GeocercaFactory(tipo=TipoGeocerca.PERIMETRO, geom=cuadrado(lado_m=400), tarea=tarea)
    Asignacion.objects.create(tarea=tarea, efectivo=escolta, estado=EstadoAsignacion.ACEPTADA)
    for e in (escolta, relevo, ajeno):
        en(e, 0, 0)  # all inside the corridor
        en(e, 500, 60)  # all leave it
    assert (alertas(escolta), alertas(relevo), alertas(ajeno)) == (["salida"], [], [])

    # The escort is released and a relief assigned: it now watches the relief, not the escort.
    Asignacion.objects.filter(efectivo=escolta).update(estado=EstadoAsignacion.LIBERADA)
    Asignacion.objects.create(tarea=tarea, efectivo=relevo, estado=EstadoAsignacion.PENDIENTE)
    for e in (escolta, relevo):
        en(e, 0, 120)
        en(e, 500, 180)
    assert (alertas(escolta), alertas(relevo)) == (["salida"], ["salida"])  # escort: still just the first


def test_liberado_dentro_del_corredor_salir_despues_no_alerta(unidad_a):
    escolta = EfectivoFactory(unidad=unidad_a, ultima_posicion_en=None)
    tarea = TareaFactory(unidad=unidad_a)
    GeocercaFactory(tipo=TipoGeocerca.PERIMETRO, geom=cuadrado(lado_m=400), tarea=tarea)
    asignacion = Asignacion.objects.create(tarea=tarea, efectivo=escolta, estado=EstadoAsignacion.ACEPTADA)
    en(escolta, 0, 0)
    asignacion.estado = EstadoAsignacion.LIBERADA
    asignacion.save()
    en(escolta, 10, 30)  # still inside: the stay is forgotten
    en(escolta, 500, 60)
    assert alertas(escolta) == []


def _cuerpo(**propiedades) -> dict:
    return {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[-58.40, -34.60], [-58.39, -34.60], [-58.39, -34.59], [-58.40, -34.60]]],
        },
        "properties": {"nombre": "Escolta", "tipo": "perimetro", **propiedades},
    }


def test_un_comandante_no_crea_geocercas_para_otra_unidad(api, comandante_a, unidad_a, unidad_b):
    cliente = api(comandante_a)
    ajena = TareaFactory(unidad=unidad_b)
    r = cliente.post("/api/v1/geocercas/", _cuerpo(tarea=ajena.pk), format="json")
    assert r.status_code == 403 and r.json()["error"]["detalle"] == {"tarea": [ajena.pk]}
    de_b = EfectivoFactory(unidad=unidad_b)
    propio = EfectivoFactory(unidad=unidad_a)
    r = cliente.post("/api/v1/geocercas/", _cuerpo(efectivos=[propio.pk, de_b.pk]), format="json")
    assert r.status_code == 403 and r.json()["error"]["detalle"] == {"efectivos": [de_b.pk]}
    propia = TareaFactory(unidad=unidad_a)
    r = cliente.post("/api/v1/geocercas/", _cuerpo(tarea=propia.pk, efectivos=[propio.pk]), format="json")
    assert r.status_code == 400 and "tarea" in r.json()["error"]["detalle"]
    r = cliente.post("/api/v1/geocercas/", _cuerpo(tarea=propia.pk), format="json")
    assert r.status_code == 201, r.content
    assert (r.json()["properties"]["tarea"], r.json()["properties"]["unidades"]) == (propia.pk, [unidad_a.pk])
