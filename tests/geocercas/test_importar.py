"""A geocerca's shape imported into the admin from a GeoJSON or KML file or pasted text, validated
with clear errors, and exported back in both formats."""

from __future__ import annotations

import json

import pytest
from django.contrib.gis.geos import LineString, MultiPolygon
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from geocercas import formatos
from geocercas.models import Geocerca
from tests.factories import CENTRO, GeocercaFactory, cuadrado, desplazar

pytestmark = pytest.mark.django_db

AGREGAR = "admin:geocercas_geocerca_add"


def _formulario(**extra) -> dict:
    return {
        "nombre": "Importada",
        "descripcion": "",
        "tipo": "restringida",
        "severidad": "critica",
        "histeresis_m": "15",
        "confirmar_lecturas": "1",
        "entrada_min_s": "0",
        "escalar": "on",
        "activa": "on",
        "horario_dias": "",
        "geom": "",
        "ruta": "",
        **extra,
    }


def _poligono_geojson() -> dict:
    return json.loads(cuadrado(lado_m=200).geojson)


def _kml(coordenadas: str) -> str:
    return (
        '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>Edificio</name>'
        f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{coordenadas}</coordinates></LinearRing>"
        "</outerBoundaryIs></Polygon></Placemark></Document></kml>"
    )


def _anillo_kml(lado_m=100) -> str:
    esquinas = [
        desplazar(*CENTRO, este_m=e, norte_m=n) for e, n in [(0, 0), (lado_m, 0), (lado_m, lado_m), (0, lado_m), (0, 0)]
    ]
    return " ".join(f"{lon},{lat},25" for lon, lat in esquinas)  # with altitude, as Google Earth writes it


def test_importar_un_archivo_geojson_crea_la_geocerca(client, admin):
    client.force_login(admin)
    feature = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": _poligono_geojson()}],
    }
    archivo = SimpleUploadedFile("zona.geojson", json.dumps(feature).encode(), content_type="application/geo+json")
    r = client.post(reverse(AGREGAR), _formulario(importar_archivo=archivo))
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r.content
    g = Geocerca.objects.get(nombre="Importada")
    assert isinstance(g.geom, MultiPolygon) and g.geom.equals_exact(cuadrado(lado_m=200), 1e-9)


def test_pegar_un_kml_con_altitud_crea_la_geocerca(client, admin):
    client.force_login(admin)
    r = client.post(reverse(AGREGAR), _formulario(importar_texto=_kml(_anillo_kml())))
    assert r.status_code == 302, r.context["adminform"].form.errors
    g = Geocerca.objects.get(nombre="Importada")
    assert not g.geom.hasz
    assert 9_000 < g.geom.transform(3857, clone=True).area * 0.823**2 < 11_000  # ~100 m x 100 m


def test_una_linea_importada_es_la_ruta_de_un_corredor(client, admin):
    client.force_login(admin)
    linea = {"type": "LineString", "coordinates": [list(CENTRO), list(desplazar(*CENTRO, este_m=800))]}
    r = client.post(reverse(AGREGAR), _formulario(tipo="restringida", importar_texto=json.dumps(linea)))
    assert r.status_code == 200
    assert "ruta de un corredor" in str(r.context["adminform"].form.errors["importar_texto"])
    r = client.post(reverse(AGREGAR), _formulario(tipo="corredor", ancho_m="60", importar_texto=json.dumps(linea)))
    assert r.status_code == 302, r.context["adminform"].form.errors
    g = Geocerca.objects.get(nombre="Importada")
    assert isinstance(g.ruta, LineString) and g.geom.area > 0


@pytest.mark.parametrize(
    "texto, mensaje",
    [
        ("esto no es nada", "No es un GeoJSON válido"),
        ('{"type": "Point", "coordinates": [-58.4, -34.6]}', "debe ser un Polygon o MultiPolygon"),
        (
            '{"type": "Polygon", "coordinates": [[[-58.40, -34.60], [-58.39, -34.61], [-58.39, -34.60], [-58.40, -34.61], [-58.40, -34.60]]]}',
            "Geometría inválida: Self-intersection",
        ),
        ('{"type": "FeatureCollection", "features": []}', "no contiene ninguna geometría"),
        ("<kml><Document><Placemark></kml>", "No es un KML válido"),
        (
            json.dumps(
                {
                    "type": "GeometryCollection",
                    "geometries": [
                        {
                            "type": "Polygon",
                            "coordinates": [[[-58.4, -34.6], [-58.39, -34.6], [-58.39, -34.59], [-58.4, -34.6]]],
                        },
                        {"type": "LineString", "coordinates": [[-58.4, -34.6], [-58.3, -34.6]]},
                    ],
                }
            ),
            "debe ser un Polygon o MultiPolygon",
        ),
    ],
)
def test_lo_que_no_sirve_se_rechaza_con_un_error_claro(client, admin, texto, mensaje):
    client.force_login(admin)
    r = client.post(reverse(AGREGAR), _formulario(importar_texto=texto))
    assert r.status_code == 200
    assert mensaje in str(r.context["adminform"].form.errors["importar_texto"])
    assert not Geocerca.objects.exists()


def test_demasiados_vertices_se_rechazan(client, admin):
    client.force_login(admin)
    import math

    n = formatos.VERTICES_MAX + 5
    anillo = [
        list(
            desplazar(*CENTRO, este_m=500 * math.cos(2 * math.pi * i / n), norte_m=500 * math.sin(2 * math.pi * i / n))
        )
        for i in range(n)
    ]
    anillo.append(anillo[0])
    archivo = SimpleUploadedFile("enorme.json", json.dumps({"type": "Polygon", "coordinates": [anillo]}).encode())
    r = client.post(reverse(AGREGAR), _formulario(importar_archivo=archivo))
    assert r.status_code == 200
    assert "vértices (máximo 10.000)" in str(r.context["adminform"].form.errors["importar_archivo"])


