"""Alerts against ground truth (geocercas.verdad): a small simulated shift with GPS faults,
replayed through the real ingest, scored against the officers' true paths; and the rules it
relies on, each on its own: readings to confirm a crossing of the border, flapping that never
moves anyone, kilometres without jitter."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from efectivos.models import Efectivo
from geocercas import verdad
from geocercas.models import Alerta, TipoGeocerca
from posiciones.services import LecturaNueva, posiciones_registrar
from reportes.selectors import reporte_unidad
from tests.factories import CENTRO, EfectivoFactory, GeocercaFactory, cuadrado, desplazar

pytestmark = pytest.mark.django_db
T0 = timezone.now() - timedelta(hours=1)


def lectura(efectivo, este_m: float, t: float, precision: float = 5.0, norte_m: float = 0.0) -> LecturaNueva:
    lon, lat = desplazar(*CENTRO, este_m=este_m, norte_m=norte_m)
    return LecturaNueva(uuid.uuid4(), efectivo.pk, lat, lon, T0 + timedelta(seconds=t), precision)


def test_un_turno_simulado_con_fallas_de_gps_se_mide_contra_la_verdad():
    r = verdad.correr(verdad.ESCENARIOS["chico"], confirmar=2)
    # The faults really happened, and the plausibility filter set the jumps aside.
    assert r["lecturas_por_falla"]["miente"] > 10 and r["lecturas_por_falla"]["salto"] > 5
    assert r["lecturas_por_falla"]["flapeo"] > 10 and r["implausibles"] >= r["lecturas_por_falla"]["flapeo"]
    assert r["precision"] >= 0.99 and r["recall"] >= 0.99, r
    for tipo in ("entrada", "salida"):
        assert r["por_tipo"][tipo]["observables"] >= 2, r["por_tipo"]
        assert r["por_tipo"][tipo]["precision"] >= 0.99 and r["por_tipo"][tipo]["recall"] >= 0.99, r["por_tipo"]
    assert abs(r["km_error_observables_pct"]) <= 2.0, r
    assert r["ajenas"] == 0
    assert not Efectivo.objects.filter(codigo_interno__startswith="VT-").exists()  # it cleans up


def test_con_dos_lecturas_una_precision_que_miente_no_alerta_y_una_entrada_real_si():
    efectivo = EfectivoFactory(ultima_posicion_en=None)
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=100), confirmar_lecturas=2)
    posiciones_registrar(lecturas=[lectura(efectivo, -90, 0)])
    # 60 m off claiming 5 m: inside for one reading, then back where the officer is.
    posiciones_registrar(lecturas=[lectura(efectivo, -30, 5)])
    posiciones_registrar(lecturas=[lectura(efectivo, -88, 10)])
    assert not Alerta.objects.exists()
    # Walking in: the first reading inside is not yet enough, the second is.
    posiciones_registrar(lecturas=[lectura(efectivo, -20, 60)])
    assert not Alerta.objects.exists()
    r = posiciones_registrar(lecturas=[lectura(efectivo, -10, 70)])
    assert [(a.tipo, a.ultima_en) for a in r.alertas] == [("entrada", T0 + timedelta(seconds=70))]


def test_la_lectura_que_confirma_basta_con_que_este_del_otro_lado_pasada_media_histeresis():
    """Hysteresis 10 m, a 100 m square (borders at ±50 m east): the first reading must be beyond
    max(hysteresis, precision); the one that confirms it only on the same side, beyond 5 m."""
    efectivo = EfectivoFactory(ultima_posicion_en=None)
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=100), confirmar_lecturas=2)
    posiciones_registrar(lecturas=[lectura(efectivo, -90, 0)])
    posiciones_registrar(lecturas=[lectura(efectivo, -30, 2, precision=12)])  # 20 m in: pending
    # 3 m inside: at the border, too close to say; and passing through the pending fix would be
    # a detour of 34 m in 4 s, more than their errors and a walk allow: the pending entry is dropped.
    posiciones_registrar(lecturas=[lectura(efectivo, -47, 4, precision=5)])
    posiciones_registrar(lecturas=[lectura(efectivo, -30, 6, precision=12)])  # pending again
    assert not Alerta.objects.exists()
    # 8 m inside, within the hysteresis but past half of it: confirms.
    r = posiciones_registrar(lecturas=[lectura(efectivo, -42, 8, precision=12)])
    assert [(a.tipo, a.ultima_en) for a in r.alertas] == [("entrada", T0 + timedelta(seconds=8))]


def test_un_auto_que_cruza_una_manzana_entre_dos_lecturas_entra_en_la_que_lo_muestra_adentro():
    """One fix inside a 100 m restricted square, on the straight way between the fixes around it,
    a minute apart and out of it: the next fix, back outside, does not refute it: the entry is
    alerted with that fix, at the time and place of the one inside."""
    efectivo = EfectivoFactory(ultima_posicion_en=None)
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=100), confirmar_lecturas=2)
    posiciones_registrar(lecturas=[lectura(efectivo, -400, 0)])
    posiciones_registrar(lecturas=[lectura(efectivo, 0, 60, norte_m=10)])
    assert not Alerta.objects.exists()
    r = posiciones_registrar(lecturas=[lectura(efectivo, 400, 120)])
    [alerta] = r.alertas
    assert (alerta.tipo, alerta.ocurrida_en) == ("entrada", T0 + timedelta(seconds=60))
    assert (alerta.lon, alerta.lat) == pytest.approx(desplazar(*CENTRO, este_m=0, norte_m=10))
    assert Alerta.objects.get().posicion.registrada_en == T0 + timedelta(seconds=60)


def test_una_lectura_sola_del_otro_lado_en_el_camino_recto_se_confirma_y_una_fuera_de_el_no():
    """Fixes 10 s apart, a 100 m control square (entry and exit alert), in one batch each: a car
    straight through it, one fix inside, enters there and leaves with the fix that confirms it is
    out; a fix 60 m off the way of a walker, claiming 5 m, is refuted by the next one."""
    auto, caminante = EfectivoFactory(ultima_posicion_en=None), EfectivoFactory(ultima_posicion_en=None)
    GeocercaFactory(tipo=TipoGeocerca.CONTROL, geom=cuadrado(lado_m=100), confirmar_lecturas=2)
    r = posiciones_registrar(lecturas=[lectura(auto, 120 * k - 120, 10 * k, norte_m=3) for k in range(4)])
    assert [(a.tipo, a.ocurrida_en) for a in sorted(r.alertas, key=lambda a: a.ocurrida_en)] == [
        ("entrada", T0 + timedelta(seconds=10)),
        ("salida", T0 + timedelta(seconds=30)),
    ]
    r = posiciones_registrar(
        lecturas=[lectura(caminante, -90, 0), lectura(caminante, -30, 10), lectura(caminante, -76, 20)]
    )
    assert r.alertas == []
    assert not Alerta.objects.filter(efectivo=caminante).exists()


def test_el_ir_y_venir_del_gps_no_mueve_al_efectivo_ni_suma_kilometros():
    """Two fixes at the true place, two 2 km away, 5 s apart, for two minutes, through a
    restricted zone around the far place: nothing moves, nothing alerts, no kilometres."""
    efectivo = EfectivoFactory(ultima_posicion_en=None)
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=300, centro=desplazar(*CENTRO, este_m=2000)))
    lecturas = [lectura(efectivo, 2000 if (i // 2) % 2 else 0, 5 * i) for i in range(24)]
    for lec in lecturas:
        posiciones_registrar(lecturas=[lec])
    efectivo.refresh_from_db()
    assert efectivo.ultima_posicion.x == pytest.approx(CENTRO[0])
    assert not Alerta.objects.exists()
    reporte = reporte_unidad(unidad_id=efectivo.unidad_id, desde=T0, hasta=T0 + timedelta(hours=1))
    assert [d["km"] for d in reporte.distancias] == [0.0]


def test_los_kilometros_no_cuentan_el_temblor_del_gps_de_alguien_quieto():
    efectivo = EfectivoFactory(ultima_posicion_en=None)
    import random

    rnd = random.Random(3)
    quieto = [lectura(efectivo, rnd.gauss(0, 4), i, norte_m=rnd.gauss(0, 4)) for i in range(600)]
    caminando = [lectura(efectivo, 1.4 * i, 600 + i) for i in range(1, 715)]  # 1 km east, a fix a second
    posiciones_registrar(lecturas=quieto)
    posiciones_registrar(lecturas=caminando)
    [d] = reporte_unidad(unidad_id=efectivo.unidad_id, desde=T0, hasta=T0 + timedelta(hours=1)).distancias
    assert d["km"] == pytest.approx(1.0, abs=0.02)  # 10 minutes of jitter would have added ~2 km


@pytest.mark.parametrize(("cada_s", "km"), [(5, 0.0), (60, 0.16)])
def test_un_ida_y_vuelta_entre_lecturas_lejanas_cuenta_y_un_pico_entre_cercanas_no(cada_s, km):
    """80 m east and back at the same spot: 5 s apart that is a lie of the GPS, a minute apart
    the officer may well have gone there (out of the perimeter, into a block) and come back."""
    efectivo = EfectivoFactory(ultima_posicion_en=None)
    posiciones_registrar(lecturas=[lectura(efectivo, este, cada_s * k) for k, este in enumerate((0, 80, 0))])
    [d] = reporte_unidad(unidad_id=efectivo.unidad_id, desde=T0, hasta=T0 + timedelta(hours=1)).distancias
    assert d["km"] == pytest.approx(km, abs=0.002)


@pytest.mark.parametrize(
    ("campo", "valor"),
    [("cruce_max_s", 0), ("cruce_max_s", 3600), ("confirmar_lecturas", 0), ("confirmar_lecturas", 9)],
)
def test_ajustes_de_una_geocerca_fuera_de_rango_son_400(api, admin, campo, valor):
    cuerpo = {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[-58.40, -34.60], [-58.39, -34.60], [-58.39, -34.59], [-58.40, -34.60]]],
        },
        "properties": {"nombre": "Zona", "tipo": "restringida", campo: valor},
    }
    r = api(admin).post("/api/v1/geocercas/", cuerpo, format="json")
    assert r.status_code == 400, r.content
    assert campo in r.json()["error"]["detalle"]
