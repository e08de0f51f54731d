"""The map's search box: efectivos by name or code, tasks by code, geocercas by name; accents and
case aside; only within the caller's scope; a bad query is a 400 in the error shape."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from tests.factories import CENTRO, EfectivoFactory, GeocercaFactory, TareaFactory, cuadrado

pytestmark = pytest.mark.django_db


def buscar(api, usuario, q: str):
    return api(usuario).get("/mapa/datos/buscar/", {"q": q})


def test_encuentra_por_nombre_sin_acentos_por_codigo_y_por_tarea(api, comandante_a, unidad_a, unidad_b):
    gomez = EfectivoFactory(
        unidad=unidad_a, apellido="Gómez", nombre="Martín", codigo_interno="CC1-0042", ultima_posicion=Point(*CENTRO)
    )
    EfectivoFactory(unidad=unidad_b, apellido="Gómez", nombre="Ajeno")  # another unidad: not found
    tarea = TareaFactory(unidad=unidad_a, titulo="Corte en Avenida de Mayo")
    cerca = GeocercaFactory(nombre="Congreso de la Nación", geom=cuadrado(lado_m=100))
    cerca.unidades.set([unidad_a])

    r = buscar(api, comandante_a, "gomez martin")
    assert r.status_code == 200, r.content
    [e] = r.json()["resultados"]
    assert (e["tipo"], e["id"], e["titulo"]) == ("efectivo", gomez.pk, "CC1-0042 · Gómez, Martín")
    assert (e["lon"], e["lat"]) == pytest.approx(CENTRO)

    [e] = buscar(api, comandante_a, "cc1-0042").json()["resultados"]
    assert e["id"] == gomez.pk
    [t] = buscar(api, comandante_a, tarea.codigo).json()["resultados"]
    assert (t["tipo"], t["id"]) == ("tarea", tarea.pk)
    [t] = buscar(api, comandante_a, "AVENIDA mayo").json()["resultados"]
    assert t["id"] == tarea.pk
    [g] = buscar(api, comandante_a, "nacion").json()["resultados"]
    assert (g["tipo"], g["id"]) == ("geocerca", cerca.pk)
    assert g["bbox"][0] < CENTRO[0] < g["bbox"][2]
    assert buscar(api, comandante_a, "Ajeno").json()["resultados"] == []


@pytest.mark.parametrize("q", ["", "a", "x" * 101, "   ", "ab\x00c"])
def test_una_busqueda_mal_dada_es_400(api, comandante_a, q):
    r = buscar(api, comandante_a, q)
    assert r.status_code == 400
    assert "error" in r.json()


def test_un_efectivo_no_busca(api, efectivo):
    assert buscar(api, efectivo.usuario, "gomez").status_code == 403
