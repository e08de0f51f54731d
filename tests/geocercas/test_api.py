from __future__ import annotations

import pytest

from geocercas.models import Alerta, Geocerca
from realtime.models import Evento
from tests.factories import AlertaFactory, EfectivoFactory, GeocercaFactory, cuadrado

pytestmark = pytest.mark.django_db


def _feature(geometry: dict, **props) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": {"nombre": "Zona", "tipo": "restringida", **props}}


CUADRADO = {
    "type": "Polygon",
    "coordinates": [[[-58.40, -34.61], [-58.39, -34.61], [-58.39, -34.60], [-58.40, -34.60], [-58.40, -34.61]]],
}


def test_comandante_solo_ve_alertas_de_su_unidad(api, comandante_a, efectivo, unidad_b):
    propia = AlertaFactory(efectivo=efectivo)
    AlertaFactory(efectivo=EfectivoFactory(unidad=unidad_b))
    cuerpo = api(comandante_a).get("/api/v1/alertas/").json()
    assert [a["id"] for a in cuerpo["results"]] == [propia.pk]


def test_efectivo_solo_ve_sus_alertas(api, efectivo):
    propia = AlertaFactory(efectivo=efectivo)
    AlertaFactory(efectivo=EfectivoFactory(unidad=efectivo.unidad))
    cuerpo = api(efectivo.usuario).get("/api/v1/alertas/").json()
    assert [a["id"] for a in cuerpo["results"]] == [propia.pk]


def test_desde_id_devuelve_solo_las_mas_nuevas_y_filtra_por_geocerca(
    api, admin, efectivo, django_assert_max_num_queries
):
    vieja = AlertaFactory(efectivo=efectivo)
    nuevas = AlertaFactory.create_batch(3, efectivo=efectivo)
    otra = AlertaFactory(efectivo=efectivo)
    client = api(admin)
    with django_assert_max_num_queries(4):  # auth, count, page, the page's history
        cuerpo = client.get("/api/v1/alertas/", {"desde_id": vieja.pk}).json()
    assert [a["id"] for a in cuerpo["results"]] == [otra.pk, *reversed([a.pk for a in nuevas])]
    por_geocerca = client.get("/api/v1/alertas/", {"geocerca": otra.geocerca_id}).json()
    assert [a["id"] for a in por_geocerca["results"]] == [otra.pk]


def test_reconocer_registra_quien_y_cuando_y_lo_publica(api, comandante_a, efectivo):
    alerta = AlertaFactory(efectivo=efectivo)
    respuesta = api(comandante_a).post(f"/api/v1/alertas/{alerta.pk}/reconocer/")
    assert respuesta.status_code == 200
    alerta.refresh_from_db()
    assert alerta.reconocida_por == comandante_a
    assert alerta.reconocida_en is not None
    assert respuesta.json()["reconocida_en"] is not None
    evento = Evento.objects.filter(tipo="alerta.reconocida").get()
    assert evento.datos["alerta_id"] == alerta.pk
    assert f"unidad.{efectivo.unidad_id}" in evento.audiencia


def test_reconocer_dos_veces_es_409(api, comandante_a, efectivo):
    alerta = AlertaFactory(efectivo=efectivo)
    client = api(comandante_a)
    client.post(f"/api/v1/alertas/{alerta.pk}/reconocer/")
    respuesta = client.post(f"/api/v1/alertas/{alerta.pk}/reconocer/")
    assert respuesta.status_code == 409
    assert respuesta.json()["error"]["codigo"] == "alerta_ya_reconocida"


def test_un_efectivo_no_puede_reconocer_alertas(api, efectivo):
    alerta = AlertaFactory(efectivo=efectivo)
    assert api(efectivo.usuario).post(f"/api/v1/alertas/{alerta.pk}/reconocer/").status_code == 403
    assert Alerta.objects.get(pk=alerta.pk).reconocida_en is None


def test_un_comandante_no_reconoce_alertas_de_otra_unidad(api, comandante_b, efectivo):
    alerta = AlertaFactory(efectivo=efectivo)
    assert api(comandante_b).post(f"/api/v1/alertas/{alerta.pk}/reconocer/").status_code == 404


def test_crear_geocerca_geojson_la_guarda_como_multipolygon(api, admin):
    respuesta = api(admin).post("/api/v1/geocercas/", _feature(CUADRADO, histeresis_m=12), format="json")
    assert respuesta.status_code == 201, respuesta.json()
    cuerpo = respuesta.json()
    assert cuerpo["type"] == "Feature"
    assert cuerpo["geometry"]["type"] == "MultiPolygon"
    geocerca = Geocerca.objects.get(pk=cuerpo["id"])
    assert geocerca.geom.geom_type == "MultiPolygon"
    assert geocerca.histeresis_m == 12


