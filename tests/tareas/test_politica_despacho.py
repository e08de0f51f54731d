"""Dispatch policy: the nearest available efectivos within the dispatcher's scope (an admin: every
unidad; a commander: their own, then reinforcements from other unidades when nobody of theirs is
in range), never beyond DESPACHO_RADIO_MAX_M. Checked against a brute-force ranking: every
candidate's geodesic distance computed one by one, no index, no KNN."""

from __future__ import annotations

import random

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.db import connection

from efectivos.models import Efectivo, EstadoEfectivo
from gad_project.exceptions import Conflicto
from tareas import services
from tareas.models import EstadoTarea, Tarea
from tests.factories import CENTRO, EfectivoFactory, TareaFactory, desplazar

pytestmark = pytest.mark.django_db


def _fuerza_bruta(punto: tuple[float, float], *, unidad_id: int | None, radio_m: float) -> list[tuple[int, float]]:
    """Every available efectivo with a fix, its spheroid distance computed row by row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, unidad_id, ST_Distance(ultima_posicion::geography, "
            "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, true) FROM efectivos_efectivo "
            "WHERE estado = 'disponible' AND ultima_posicion IS NOT NULL",
            list(punto),
        )
        filas = cursor.fetchall()
    return sorted(
        ((pk, d) for pk, u, d in filas if d <= radio_m and (unidad_id is None or u == unidad_id)),
        key=lambda f: f[1],
    )


def _sembrar(rnd: random.Random, unidades, n: int = 60) -> None:
    for _ in range(n):
        lon, lat = desplazar(*CENTRO, este_m=rnd.uniform(-15_000, 15_000), norte_m=rnd.uniform(-15_000, 15_000))
        EfectivoFactory(
            unidad=rnd.choice(unidades),
            ultima_posicion=Point(lon, lat, srid=4326),
            estado=rnd.choice([EstadoEfectivo.DISPONIBLE] * 4 + [EstadoEfectivo.NO_DISPONIBLE]),
        )


@pytest.mark.parametrize("semilla", range(5))
def test_un_admin_despacha_a_los_mas_cercanos_de_cualquier_unidad_dentro_del_radio(
    settings, admin, unidad_a, unidad_b, semilla
):
    settings.DESPACHO_RADIO_MAX_M = 8_000
    rnd = random.Random(semilla)
    _sembrar(rnd, [unidad_a, unidad_b])
    lugar = desplazar(*CENTRO, este_m=rnd.uniform(-5_000, 5_000), norte_m=rnd.uniform(-5_000, 5_000))
    tarea = TareaFactory(unidad=unidad_a, ubicacion=Point(*lugar, srid=4326))
    esperados = _fuerza_bruta(lugar, unidad_id=None, radio_m=8_000)[:3]
    asignados = services.tarea_asignar(tarea_id=tarea.pk, usuario=admin, cercanos=3)
    assert [a.efectivo.pk for a in asignados] == [pk for pk, _ in esperados]
    assert [a.distancia_m for a in asignados] == pytest.approx([d for _, d in esperados], abs=0.5)


@pytest.mark.parametrize("semilla", range(5))
def test_un_comandante_despacha_primero_de_su_unidad(settings, comandante_a, unidad_a, unidad_b, semilla):
    settings.DESPACHO_RADIO_MAX_M = 8_000
    rnd = random.Random(100 + semilla)
    _sembrar(rnd, [unidad_a, unidad_b])
    lugar = desplazar(*CENTRO, este_m=rnd.uniform(-5_000, 5_000))
    tarea = TareaFactory(unidad=unidad_a, ubicacion=Point(*lugar, srid=4326))
    esperados = _fuerza_bruta(lugar, unidad_id=unidad_a.pk, radio_m=8_000)[:2]
    assert esperados, "the seed must leave someone of unidad A in range"
    asignados = services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, cercanos=2)
    assert [a.efectivo.pk for a in asignados] == [pk for pk, _ in esperados]


def test_sin_nadie_propio_en_rango_llegan_refuerzos_de_otra_unidad(settings, comandante_a, unidad_a, unidad_b):
    settings.DESPACHO_RADIO_MAX_M = 5_000
    EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, este_m=9_000), srid=4326))
    cerca_b = EfectivoFactory(unidad=unidad_b, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=800), srid=4326))
    EfectivoFactory(unidad=unidad_b, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=1_500), srid=4326))
    tarea = TareaFactory(unidad=unidad_a, ubicacion=Point(*CENTRO, srid=4326))
    asignados = services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, cercanos=1)
    assert [a.efectivo.pk for a in asignados] == [cerca_b.pk]
    assert Efectivo.objects.get(pk=cerca_b.pk).estado == EstadoEfectivo.EN_TAREA

    settings.DESPACHO_REFUERZOS = False
    otra = TareaFactory(unidad=unidad_a, ubicacion=Point(*CENTRO, srid=4326))
    with pytest.raises(Conflicto) as exc:
        services.tarea_asignar(tarea_id=otra.pk, usuario=comandante_a, cercanos=1)
    assert exc.value.codigo == "sin_efectivos_en_rango"
    assert exc.value.detalle == {"radio_m": 5_000}


def test_la_emergencia_de_un_admin_fuera_de_toda_jurisdiccion_no_manda_ayuda_lejana(
    settings, admin, unidad_a, unidad_b
):
    """The reported case: an emergency far from every jurisdiction took the nearest jurisdiction's
    unidad and sent help from hundreds of km away, while another unidad had people next to it."""
    settings.DESPACHO_RADIO_MAX_M = 10_000
    unidad_a.jurisdiccion = MultiPolygon(Polygon.from_bbox((-58.45, -34.65, -58.35, -34.55)), srid=4326)
    unidad_a.save()
    lejos = (-61.5, -33.0)  # ~300 km away, outside every jurisdiction
    EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*CENTRO, srid=4326))
    cerca = EfectivoFactory(unidad=unidad_b, ultima_posicion=Point(*desplazar(*lejos, este_m=2_000), srid=4326))
    tarea, asignados = services.emergencia_crear(usuario=admin, lat=lejos[1], lon=lejos[0], descripcion="Incendio")
    assert [a.efectivo.pk for a in asignados] == [cerca.pk]
    assert asignados[0].distancia_m == pytest.approx(2_000, rel=0.01)

    Efectivo.objects.filter(pk=cerca.pk).update(estado=EstadoEfectivo.NO_DISPONIBLE)
    tarea, asignados = services.emergencia_crear(usuario=admin, lat=lejos[1], lon=lejos[0], descripcion="Otra")
    assert asignados == []
    tarea = Tarea.objects.get(pk=tarea.pk)
    assert tarea.estado == EstadoTarea.PROGRAMADA  # kept open and visible for a commander
    assert "10 km" in tarea.eventos.order_by("id").last().motivo


def test_el_radio_pedido_nunca_supera_el_maximo(settings, admin, unidad_a):
    settings.DESPACHO_RADIO_MAX_M = 3_000
    EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, este_m=4_000), srid=4326))
    tarea = TareaFactory(unidad=unidad_a, ubicacion=Point(*CENTRO, srid=4326))
    with pytest.raises(Conflicto) as exc:
        services.tarea_asignar(tarea_id=tarea.pk, usuario=admin, cercanos=1, radio_m=50_000)
    assert exc.value.detalle == {"radio_m": 3_000}
