from __future__ import annotations

from datetime import timedelta

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone

from efectivos.models import EstadoEfectivo
from geocercas import services as geocercas_services
from geocercas.models import Geocerca
from mapa import services, tiles
from tests.conftest import cliente_jwt
from tests.factories import CENTRO, EfectivoFactory, GeocercaFactory, PosicionFactory, cuadrado, desplazar

pytestmark = pytest.mark.django_db


def tile_de(lon: float, lat: float, z: int = 14) -> tuple[int, int, int]:
    [(zz, x, y)] = tiles.tiles_de_zona(bbox=(lon, lat, lon, lat), zooms=range(z, z + 1))
    return zz, x, y


def url(capa: str, lon: float = CENTRO[0], lat: float = CENTRO[1], z: int = 14) -> str:
    z, x, y = tile_de(lon, lat, z)
    return f"/tiles/{capa}/{z}/{x}/{y}.pbf"


def sesion(usuario) -> Client:
    c = Client()
    c.force_login(usuario)
    return c


def features(respuesta, capa: str) -> list[dict]:
    assert respuesta.status_code == 200, respuesta.content
    return mapbox_vector_tile.decode(respuesta.content)[capa]["features"]


def test_tile_de_efectivos_trae_los_del_tile_con_sus_datos(comandante_a, unidad_a):
    e = EfectivoFactory(
        unidad=unidad_a, estado=EstadoEfectivo.EN_TAREA, ultima_posicion_en=timezone.now() - timedelta(minutes=20)
    )
    lejos = EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, este_m=20_000), srid=4326))
    r = sesion(comandante_a).get(url("efectivos"))
    assert r["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert r["Cache-Control"] == "private, max-age=5"
    [f] = features(r, "efectivos")
    assert f["id"] == e.pk != lejos.pk
    assert f["properties"]["codigo"] == e.codigo_interno
    assert f["properties"]["estado"] == "en_tarea"
    assert 1190 <= f["properties"]["antiguedad_s"] <= 1260


def test_tile_de_efectivos_solo_trae_la_unidad_del_comandante(comandante_a, admin, unidad_a, unidad_b):
    propio = EfectivoFactory(unidad=unidad_a)
    ajeno = EfectivoFactory(unidad=unidad_b)
    assert {f["id"] for f in features(sesion(comandante_a).get(url("efectivos")), "efectivos")} == {propio.pk}
    assert {f["id"] for f in features(sesion(admin).get(url("efectivos")), "efectivos")} == {propio.pk, ajeno.pk}


def test_tile_sin_datos_es_204(comandante_a, unidad_a):
    EfectivoFactory(unidad=unidad_a)
    r = sesion(comandante_a).get(url("efectivos", lon=10.0, lat=10.0))
    assert r.status_code == 204
    assert r.content == b""


@pytest.mark.parametrize(
    "ruta",
    [
        "/tiles/efectivos/23/0/0.pbf",
        "/tiles/efectivos/-1/0/0.pbf",
        "/tiles/efectivos/2/4/0.pbf",
        "/tiles/efectivos/2/0/-1.pbf",
        "/tiles/efectivos/abc/0/0.pbf",
        "/tiles/efectivos/3/1.5/0.pbf",
    ],
)
def test_direccion_de_tile_invalida_es_400_con_la_forma_de_error(comandante_a, ruta):
    r = sesion(comandante_a).get(ruta)
    assert r.status_code == 400
    assert r.json()["error"]["codigo"] == "tesela_invalida"


def test_capa_desconocida_es_404(comandante_a):
    r = sesion(comandante_a).get("/tiles/calles/14/0/0.pbf")
    assert r.status_code == 404
    assert r.json()["error"]["detalle"]["capas"] == ["base", "densidad", "efectivos", "geocercas", "osm"]


def test_un_efectivo_no_recibe_tiles_y_sin_sesion_es_401(efectivo):
    assert sesion(efectivo.usuario).get(url("efectivos")).status_code == 403
    r = Client().get(url("efectivos"))
    assert r.status_code == 401
    assert r.json()["error"]["codigo"] == "no_autenticado"


def test_tiles_aceptan_jwt(comandante_a, unidad_a):
    e = EfectivoFactory(unidad=unidad_a)
    [f] = features(cliente_jwt(comandante_a).get(url("efectivos")), "efectivos")
    assert f["id"] == e.pk


def test_geocercas_del_tile_respetan_el_alcance(comandante_a, unidad_a, unidad_b):
    GeocercaFactory(nombre="Común")
    propia = GeocercaFactory(nombre="Propia")
    propia.unidades.set([unidad_a])
    ajena = GeocercaFactory(nombre="Ajena")
    ajena.unidades.set([unidad_b])
    GeocercaFactory(nombre="Inactiva", activa=False)
    nombres = {f["properties"]["nombre"] for f in features(sesion(comandante_a).get(url("geocercas")), "geocercas")}
    assert nombres == {"Común", "Propia"}


def test_el_nombre_de_una_geocerca_va_una_sola_vez_aunque_cruce_muchos_tiles(admin):
    """Labels come from one point per fence, in the tile that holds it; the shapes are in every
    tile the fence crosses (a label on them would be drawn once per tile)."""
    geocerca = GeocercaFactory(nombre="Grande", geom=cuadrado(CENTRO, lado_m=6000))
    c = sesion(admin)
    xmin, ymin, xmax, ymax = geocerca.geom.extent
    formas, rotulos = 0, []
    zona = tiles.tiles_de_zona(bbox=(xmin, ymin, xmax, ymax), zooms=range(14, 15))
    for z, x, y in zona:
        capas = mapbox_vector_tile.decode(c.get(f"/tiles/geocercas/{z}/{x}/{y}.pbf").content)
        formas += len(capas["geocercas"]["features"])
        rotulos += [((x, y), f) for f in capas.get("geocercas_nombres", {}).get("features", [])]
    assert len(zona) >= 9 and formas == len(zona)
    [((x, y), rotulo)] = rotulos
    assert (14, x, y) == tile_de(*CENTRO, 14)  # a square's point on surface: its centre
    assert rotulo["properties"] == {"nombre": "Grande", "tipo": geocerca.tipo}
    assert "geocercas_nombres" not in mapbox_vector_tile.decode(c.get(url("geocercas", z=12)).content)


def test_editar_una_geocerca_cambia_el_siguiente_tile(admin, django_capture_on_commit_callbacks):
    g = GeocercaFactory(nombre="Antes", geom=cuadrado(lado_m=300))
    cliente = sesion(admin)
    [f] = features(cliente.get(url("geocercas")), "geocercas")
    assert f["properties"]["nombre"] == "Antes"

    # A change that bypasses the service is not seen: the tile really comes from the cache...
    Geocerca.objects.filter(pk=g.pk).update(nombre="Sin servicio")
    [f] = features(cliente.get(url("geocercas")), "geocercas")
    assert f["properties"]["nombre"] == "Antes"

    # ...and the service's version bump (after commit) makes the next request see the edit.
    g.refresh_from_db()
    g.nombre = "Después"
    with django_capture_on_commit_callbacks(execute=True):
        geocercas_services.geocerca_guardar(geocerca=g)
    [f] = features(cliente.get(url("geocercas")), "geocercas")
    assert f["properties"]["nombre"] == "Después"
    assert f["properties"]["version"] == 2

    with django_capture_on_commit_callbacks(execute=True):
        geocercas_services.geocerca_eliminar(geocerca=g)
    assert cliente.get(url("geocercas")).status_code == 204


def test_etag_devuelve_304_mientras_la_capa_no_cambia(admin, django_capture_on_commit_callbacks):
    g = GeocercaFactory()
    cliente = sesion(admin)
    r = cliente.get(url("geocercas"))
    assert r.status_code == 200
    assert cliente.get(url("geocercas"), HTTP_IF_NONE_MATCH=r["ETag"]).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        geocercas_services.geocerca_guardar(geocerca=g)
    r2 = cliente.get(url("geocercas"), HTTP_IF_NONE_MATCH=r["ETag"])
    assert r2.status_code == 200
    assert r2["ETag"] != r["ETag"]


def test_densidad_cuenta_las_lecturas_recientes_por_celda_y_alcance(comandante_a, unidad_a, unidad_b):
    propio = EfectivoFactory(unidad=unidad_a)
    ajeno = EfectivoFactory(unidad=unidad_b)
    for _ in range(3):
        PosicionFactory(efectivo=propio)
    PosicionFactory(efectivo=ajeno)
    PosicionFactory(efectivo=propio, recibida_en=timezone.now() - timedelta(hours=2))  # outside the window
    services.densidad_refrescar()
    fs = features(sesion(comandante_a).get(url("densidad")), "densidad")
    assert sum(f["properties"]["lecturas"] for f in fs) == 3


def test_calentar_deja_los_tiles_de_la_zona_en_cache(admin, unidad_a, settings):
    settings.TILES_CALENTAR_ZOOM = (13, 14)
    GeocercaFactory()
    construidas = services.tiles_calentar(capa="geocercas")
    zona = services.selectors.zona_operativa()
    esperadas = len(tiles.tiles_de_zona(bbox=zona, zooms=range(13, 15))) * 2  # scopes: todo + unidad A
    assert construidas == esperadas
    assert services.tiles_calentar(capa="geocercas") == 0  # all cached now
