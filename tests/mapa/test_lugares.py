"""The extract's streets and places, offline: indexed when an extract is installed, found by the
map's search (intersections too), and naming where an SOS is; without an extract, nothing is named
and coordinates are shown."""

from __future__ import annotations

import io
import uuid

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


def test_un_sos_dice_donde_esta(extracto, api, comandante_a, efectivo):
    """Raised without a place, then located by a second tap: the row, its event and the API name it."""
    from realtime.models import Evento
    from seguridad.services.sos import sos_activar

    efectivo.ultima_posicion = None
    efectivo.save()
    sos, creado, _ = sos_activar(usuario=efectivo.usuario)
    assert creado and sos.lugar == ""
    sos, _, _ = sos_activar(usuario=efectivo.usuario, lat=ESQUINA[1], lon=ESQUINA[0])
    assert esquina_de(sos.lugar) == {osm_prueba.CALLE, "Bolívar"}
    evento = Evento.objects.filter(tipo="sos.activado").latest("id")
    assert esquina_de(evento.datos["lugar"]) == {osm_prueba.CALLE, "Bolívar"}
    [fila] = api(comandante_a).get("/api/v1/sos/").json()["results"]
    assert esquina_de(fila["lugar"]) == {osm_prueba.CALLE, "Bolívar"}


@pytest.mark.parametrize("q", ["\\\\", "100%", "a_b", "%%%"])
def test_lo_que_se_escribe_se_toma_literal(extracto, api, comandante_a, q):
    """LIKE's own characters match only themselves: no error, and nothing here has them."""
    r = api(comandante_a).get("/mapa/datos/buscar/", {"q": q})
    assert r.status_code == 200, r.content
    assert r.json()["resultados"] == []


def test_una_alerta_dice_donde_ocurrio_en_su_evento_su_api_y_el_bot(extracto, api, comandante_a, unidad_a):
    """Named inside the ingest's own INSERT (the row's trigger), not by a query of its own."""
    from geocercas.models import Alerta, TipoGeocerca
    from posiciones.services import LecturaNueva, posiciones_registrar
    from telegram_bot import mensajes
    from tests.factories import EfectivoFactory, GeocercaFactory, cuadrado, desplazar

    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, severidad="critica", geom=cuadrado(centro=ESQUINA, lado_m=60))
    efectivo = EfectivoFactory(unidad=unidad_a, ultima_posicion_en=None)
    from datetime import timedelta

    from django.utils import timezone

    t0 = timezone.now() - timedelta(minutes=5)
    for i, (lon, lat) in enumerate([desplazar(*ESQUINA, norte_m=-300), ESQUINA, desplazar(*ESQUINA, este_m=5)]):
        resultado = posiciones_registrar(
            lecturas=[
                LecturaNueva(
                    id_cliente=uuid.uuid4(),
                    efectivo_id=efectivo.pk,
                    lat=lat,
                    lon=lon,
                    registrada_en=t0 + timedelta(seconds=30 * i),
                    precision_m=5.0,
                )
            ]
        )
        if i == 1:
            [alerta] = resultado.alertas
    assert esquina_de(alerta.lugar) == {osm_prueba.CALLE, "Bolívar"}
    assert esquina_de(Alerta.objects.get(pk=alerta.id).lugar) == {osm_prueba.CALLE, "Bolívar"}
    [fila] = api(comandante_a).get("/api/v1/alertas/?abiertas=true").json()["results"]
    assert esquina_de(fila["lugar"]) == {osm_prueba.CALLE, "Bolívar"}
    from realtime.models import Evento

    evento = Evento.objects.filter(tipo="alerta.geocerca").latest("id")
    assert esquina_de(evento.datos["lugar"]) == {osm_prueba.CALLE, "Bolívar"}
    texto, _ = mensajes.notificacion("alerta.geocerca", evento.datos)
    assert texto.endswith("📍 " + evento.datos["lugar"])


def test_una_tarea_dice_donde_es_y_lo_vuelve_a_decir_si_se_mueve(extracto, api, comandante_a, unidad_a):
    from tareas.models import Tarea
    from telegram_bot import mensajes

    cliente = api(comandante_a)
    r = cliente.post(
        "/api/v1/tareas/",
        {
            "titulo": "Control",
            "unidad": unidad_a.pk,
            "lat": osm_prueba.PLAZA_DE_MAYO[1],
            "lon": osm_prueba.PLAZA_DE_MAYO[0],
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["lugar"] == "Plaza de Mayo"
    tarea = Tarea.objects.get(pk=r.json()["id"])
    tarea.lugar = ""  # an instance saved with the value it was created with: the name stays
    tarea.titulo = "Control de acceso"
    tarea.save()
    assert Tarea.objects.get(pk=tarea.pk).lugar == "Plaza de Mayo"
    r = cliente.patch(f"/api/v1/tareas/{tarea.pk}/", {"lat": ESQUINA[1], "lon": ESQUINA[0]}, format="json")
    assert r.status_code == 200, r.content
    assert esquina_de(r.json()["lugar"]) == {osm_prueba.CALLE, "Bolívar"}
    # The bot's assignment message, from the event the move published.
    from realtime.models import Evento

    datos = Evento.objects.filter(tipo="tarea.actualizada").latest("id").datos
    texto, _ = mensajes.notificacion("tarea.asignada", {**datos, "distancia_m": None})
    assert f"📍 {r.json()['lugar']}" in texto


def test_instalar_un_extracto_nombra_lo_que_sigue_abierto(settings, tmp_path, unidad_a):
    """Rows written before any extract show coordinates; installing one names those still open."""
    from django.contrib.gis.geos import Point

    from seguridad.models import Sos
    from tareas.models import EstadoTarea, Tarea
    from tests.factories import EfectivoFactory

    settings.MAPA_BASE_DIR = str(tmp_path / "base")
    abierta = Tarea.objects.create(
        codigo="T-A", titulo="a", unidad=unidad_a, ubicacion=Point(*osm_prueba.PLAZA_DE_MAYO)
    )
    cerrada = Tarea.objects.create(
        codigo="T-C",
        titulo="c",
        unidad=unidad_a,
        ubicacion=Point(*osm_prueba.PLAZA_DE_MAYO),
        estado=EstadoTarea.FINALIZADA,
    )
    sos = Sos.objects.create(efectivo=EfectivoFactory(unidad=unidad_a), fuente="api", punto=Point(*ESQUINA))
    assert (abierta.lugar, sos.lugar) == ("", "")  # returned by the INSERT: nothing to name yet
    archivo = tmp_path / "extracto.pmtiles"
    osm_prueba.construir_pmtiles(archivo)
    call_command("base_instalar", str(archivo), stdout=io.StringIO())
    abierta.refresh_from_db()
    cerrada.refresh_from_db()
    sos.refresh_from_db()
    assert abierta.lugar == "Plaza de Mayo"
    assert cerrada.lugar == ""  # history keeps what it had
    assert esquina_de(sos.lugar) == {osm_prueba.CALLE, "Bolívar"}
