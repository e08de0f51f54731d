"""The extract's streets and places, offline: indexed when an extract is installed, found by the
map's search (intersections too), and naming where an SOS is; without an extract, nothing is named
and coordinates are shown."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from mapa import lugares
from mapa.models import Lugar, TipoLugar
from tests.mapa import osm_prueba

pytestmark = pytest.mark.django_db

ESQUINA = (-58.37390, -34.60865)  # Avenida de Mayo meets Bolívar
SOBRE_BOLIVAR = (-58.37390, -34.61200)  # on Bolívar, 370 m south of Avenida de Mayo
LEJOS = (-58.3000, -34.5000)


@pytest.fixture
def extracto(settings, tmp_path):
    settings.MAPA_BASE_DIR = str(tmp_path / "base")
    archivo = tmp_path / "extracto.pmtiles"
    osm_prueba.construir_pmtiles(archivo)
    call_command("base_instalar", str(archivo), stdout=io.StringIO())


def test_sin_extracto_no_hay_nombres(settings, tmp_path):
    settings.MAPA_BASE_DIR = str(tmp_path / "vacio")
    assert lugares.indexar() == 0
    assert lugares.lugar_de(*ESQUINA) is None
    assert lugares.buscar("Bolívar") == []


def test_instalar_un_extracto_indexa_sus_calles_lugares_y_areas(extracto):
    indice = {(lugar.nombre, lugar.tipo) for lugar in Lugar.objects.all()}
    assert {
        (osm_prueba.CALLE, TipoLugar.CALLE),
        ("Bolívar", TipoLugar.CALLE),
        ("Plaza de Mayo", TipoLugar.AREA),
        (osm_prueba.LUGAR, TipoLugar.LUGAR),
    } <= indice
    # A street cut into many tiles is one row, from one end to the other.
    calle = Lugar.objects.get(nombre=osm_prueba.CALLE)
    assert calle.geom.geom_type in ("LineString", "MultiLineString")
    assert calle.geom.extent[0] == pytest.approx(-58.3930, abs=2e-4)  # its west end, in a tile of the archive
    assert calle.geom.extent[2] == pytest.approx(-58.3735, abs=2e-4)


def test_la_busqueda_encuentra_calles_sin_acentos_y_esquinas(extracto):
    [bolivar] = [r for r in lugares.buscar("bolivar") if r["tipo"] == "lugar"]
    assert (bolivar["titulo"], bolivar["detalle"]) == ("Bolívar", "Calle")
    esquinas = [r for r in lugares.buscar("avenida de mayo y BOLIVAR") if r["tipo"] == "esquina"]
    assert esquinas and esquinas[0]["titulo"] == f"{osm_prueba.CALLE} y Bolívar"
    assert (esquinas[0]["lon"], esquinas[0]["lat"]) == pytest.approx(ESQUINA, abs=3e-4)
    assert [r for r in lugares.buscar("mayo esq bolivar") if r["tipo"] == "esquina"]
    assert lugares.buscar("Perú y Bolívar") == []  # no such street here


def esquina_de(texto: str | None) -> set[str]:
    return set((texto or "").split(" y "))


def test_nombra_donde_esta_un_punto(extracto):
    assert lugares.lugar_de(*osm_prueba.PLAZA_DE_MAYO) == "Plaza de Mayo"
    # The nearest street first, then the one crossing it there.
    assert esquina_de(lugares.lugar_de(*ESQUINA)) == {osm_prueba.CALLE, "Bolívar"}
    assert lugares.lugar_de(*SOBRE_BOLIVAR) == "Bolívar"
    assert lugares.lugar_de(*LEJOS) is None


def test_un_sos_dice_donde_esta(extracto, api, comandante_a, unidad_a):
    from django.contrib.gis.geos import Point

    from seguridad.models import Sos
    from seguridad.services.sos import sos_datos
    from tests.factories import EfectivoFactory

    sos = Sos.objects.create(efectivo=EfectivoFactory(unidad=unidad_a), fuente="api", punto=Point(*ESQUINA))
    assert esquina_de(sos_datos(sos)["lugar"]) == {osm_prueba.CALLE, "Bolívar"}
    [fila] = api(comandante_a).get("/api/v1/sos/").json()["results"]
    assert esquina_de(fila["lugar"]) == {osm_prueba.CALLE, "Bolívar"}


@pytest.mark.parametrize("q", ["\\\\", "100%", "a_b", "%%%"])
def test_lo_que_se_escribe_se_toma_literal(extracto, api, comandante_a, q):
    """LIKE's own characters match only themselves: no error, and nothing here has them."""
    r = api(comandante_a).get("/mapa/datos/buscar/", {"q": q})
    assert r.status_code == 200, r.content
    assert r.json()["resultados"] == []
