"""Crossing between fixes: a fast car crosses a restricted strip between two readings, neither
inside it. Entry (and, for a control fence, exit) alerts once, marked `cruce`, only when it is
evidence: never for a graze within GPS noise, a zone small enough to have been driven around, a
gap too long to say which way they went (or after a silence), or from a reading not used."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.utils import timezone

from geocercas.models import Alerta, Geocerca, Presencia, TipoGeocerca
from posiciones.services import LecturaNueva, posiciones_registrar
from realtime.models import Evento
from tests.factories import CENTRO, EfectivoFactory, GeocercaFactory, cuadrado, desplazar

pytestmark = pytest.mark.django_db
T0 = timezone.now() - timedelta(hours=1)


def lectura(efectivo, este_m: float, t: float, norte_m: float = 0.0) -> LecturaNueva:
    lon, lat = desplazar(*CENTRO, este_m=este_m, norte_m=norte_m)
    return LecturaNueva(uuid.uuid4(), efectivo.pk, lat, lon, T0 + timedelta(seconds=t), 5.0)


def alertas(efectivo) -> list[tuple[str, bool]]:
    return list(Alerta.objects.filter(efectivo=efectivo).order_by("id").values_list("tipo", "cruce"))


def franja(ancho_m: float = 200.0, largo_m: float = 2000.0) -> MultiPolygon:
    """A strip `ancho_m` wide east to west and `largo_m` long north to south, centred on CENTRO:
    nothing crossing it from west to east could have gone around."""
    esquinas = [
        desplazar(*CENTRO, este_m=dx, norte_m=dy)
        for dx, dy in (
            (-ancho_m / 2, -largo_m / 2),
            (ancho_m / 2, -largo_m / 2),
            (ancho_m / 2, largo_m / 2),
            (-ancho_m / 2, largo_m / 2),
            (-ancho_m / 2, -largo_m / 2),
        )
    ]
    return MultiPolygon(Polygon(esquinas, srid=4326), srid=4326)


@pytest.fixture
def efectivo():
    return EfectivoFactory(ultima_posicion_en=None)


def test_atravesar_una_zona_restringida_entre_dos_lecturas_alerta_la_entrada(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=franja())
    posiciones_registrar(lecturas=[lectura(efectivo, -300, 0)])
    resultado = posiciones_registrar(lecturas=[lectura(efectivo, 300, 30)])  # 72 km/h through it
    assert alertas(efectivo) == [("entrada", True)]
    assert [a.cruce for a in resultado.alertas] == [True]
    assert Evento.objects.get(tipo="alerta.geocerca").datos["cruce"] is True
    assert not Presencia.objects.filter(efectivo=efectivo, dentro=True).exists()  # outside, as it is
    # The next reading, further on, crosses nothing: once.
    posiciones_registrar(lecturas=[lectura(efectivo, 700, 50)])
    assert alertas(efectivo) == [("entrada", True)]


def test_en_un_lote_y_en_una_cerca_de_control_alerta_entrada_y_salida(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.CONTROL, geom=franja())
    posiciones_registrar(lecturas=[lectura(efectivo, 300, 30), lectura(efectivo, -300, 0)])  # out of order
    assert alertas(efectivo) == [("entrada", True), ("salida", True)]


def test_rozar_la_esquina_dentro_del_margen_no_es_un_cruce(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=200), histeresis_m=15)
    # A diagonal that clips the north-east corner by a few metres.
    posiciones_registrar(lecturas=[lectura(efectivo, 80, 0, norte_m=130), lectura(efectivo, 130, 20, norte_m=80)])
    assert alertas(efectivo) == []


def test_un_tramo_demasiado_largo_no_dice_por_donde_paso(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=franja(largo_m=20_000))
    posiciones_registrar(lecturas=[lectura(efectivo, -3000, 0)])
    posiciones_registrar(lecturas=[lectura(efectivo, 3000, 200)])  # 6 km: a gap, not a path
    assert alertas(efectivo) == []


def test_una_cuadra_que_pudo_rodear_no_es_un_cruce(efectivo):
    """The car driving around a block with one fix a minute: the diagonal between two corners
    passes through the block, and a path 1.2 times as long goes around it."""
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=100))
    posiciones_registrar(lecturas=[lectura(efectivo, -60, 0, norte_m=-60), lectura(efectivo, 60, 60, norte_m=60)])
    assert alertas(efectivo) == []


def test_tras_un_silencio_o_al_arrancar_una_lectura_nunca_es_un_cruce(efectivo, settings):
    """The 45-minute case seen in the demo: the last position is old, so the way taken is unknown."""
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=franja())
    posiciones_registrar(lecturas=[lectura(efectivo, -300, 0)])
    posiciones_registrar(lecturas=[lectura(efectivo, 300, 45 * 60)])
    assert alertas(efectivo) == []
    # The gap allowed is the setting's (120 s by default), or the fence's own.
    settings.GEOCERCA_CRUCE_MAX_S = 20
    posiciones_registrar(lecturas=[lectura(efectivo, -300, 45 * 60 + 30)])
    assert alertas(efectivo) == []
    Geocerca.objects.update(cruce_max_s=60)
    posiciones_registrar(lecturas=[lectura(efectivo, 300, 45 * 60 + 60)])
    assert alertas(efectivo) == [("entrada", True)]


def test_el_tramo_parte_de_la_ultima_lectura_aceptada_no_de_una_implausible(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=franja())
    posiciones_registrar(lecturas=[lectura(efectivo, -300, 0)])
    assert posiciones_registrar(lecturas=[lectura(efectivo, 300, 31, norte_m=4000)]).implausibles == [0]
    posiciones_registrar(lecturas=[lectura(efectivo, 300, 60)])  # from -300 (accepted): crosses
    assert alertas(efectivo) == [("entrada", True)]


def test_una_lectura_que_cae_dentro_es_una_entrada_comun_no_un_cruce(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=franja())
    posiciones_registrar(lecturas=[lectura(efectivo, -300, 0), lectura(efectivo, 0, 15), lectura(efectivo, 300, 30)])
    assert alertas(efectivo) == [("entrada", False)]