@pytest.mark.parametrize(
    ("geometry", "fragmento"),
    [
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "inválida"),
        ({"type": "Polygon", "coordinates": [[[-200, 0], [1, 1], [1, 0], [-200, 0]]]}, "fuera de rango"),
        ({"type": "Point", "coordinates": [-58.4, -34.6]}, "Polygon"),
        ({"type": "Polygon", "coordinates": []}, ""),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [2, 2], [0, 0]]]}, ""),
        ({"type": "Círculo"}, ""),
    ],
)
def test_geometria_invalida_es_400_explicando_por_que(api, admin, geometry, fragmento):
    respuesta = api(admin).post("/api/v1/geocercas/", _feature(geometry), format="json")
    assert respuesta.status_code == 400, respuesta.content
    error = respuesta.json()["error"]
    assert error["codigo"] == "entrada_invalida"
    assert "geom" in error["detalle"]
    assert fragmento in str(error["detalle"]["geom"])
    assert not Geocerca.objects.exists()


def test_editar_geocerca_sube_su_version(api, admin):
    geocerca = GeocercaFactory()
    respuesta = api(admin).patch(f"/api/v1/geocercas/{geocerca.pk}/", {"properties": {"activa": False}}, format="json")
    assert respuesta.status_code == 200, respuesta.json()
    geocerca.refresh_from_db()
    assert (geocerca.activa, geocerca.version) == (False, 2)


def test_comandante_crea_geocercas_solo_para_su_unidad(api, comandante_a, unidad_b):
    client = api(comandante_a)
    propia = client.post("/api/v1/geocercas/", _feature(CUADRADO), format="json")
    assert propia.status_code == 201
    assert propia.json()["properties"]["unidades"] == [comandante_a.unidad_id]
    ajena = client.post("/api/v1/geocercas/", _feature(CUADRADO, unidades=[unidad_b.pk]), format="json")
    assert ajena.status_code == 403


def test_efectivo_lee_geocercas_que_le_aplican_pero_no_escribe(api, efectivo, unidad_b):
    general = GeocercaFactory()
    ajena = GeocercaFactory(geom=cuadrado(lado_m=50))
    ajena.unidades.set([unidad_b])
    client = api(efectivo.usuario)
    ids = [f["id"] for f in client.get("/api/v1/geocercas/").json()["features"]]
    assert ids == [general.pk]
    assert client.post("/api/v1/geocercas/", _feature(CUADRADO), format="json").status_code == 403


def test_las_alertas_se_filtran_por_pendientes_tipo_y_desde_id(api, comandante_a, efectivo):
    from django.utils import timezone

    from tests.factories import AlertaFactory

    vieja, reconocida, nueva = AlertaFactory.create_batch(3, efectivo=efectivo)
    reconocida.reconocida_en = timezone.now()
    reconocida.estado = "reconocida"
    reconocida.save()
    nueva.tipo = "salida"
    nueva.save()
    client = api(comandante_a)

    def ids(**params):
        r = client.get("/api/v1/alertas/", params)
        assert r.status_code == 200, r.json()
        return [a["id"] for a in r.json()["results"]]

    assert ids(pendientes="true") == [nueva.pk, vieja.pk]
    assert ids(pendientes="false") == [reconocida.pk]
    assert ids(tipo="salida") == [nueva.pk]
    assert ids(desde_id=vieja.pk) == [nueva.pk, reconocida.pk]
    for malo in ({"pendientes": "quizas"}, {"tipo": "x"}, {"desde_id": "-1"}, {"efectivo": "1.5"}):
        r = client.get("/api/v1/alertas/", malo)
        assert r.status_code == 400, malo
        assert r.json()["error"]["codigo"] == "parametro_invalido"
        assert list(r.json()["error"]["detalle"]) == list(malo)


def test_reconocer_todas_hasta_la_ultima_a_la_vista_y_solo_las_propias(api, comandante_a, comandante_b, efectivo):
    from tests.factories import AlertaFactory, EfectivoFactory

    vistas = AlertaFactory.create_batch(3, efectivo=efectivo)
    posterior = AlertaFactory(efectivo=efectivo)  # arrived after the screen was drawn
    ajena = AlertaFactory(efectivo=EfectivoFactory(unidad=comandante_b.unidad))
    r = api(comandante_a).post("/api/v1/alertas/reconocer/", {"hasta_id": vistas[-1].pk}, format="json")
    assert r.status_code == 200
    assert r.json() == {"reconocidas": 3, "ids": sorted(a.pk for a in vistas)}
    pendientes = api(comandante_a).get("/api/v1/alertas/", {"pendientes": "true"}).json()
    assert [a["id"] for a in pendientes["results"]] == [posterior.pk]
    ajena.refresh_from_db()
    assert ajena.reconocida_en is None
    assert (
        api(efectivo.usuario).post("/api/v1/alertas/reconocer/", {"hasta_id": 10**9}, format="json").status_code == 403
    )
    malo = api(comandante_a).post("/api/v1/alertas/reconocer/", {"hasta_id": "x"}, format="json")
    assert (malo.status_code, list(malo.json()["error"]["detalle"])) == (400, ["hasta_id"])
    otro = api(comandante_b).post(f"/api/v1/alertas/{posterior.pk}/reconocer/", format="json")
    assert otro.status_code == 404


