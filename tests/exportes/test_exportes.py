"""Exports: every geographic file opens in GDAL (`ogrinfo`, from gdal-bin) with the expected
features; the caller's scope applies; bad requests are clear 400s; the body streams."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from efectivos.models import Posicion
from geocercas import services as geocercas_services
from tareas import services as tareas_services
from tests.conftest import cliente_jwt
from tests.factories import CENTRO, AlertaFactory, EfectivoFactory, GeocercaFactory, TareaFactory, cuadrado, desplazar

# The sync test client reads the async body whole (and says so); the served app streams it.
pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume")]


def contenido(r) -> bytes:
    assert r.status_code == 200, r.content if not r.streaming else r.status_code
    assert r.streaming  # never built in memory
    return b"".join(r)


def ogrinfo(tmp_path: Path, datos: bytes, extension: str) -> str:
    ruta = tmp_path / f"export.{extension}"
    ruta.write_bytes(datos)
    salida = subprocess.run(["ogrinfo", "-ro", "-al", "-so", str(ruta)], capture_output=True, text=True, check=True)
    return salida.stdout


def cuentas(salida: str) -> dict[str, int]:
    """Layer name → feature count, from `ogrinfo -al -so`."""
    capas, actual = {}, None
    for linea in salida.splitlines():
        if linea.startswith("Layer name:"):
            actual = linea.split(":", 1)[1].strip()
        elif linea.startswith("Feature Count:") and actual:
            capas[actual] = int(linea.split(":", 1)[1])
    return capas


@pytest.fixture
def recorrido(unidad_a):
    """Two efectivos of unidad A with 30 readings each over the last hour (one implausible)."""
    ahora = timezone.now()
    efectivos = [EfectivoFactory(unidad=unidad_a) for _ in range(2)]
    filas = []
    for e in efectivos:
        for i in range(30):
            filas.append(
                Posicion(
                    efectivo=e,
                    punto=Point(*desplazar(*CENTRO, este_m=20 * i), srid=4326),
                    registrada_en=ahora - timedelta(minutes=60 - 2 * i),
                    recibida_en=ahora,
                    fuente="api",
                    id_cliente=__import__("uuid").uuid4(),
                    implausible=(i == 7),
                    precision_m=5,
                )
            )
    Posicion.objects.bulk_create(filas)
    return efectivos


@pytest.mark.parametrize(
    "formato, capas",
    [
        ("gpx", {"tracks": 2, "track_points": 58}),  # the implausible reading is not in the line
        ("kml", {"Recorridos GRUPO_GAD": 2}),
        ("geojson", {"export": 60}),
        ("csv", {"export": 60}),
    ],
)
def test_el_recorrido_exportado_abre_en_gdal(comandante_a, recorrido, tmp_path, formato, capas):
    ids = ",".join(str(e.pk) for e in recorrido)
    r = cliente_jwt(comandante_a).get(
        f"/api/v1/exportes/recorridos/?formato={formato}&efectivo={ids}&motivo=supervision"
    )
    datos = contenido(r)
    assert "attachment;" in r["Content-Disposition"] and r["Content-Disposition"].endswith(f'.{formato}"')
    obtenidas = cuentas(ogrinfo(tmp_path, datos, formato))
    assert {k: obtenidas.get(k) for k in capas} == capas, obtenidas


@pytest.mark.parametrize("tramo", [5000, 7])
def test_el_kml_del_recorrido_lleva_la_hora_de_cada_punto(comandante_a, recorrido, tmp_path, monkeypatch, tramo):
    """A gx:Track per efectivo, a time per point (Google Earth replays it); read back by GDAL's
    LIBKML driver, each track begins and ends at its first and last plausible reading. A long
    track is cut into pieces that share their joining point (`tramo`: readings per piece)."""
    from exportes import formatos

    monkeypatch.setattr(formatos, "KML_TRAMO", tramo)
    ids = ",".join(str(e.pk) for e in recorrido)
    datos = contenido(
        cliente_jwt(comandante_a).get(f"/api/v1/exportes/recorridos/?formato=kml&efectivo={ids}&motivo=supervision")
    )
    texto = datos.decode()
    piezas = 1 if tramo > 29 else 1 + -(-(29 - tramo) // (tramo - 1))
    assert texto.count("<when>") == texto.count("<gx:coord>") == 2 * (29 + piezas - 1)
    ruta = tmp_path / "recorrido.kml"
    ruta.write_bytes(datos)
    salida = subprocess.run(["ogrinfo", "-ro", "-al", str(ruta)], capture_output=True, text=True, check=True).stdout
    inicios = re.findall(r"begin \(DateTime\) = (\S+ \S+)", salida)
    finales = re.findall(r"end \(DateTime\) = (\S+ \S+)", salida)
    for e in recorrido:
        horas = list(
            Posicion.objects.filter(efectivo=e, implausible=False)
            .order_by("registrada_en")
            .values_list("registrada_en", flat=True)
        )
        assert horas[0].astimezone(UTC).strftime("%Y/%m/%d %H:%M:%S+00") in inicios
        assert horas[-1].astimezone(UTC).strftime("%Y/%m/%d %H:%M:%S+00") in finales


def test_el_csv_del_recorrido_lleva_hora_local_y_marca_las_implausibles(comandante_a, recorrido):
    e = recorrido[0]
    datos = contenido(
        cliente_jwt(comandante_a).get(f"/api/v1/exportes/recorridos/?formato=csv&efectivo={e.pk}&motivo=supervision")
    )
    filas = list(csv.DictReader(io.StringIO(datos.decode("utf-8-sig"))))
    assert len(filas) == 30 and {f["efectivo_id"] for f in filas} == {str(e.pk)}
    assert all(f["registrada_en"].endswith("-03:00") for f in filas)
    assert [f["implausible"] for f in filas].count("True") == 1
    assert filas[0]["registrada_en"] < filas[-1]["registrada_en"]  # oldest first


def test_el_alcance_y_las_fechas_se_respetan(comandante_a, comandante_b, recorrido, efectivo):
    ajeno = recorrido[0]
    r = cliente_jwt(comandante_b).get(
        f"/api/v1/exportes/recorridos/?formato=gpx&efectivo={ajeno.pk}&motivo=supervision"
    )
    assert r.status_code == 404 and r.json()["error"]["detalle"] == {"efectivo": [ajeno.pk]}
    # Without efectivo: everyone in scope — nobody of A for B's commander.
    datos = contenido(cliente_jwt(comandante_b).get("/api/v1/exportes/recorridos/?formato=geojson&motivo=supervision"))
    assert json.loads(datos)["features"] == []
    # An efectivo exports their own track, never someone else's.
    assert (
        cliente_jwt(efectivo.usuario)
        .get(f"/api/v1/exportes/recorridos/?formato=csv&efectivo={efectivo.pk}&motivo=supervision")
        .status_code
        == 200
    )
    assert (
        cliente_jwt(efectivo.usuario)
        .get(f"/api/v1/exportes/recorridos/?formato=csv&efectivo={ajeno.pk}&motivo=supervision")
        .status_code
        == 404
    )
    # A window that excludes the readings: an empty, valid file.
    antes = (timezone.now() - timedelta(days=3)).isoformat()
    r = cliente_jwt(comandante_a).get(
        "/api/v1/exportes/recorridos/",
        {
            "formato": "geojson",
            "efectivo": ajeno.pk,
            "motivo": "supervision",
            "desde": antes,
            "hasta": (timezone.now() - timedelta(days=2)).isoformat(),
        },
    )
    assert json.loads(contenido(r))["features"] == []


@pytest.mark.parametrize(
    "parametros, codigo, campo",
    [
        ({}, "parametro_invalido", "formato"),
        ({"formato": "shp"}, "parametro_invalido", "formato"),
        ({"formato": "gpx", "efectivo": "abc"}, "parametro_invalido", "efectivo"),
        ({"formato": "gpx", "desde": "ayer"}, "parametro_invalido", "desde"),
        (
            {"formato": "gpx", "desde": "2026-12-02T10:00:00-03:00", "hasta": "2026-12-01T10:00:00-03:00"},
            "entrada_invalida",
            "desde",
        ),
        (
            {"formato": "gpx", "desde": "2024-01-01T00:00:00-03:00", "hasta": "2026-01-01T00:00:00-03:00"},
            "entrada_invalida",
            "dias_max",
        ),
    ],
)
def test_un_pedido_mal_hecho_es_un_400_claro(comandante_a, parametros, codigo, campo):
    r = cliente_jwt(comandante_a).get("/api/v1/exportes/recorridos/", parametros)
    assert r.status_code == 400, r.content
    error = r.json()["error"]
    assert error["codigo"] == codigo and campo in json.dumps(error["detalle"]), error


def test_sin_sesion_es_401(client):
    assert client.get("/api/v1/exportes/recorridos/?formato=gpx&motivo=supervision").status_code == 401


def test_alertas_con_su_ciclo_de_vida_en_csv_y_geojson(comandante_a, admin, unidad_a, unidad_b, tmp_path):
    propia = AlertaFactory(efectivo=EfectivoFactory(unidad=unidad_a), severidad="critica")
    AlertaFactory(efectivo=EfectivoFactory(unidad=unidad_b))
    geocercas_services.alerta_cambiar_estado(alerta_id=propia.pk, usuario=comandante_a, accion="atender", nota="voy")
    datos = contenido(cliente_jwt(comandante_a).get("/api/v1/exportes/alertas/?formato=csv&motivo=supervision"))
    [fila] = list(csv.DictReader(io.StringIO(datos.decode("utf-8-sig"))))
    assert fila["id"] == str(propia.pk) and fila["estado"] == "en_atencion"
    assert fila["atendida_por"] == (comandante_a.get_full_name() or "comandante_a")
    assert fila["reconocida_en"].endswith("-03:00")
    datos = contenido(cliente_jwt(admin).get("/api/v1/exportes/alertas/?formato=geojson&motivo=supervision"))
    assert cuentas(ogrinfo(tmp_path, datos, "geojson")) == {"export": 2}


def test_tareas_con_su_historial(comandante_a, unidad_a, tmp_path):
    e = EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*CENTRO, srid=4326))
    tarea = TareaFactory(unidad=unidad_a, titulo="Control, «vehicular»")
    tareas_services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, efectivos=[e.pk])
    TareaFactory(unidad=unidad_a, titulo="Sin cambios")
    datos = contenido(cliente_jwt(comandante_a).get("/api/v1/exportes/tareas/?formato=csv"))
    filas = list(csv.DictReader(io.StringIO(datos.decode("utf-8-sig"))))
    de_la_tarea = [f for f in filas if f["id"] == str(tarea.pk)]
    assert [f["estado_nuevo"] for f in de_la_tarea] == list(tarea.eventos.values_list("estado_nuevo", flat=True))
    assert de_la_tarea[0]["titulo"] == "Control, «vehicular»"  # quoted, accents intact
    datos = contenido(cliente_jwt(comandante_a).get("/api/v1/exportes/tareas/?formato=geojson"))
    doc = json.loads(datos)
    [f] = [f for f in doc["features"] if f["properties"]["id"] == tarea.pk]
    assert f["properties"]["asignaciones"][0]["efectivo_id"] == e.pk and f["properties"]["historial"]
    assert cuentas(ogrinfo(tmp_path, datos, "geojson"))["export"] == 2


@pytest.mark.parametrize("formato", ["geojson", "kml"])
def test_geocercas_exportadas_abren_en_gdal_y_respetan_el_alcance(comandante_a, unidad_a, unidad_b, tmp_path, formato):
    GeocercaFactory(nombre="Común", geom=cuadrado(lado_m=100))
    propia = GeocercaFactory(nombre="De A", geom=cuadrado(lado_m=120))
    propia.unidades.set([unidad_a])
    ajena = GeocercaFactory(nombre="De B", geom=cuadrado(lado_m=140))
    ajena.unidades.set([unidad_b])
    datos = contenido(cliente_jwt(comandante_a).get(f"/api/v1/exportes/geocercas/?formato={formato}"))
    assert sum(cuentas(ogrinfo(tmp_path, datos, formato)).values()) == 2
    assert "De B" not in datos.decode()


@pytest.mark.parametrize(
    "peligroso", ['=HYPERLINK("http://x","ver")', "+cmd|' /C calc'!A0", "-1+1", "@SUMA(1)", "\tx", "\rx"]
)
def test_un_texto_que_una_planilla_tomaria_por_formula_sale_neutralizado(comandante_a, unidad_a, peligroso):
    TareaFactory(unidad=unidad_a, titulo=peligroso)
    AlertaFactory(efectivo=EfectivoFactory(unidad=unidad_a), geocerca=GeocercaFactory(nombre=peligroso))
    tareas = csv.DictReader(
        io.StringIO(
            contenido(cliente_jwt(comandante_a).get("/api/v1/exportes/tareas/?formato=csv")).decode("utf-8-sig")
        )
    )
    assert {f["titulo"] for f in tareas} == {"'" + peligroso}
    alertas = csv.DictReader(
        io.StringIO(
            contenido(cliente_jwt(comandante_a).get("/api/v1/exportes/alertas/?formato=csv&motivo=supervision")).decode(
                "utf-8-sig"
            )
        )
    )
    assert [f["geocerca"] for f in alertas] == ["'" + peligroso]


def test_los_numeros_negativos_siguen_siendo_numeros(comandante_a, recorrido):
    datos = contenido(
        cliente_jwt(comandante_a).get(
            f"/api/v1/exportes/recorridos/?formato=csv&efectivo={recorrido[0].pk}&motivo=supervision"
        )
    )
    fila = next(csv.DictReader(io.StringIO(datos.decode("utf-8-sig"))))
    assert fila["lon"].startswith("-58.") and fila["lat"].startswith("-34.")
