"""The offline base map: Natural Earth land from PostGIS and the agency's OpenStreetMap archive,
served as vector tiles through the same view and cache as the other layers."""

from __future__ import annotations

import json

import mapbox_vector_tile
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from mapa import base, tiles
from tests.mapa import osm_prueba

pytestmark = pytest.mark.django_db

RIO_DE_LA_PLATA = (-57.55, -34.85)  # open water between Buenos Aires and Colonia
LA_PAMPA = (-60.5, -35.5)


def tile_de(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    [(zz, x, y)] = tiles.tiles_de_zona(bbox=(lon, lat, lon, lat), zooms=range(z, z + 1))
    return zz, x, y


def sesion(usuario) -> Client:
    c = Client()
    c.force_login(usuario)
    return c


@pytest.fixture
def dir_base(settings, tmp_path):
    settings.MAPA_BASE_DIR = str(tmp_path / "base")
    return tmp_path


def _area(poligonos) -> float:
    def anillo(a):
        return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(a, a[1:] + a[:1], strict=True))) / 2

    return sum(anillo(p[0]) - sum(anillo(h) for h in p[1:]) for p in poligonos)


def fraccion_de_tierra(contenido: bytes) -> float:
    poligonos = []
    for f in mapbox_vector_tile.decode(contenido)["tierra"]["features"]:
        g = f["geometry"]
        poligonos += [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
    return _area(poligonos) / 4096**2


def test_la_tierra_de_natural_earth_esta_cargada_y_el_rio_es_agua(comandante_a, admin):
    z, x, y = tile_de(*LA_PAMPA, 12)
    r = sesion(comandante_a).get(f"/tiles/base/{z}/{x}/{y}.pbf")
    assert r.status_code == 200, r.content
    assert 0.99 < fraccion_de_tierra(r.content) < 1.07  # all land (the buffer adds a rim)
    z, x, y = tile_de(*RIO_DE_LA_PLATA, 12)
    assert sesion(comandante_a).get(f"/tiles/base/{z}/{x}/{y}.pbf").status_code == 204
    # One cached copy for every viewer: the admin's request is a hit on the commander's entry.
    z, x, y = tile_de(*LA_PAMPA, 12)
    clave = tiles.clave_tile("base", tiles.capa_version("base"), tiles.CLAVE_COMUN, z, x, y)
    assert tiles._redis().get(clave) == r.content
    r2 = sesion(admin).get(f"/tiles/base/{z}/{x}/{y}.pbf")
    assert r2.content == r.content and r2["ETag"] == r["ETag"]
    assert r["Cache-Control"] == f"private, max-age={tiles.BASE_MAX_AGE_S}"


def test_la_costa_del_rio_de_la_plata_corta_el_tile_de_buenos_aires(comandante_a):
    # At z8 the tile holding the city also holds the river: land covers part of it, not all.
    z, x, y = tile_de(-58.0, -34.7, 8)
    r = sesion(comandante_a).get(f"/tiles/base/{z}/{x}/{y}.pbf")
    assert 0.2 < fraccion_de_tierra(r.content) < 0.9


def test_sin_archivo_osm_no_hay_teselas_de_calles(comandante_a, dir_base):
    assert base.osm_info() is None
    z, x, y = tile_de(*osm_prueba.PLAZA_DE_MAYO, 15)
    assert sesion(comandante_a).get(f"/tiles/osm/{z}/{x}/{y}.pbf").status_code == 204


@pytest.mark.parametrize("formato", ["pmtiles", "mbtiles"])
def test_instalar_un_extracto_osm_sirve_sus_calles(comandante_a, dir_base, formato, capsys):
    archivo = dir_base / f"extracto.{formato}"
    construir = osm_prueba.construir_pmtiles if formato == "pmtiles" else osm_prueba.construir_mbtiles
    teselas = construir(archivo)
    call_command("base_instalar", str(archivo))
    assert "zoom 12–16" in capsys.readouterr().out
    info = base.osm_info()
    assert (info.minzoom, info.maxzoom) == (12, 16)
    assert set(info.capas) == {"earth", "water", "landuse", "roads", "places"}
    assert info.bounds == pytest.approx(osm_prueba.BBOX, abs=1e-6)

    z, x, y = tile_de(*osm_prueba.PLAZA_DE_MAYO, 15)
    r = sesion(comandante_a).get(f"/tiles/osm/{z}/{x}/{y}.pbf")
    assert r.status_code == 200, r.content
    assert r.content == teselas[(z, x, y)]  # served uncompressed, byte for byte the archive's tile
    calles = {f["properties"]["name"] for f in mapbox_vector_tile.decode(r.content)["roads"]["features"]}
    assert osm_prueba.CALLE in calles
    # Outside the archive: nothing, not an error.
    z, x, y = tile_de(*LA_PAMPA, 15)
    assert sesion(comandante_a).get(f"/tiles/osm/{z}/{x}/{y}.pbf").status_code == 204

    # The map's style learns the archive's zooms and bounds.
    pagina = sesion(comandante_a).get("/mapa/")
    config = json.loads(
        pagina.content.decode().split('id="mapa-config" type="application/json">')[1].split("</script>")[0]
    )
    assert config["osm"]["minzoom"] == 12 and config["osm"]["maxzoom"] == 16
    assert config["zonaHoraria"] == "America/Argentina/Buenos_Aires"


def test_reinstalar_cambia_la_version_y_el_tile_servido(comandante_a, dir_base, monkeypatch):
    archivo = dir_base / "a.pmtiles"
    osm_prueba.construir_pmtiles(archivo)
    call_command("base_instalar", str(archivo))
    z, x, y = tile_de(*osm_prueba.PLAZA_DE_MAYO, 15)
    c = sesion(comandante_a)
    antes = c.get(f"/tiles/osm/{z}/{x}/{y}.pbf")
    assert osm_prueba.CALLE.encode() in antes.content

    monkeypatch.setattr(osm_prueba, "CALLE", "Avenida Rivadavia")
    monkeypatch.setattr(
        osm_prueba,
        "RASGOS",
        [
            r
            if r[0] != "roads" or r[2]["kind"] != "major_road"
            else (r[0], r[1], {**r[2], "name": "Avenida Rivadavia"})
            for r in osm_prueba.RASGOS
        ],
    )
    archivo_b = dir_base / "b.pmtiles"
    osm_prueba.construir_pmtiles(archivo_b)
    call_command("base_instalar", str(archivo_b))
    despues = c.get(f"/tiles/osm/{z}/{x}/{y}.pbf", HTTP_IF_NONE_MATCH=antes["ETag"])
    assert despues.status_code == 200 and despues["ETag"] != antes["ETag"]
    assert b"Avenida Rivadavia" in despues.content and b"Avenida de Mayo" not in despues.content


@pytest.mark.parametrize(
    "contenido, mensaje",
    [
        (b"no es un archivo de teselas", "no es un PMTiles v3 ni un MBTiles"),
        (b"PMTiles\x02" + bytes(200), "no es un PMTiles v3 válido"),
    ],
)
def test_un_archivo_invalido_se_rechaza_y_el_instalado_sigue(comandante_a, dir_base, contenido, mensaje):
    bueno = dir_base / "bueno.pmtiles"
    osm_prueba.construir_pmtiles(bueno)
    call_command("base_instalar", str(bueno))
    malo = dir_base / "malo.pmtiles"
    malo.write_bytes(contenido)
    with pytest.raises(CommandError, match=mensaje):
        call_command("base_instalar", str(malo))
    with pytest.raises(CommandError, match="No existe"):
        call_command("base_instalar", str(dir_base / "no-esta.pmtiles"))
    assert base.osm_info().maxzoom == 16  # still the good archive
    assert list((dir_base / "base").iterdir()) == [dir_base / "base" / "osm.pmtiles"]  # no temp files left