def test_editar_una_geocerca_borrada_mientras_tanto_es_404(api, admin):
    from gad_project.exceptions import NoEncontrado
    from geocercas.services import geocerca_guardar

    geocerca = GeocercaFactory()
    Geocerca.objects.filter(pk=geocerca.pk).delete()  # another request got there first
    geocerca.nombre = "Otra"
    with pytest.raises(NoEncontrado):
        geocerca_guardar(geocerca=geocerca, usuario=admin)
    assert not Geocerca.objects.exists()


def test_un_crs_externo_en_el_geojson_es_un_400_en_la_forma_del_proyecto(api, admin):
    """GDAL would resolve a "link" CRS (a file or a URL); Django refuses it with an HTML page."""
    for crs in (
        {"type": "link", "properties": {"href": "http://127.0.0.1:9/crs.wkt", "type": "ogcwkt"}},
        {"type": "name", "properties": {"name": "/etc/passwd"}},
    ):
        geometria = {**CUADRADO, "crs": crs}
        r = api(admin).post("/api/v1/geocercas/", _feature(geometria), format="json")
        assert r.status_code == 400, r.content[:200]
        assert r.json()["error"]["codigo"] == "entrada_invalida"
        assert "WGS 84" in r.json()["error"]["detalle"]["geom"][0]
    assert not Geocerca.objects.exists()


def test_api_e_importacion_aplican_la_misma_regla_al_crs(api, admin):
    from geocercas import formatos

    mercator = {**CUADRADO, "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}}
    r = api(admin).post("/api/v1/geocercas/", _feature(mercator), format="json")
    assert r.status_code == 400 and "EPSG:3857" in r.json()["error"]["detalle"]["geom"][0]
    with pytest.raises(formatos.EntradaInvalida, match="EPSG:3857"):
        formatos.leer(str(_feature(mercator)).replace("'", '"'))
    # WGS 84 declared explicitly is what GeoJSON is anyway: accepted by both.
    wgs84 = {**CUADRADO, "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}
    r = api(admin).post("/api/v1/geocercas/", _feature(wgs84), format="json")
    assert r.status_code == 201, r.content[:300]
    assert formatos.leer(str(_feature(wgs84)).replace("'", '"')).srid == 4326


def test_gdal_no_sale_a_la_red_desde_el_proceso(escucha):
    from django.contrib.gis.gdal import DataSource, GDALException

    puerto, pedidos = escucha
    with pytest.raises(GDALException):
        DataSource(f"/vsicurl/http://127.0.0.1:{puerto}/zona.geojson")
    assert pedidos == []


@pytest.mark.parametrize("hora", ["18:00+05:00", "18:00Z", "18:00:00-03:00"])
def test_una_hora_de_horario_con_zona_horaria_se_rechaza_en_vez_de_perderla(api, admin, hora):
    r = api(admin).post(
        "/api/v1/geocercas/", _feature(CUADRADO, horario_desde=hora, horario_hasta="23:00"), format="json"
    )
    assert r.status_code == 400
    assert "sin zona horaria" in r.json()["error"]["detalle"]["horario_desde"][0]
    assert not Geocerca.objects.exists()


def test_un_corredor_que_cruza_el_antimeridiano_se_rechaza(api, admin):
    ruta = {"type": "LineString", "coordinates": [[179.9, -16.0], [-179.9, -16.1]]}
    r = api(admin).post("/api/v1/geocercas/", _feature(ruta, tipo="corredor", ancho_m=50), format="json")
    assert r.status_code == 400
    assert "antimeridiano" in r.json()["error"]["detalle"]["geom"][0]


def test_un_corredor_de_demasiados_vertices_se_rechaza_antes_de_calcular_su_area(api, admin):
    import time

    from geocercas import formatos

    n = formatos.CORREDOR_VERTICES_MAX + 1
    zigzag = [[-58.4 + i * 0.00005, -34.6 + (i % 2) * 0.0003] for i in range(n)]
    inicio = time.monotonic()
    r = api(admin).post(
        "/api/v1/geocercas/",
        _feature({"type": "LineString", "coordinates": zigzag}, tipo="corredor", ancho_m=30),
        format="json",
    )
    assert r.status_code == 400 and "máximo 2.000" in r.json()["error"]["detalle"]["geom"][0]
    assert time.monotonic() - inicio < 3.0  # slack for a loaded machine (two workers)