def test_exportar_geojson_y_kml_devuelve_la_misma_forma(client, admin):
    client.force_login(admin)
    g = GeocercaFactory(nombre="Casa & Gobierno", geom=cuadrado(lado_m=150))
    r = client.get(reverse("admin:geocercas_geocerca_exportar", args=[g.pk, "geojson"]))
    assert r.status_code == 200 and r["Content-Type"] == "application/geo+json"
    assert 'filename="geocerca-' in r["Content-Disposition"]
    assert formatos.leer(r.content).equals_exact(g.geom, 1e-9)
    assert json.loads(r.content)["properties"]["nombre"] == "Casa & Gobierno"
    r = client.get(reverse("admin:geocercas_geocerca_exportar", args=[g.pk, "kml"]))
    assert r.status_code == 200 and "kml" in r["Content-Type"]
    assert "<name>Casa &amp; Gobierno</name>" in r.content.decode()
    assert formatos.leer(r.content, "x.kml").equals_exact(g.geom, 1e-9)  # round trip
    assert client.get(reverse("admin:geocercas_geocerca_exportar", args=[g.pk, "shp"])).status_code == 404
    # The change page links both.
    html = client.get(reverse("admin:geocercas_geocerca_change", args=[g.pk])).content.decode()
    assert f"/{g.pk}/exportar.geojson" in html and f"/{g.pk}/exportar.kml" in html


# --- hostile documents: GDAL never opens what a user sends ----------------------------------------


def _vrt_ssrf(puerto: int) -> str:
    return (
        f'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/vsicurl/http://127.0.0.1:{puerto}/x.csv'
        '</SrcDataSource><GeometryType>wkbPoint</GeometryType><GeometryField encoding="PointFromColumns" x="x" y="y"/>'
        "</OGRVRTLayer></OGRVRTDataSource>"
    )


def _vrt_archivo(ruta: str) -> str:
    return (
        f'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>CSV:{ruta}</SrcDataSource>'
        '<SrcSQL dialect="SQLITE">SELECT MakeLine(MakePoint(0, 0), MakePoint(length(field_1), 1)) FROM x</SrcSQL>'
        "</OGRVRTLayer></OGRVRTDataSource>"
    )


_XXE = (
    '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name><LineString><coordinates>'
    "-58.38,-34.60 -58.37,-34.61</coordinates></LineString></Placemark></kml>"
)
_RISAS = (
    '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "jajajajaja">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + ']><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&i;</name></Placemark></kml>'
)


def test_un_vrt_de_ogr_pegado_o_subido_no_hace_ninguna_solicitud(client, admin, escucha):
    puerto, pedidos = escucha
    client.force_login(admin)
    vrt = _vrt_ssrf(puerto)
    r = client.post(reverse(AGREGAR), _formulario(tipo="corredor", ancho_m="30", importar_texto=vrt))
    assert r.status_code == 200
    assert "No es un documento KML 2.2" in r.context["adminform"].form.errors["importar_texto"][0]
    archivo = SimpleUploadedFile("zona.kml", vrt.encode(), content_type="application/vnd.google-earth.kml+xml")
    r = client.post(reverse(AGREGAR), _formulario(tipo="corredor", ancho_m="30", importar_archivo=archivo))
    assert "No es un documento KML 2.2" in r.context["adminform"].form.errors["importar_archivo"][0]
    assert pedidos == []
    assert not Geocerca.objects.exists()


def test_un_vrt_que_lee_un_archivo_del_servidor_se_rechaza(tmp_path):
    secreto = tmp_path / "secreto.csv"
    secreto.write_text("field_1\nclave-del-servidor\n")
    with pytest.raises(formatos.EntradaInvalida, match=r"No es un documento KML 2\.2"):
        formatos.leer(_vrt_archivo(str(secreto)), "corredor.kml")


@pytest.mark.parametrize("documento", [_XXE, _RISAS], ids=["xxe", "mil_millones_de_risas"])
def test_xxe_y_entidades_anidadas_se_rechazan_sin_expandirlas(client, admin, documento):
    client.force_login(admin)
    r = client.post(reverse(AGREGAR), _formulario(tipo="corredor", ancho_m="30", importar_texto=documento))
    assert r.status_code == 200
    assert "DTD o entidades" in r.context["adminform"].form.errors["importar_texto"][0]
    assert not Geocerca.objects.exists()


def test_un_kml_con_agujeros_y_multigeometria_conserva_cada_anillo():
    exterior = _anillo_kml(300)
    agujero = " ".join(
        f"{lon},{lat}"
        for lon, lat in [
            desplazar(*CENTRO, este_m=e, norte_m=n) for e, n in [(100, 100), (200, 100), (200, 200), (100, 100)]
        ]
    )
    otro = " ".join(
        f"{lon},{lat}"
        for lon, lat in [
            desplazar(*CENTRO, este_m=e, norte_m=n) for e, n in [(900, 0), (1000, 0), (1000, 100), (900, 0)]
        ]
    )
    kml = (
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><MultiGeometry>'
        f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{exterior}</coordinates></LinearRing></outerBoundaryIs>"
        f"<innerBoundaryIs><LinearRing><coordinates>{agujero}</coordinates></LinearRing></innerBoundaryIs></Polygon>"
        f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{otro}</coordinates></LinearRing></outerBoundaryIs></Polygon>"
        "</MultiGeometry></Placemark></kml>"
    )
    geom = formatos.leer(kml)
    assert isinstance(geom, MultiPolygon) and len(geom) == 2
    assert len(geom[0]) == 2  # the exterior ring and its hole
    assert geom.srid == 4326
