"""Geofence semantics, through the one real entry point (posiciones_registrar) on real PostGIS."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from geocercas import services
from geocercas.models import Alerta, Presencia, TipoGeocerca
from posiciones.services import LecturaNueva, posiciones_registrar
from realtime.models import Evento
from tests.factories import CENTRO, EfectivoFactory, GeocercaFactory, UnidadFactory, cuadrado, desplazar

pytestmark = pytest.mark.django_db

LADO = 200.0  # metres; the fence spans CENTRO ± 100 m
T0 = timezone.now() - timedelta(hours=1)


def lectura(efectivo, este_m: float, t: float, *, precision: float | None = 5.0, norte_m: float = 0.0) -> LecturaNueva:
    """A reading `este_m` metres east of the fence's centre, `t` seconds after T0."""
    lon, lat = desplazar(*CENTRO, este_m=este_m, norte_m=norte_m)
    return LecturaNueva(
        id_cliente=uuid.uuid4(),
        efectivo_id=efectivo.pk,
        lat=lat,
        lon=lon,
        registrada_en=T0 + timedelta(seconds=t),
        precision_m=precision,
    )


def registrar(*lecturas: LecturaNueva):
    return posiciones_registrar(lecturas=list(lecturas))


def tipos(efectivo) -> list[str]:
    return list(Alerta.objects.filter(efectivo=efectivo).order_by("ocurrida_en", "id").values_list("tipo", flat=True))


@pytest.fixture
def efectivo():
    return EfectivoFactory(ultima_posicion_en=None)


def test_restringida_alerta_al_entrar_y_no_al_salir(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=LADO))
    registrar(lectura(efectivo, 500, 0))
    resultado = registrar(lectura(efectivo, 0, 10))
    assert [a.tipo for a in resultado.alertas] == ["entrada"]
    registrar(lectura(efectivo, 500, 20))
    assert tipos(efectivo) == ["entrada"]
    assert Presencia.objects.get(efectivo=efectivo).dentro is False


def test_perimetro_alerta_al_salir_y_no_al_entrar(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.PERIMETRO, geom=cuadrado(lado_m=LADO))
    registrar(lectura(efectivo, 0, 0))
    assert tipos(efectivo) == []
    registrar(lectura(efectivo, 400, 10))
    assert tipos(efectivo) == ["salida"]


def test_control_alerta_al_entrar_y_al_salir(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.CONTROL, geom=cuadrado(lado_m=LADO))
    registrar(lectura(efectivo, 400, 0), lectura(efectivo, 0, 10), lectura(efectivo, 400, 20), lectura(efectivo, 0, 30))
    # The second entry, while the first entry's alert is open, is a repeat counted on it.
    assert tipos(efectivo) == ["entrada", "salida"]
    entrada = Alerta.objects.get(efectivo=efectivo, tipo="entrada")
    assert entrada.repeticiones == 2
    assert entrada.ultima_en == T0 + timedelta(seconds=30)
    assert entrada.ocurrida_en == T0 + timedelta(seconds=10)


def test_zigzag_sobre_el_borde_da_una_alerta_por_cruce_real(efectivo):
    """GPS jitter of ±8 m around the east border (at +100 m) never flips state with 15 m of
    hysteresis; only the two real crossings (well inside, then well outside) alert."""
    GeocercaFactory(tipo=TipoGeocerca.CONTROL, geom=cuadrado(lado_m=LADO), histeresis_m=15)
    track = [150, 60]  # outside, then clearly inside: real entry
    track += [100 + d for d in (8, -8, 7, -6, 8, -8, 5, -7, 8, -8)]  # jitter on the border
    track += [160]  # clearly outside: real exit
    track += [100 + d for d in (-8, 8, -5, 6, -8)]  # jitter again: no alert
    registrar(*(lectura(efectivo, x, i * 10, precision=4) for i, x in enumerate(track)))
    assert tipos(efectivo) == ["entrada", "salida"]


def test_la_precision_amplia_el_margen_de_histeresis(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=LADO), histeresis_m=5)
    # 30 m inside, but the fix is only good to 50 m: not enough to call it an entry.
    registrar(lectura(efectivo, 70, 0, precision=50))
    assert tipos(efectivo) == []
    registrar(lectura(efectivo, 70, 10, precision=5))
    assert tipos(efectivo) == ["entrada"]


def test_lecturas_del_lote_se_evaluan_en_orden_de_hora_del_equipo(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.CONTROL, geom=cuadrado(lado_m=LADO))
    # Sent out of order: by device time the efectivo goes out -> in -> out.
    registrar(lectura(efectivo, 400, 30), lectura(efectivo, 0, 20), lectura(efectivo, 400, 10))
    alertas = list(Alerta.objects.filter(efectivo=efectivo).order_by("id"))
    assert [a.tipo for a in alertas] == ["entrada", "salida"]
    assert [a.ocurrida_en for a in alertas] == [T0 + timedelta(seconds=20), T0 + timedelta(seconds=30)]


def test_una_lectura_tardia_se_guarda_pero_no_cambia_el_estado(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.CONTROL, geom=cuadrado(lado_m=LADO))
    registrar(lectura(efectivo, 400, 100))
    resultado = registrar(lectura(efectivo, 0, 50))  # older than what was already evaluated
    assert resultado.aceptadas == 1
    assert tipos(efectivo) == []
    efectivo.refresh_from_db()
    assert efectivo.ultima_posicion_en == T0 + timedelta(seconds=100)
    assert efectivo.posiciones.count() == 2


def test_una_lectura_duplicada_no_se_evalua_dos_veces(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.CONTROL, geom=cuadrado(lado_m=LADO))
    dentro = lectura(efectivo, 0, 10)
    registrar(lectura(efectivo, 400, 0), dentro)
    resultado = registrar(dentro)
    assert (resultado.aceptadas, resultado.duplicadas) == (0, 1)
    assert tipos(efectivo) == ["entrada"]


def test_permanencia_alerta_una_vez_por_estadia(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.PERIMETRO, geom=cuadrado(lado_m=LADO), permanencia_min_s=60)
    registrar(*(lectura(efectivo, 0, t) for t in (0, 30, 61, 90, 200)))
    assert tipos(efectivo) == ["permanencia"]
    registrar(lectura(efectivo, 400, 300), lectura(efectivo, 0, 310), lectura(efectivo, 0, 400))
    # A second stay fires again, counted on the open dwell alert.
    assert tipos(efectivo) == ["permanencia", "salida"]
    assert Alerta.objects.get(efectivo=efectivo, tipo="permanencia").repeticiones == 2


def test_permanencia_sin_nuevas_lecturas_la_detecta_la_tarea_periodica(efectivo, django_assert_max_num_queries):
    GeocercaFactory(tipo=TipoGeocerca.PERIMETRO, geom=cuadrado(lado_m=LADO), permanencia_min_s=120)
    otros = EfectivoFactory.create_batch(3, ultima_posicion_en=None)
    registrar(*(lectura(e, 0, 0) for e in [efectivo, *otros]))
    assert services.permanencias_verificar(ahora=T0 + timedelta(seconds=60)) == []
    with django_assert_max_num_queries(9):  # four stays; one UPDATE per stay made it 12
        alertas = services.permanencias_verificar(ahora=T0 + timedelta(seconds=121))
    assert sorted((a.tipo, a.efectivo_id) for a in alertas) == sorted(("permanencia", e.pk) for e in [efectivo, *otros])
    assert services.permanencias_verificar(ahora=T0 + timedelta(seconds=500)) == []
    assert tipos(efectivo) == ["permanencia"]


def test_geocerca_inactiva_se_ignora(efectivo):
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=LADO), activa=False)
    registrar(lectura(efectivo, 400, 0), lectura(efectivo, 0, 10))
    assert tipos(efectivo) == []


def test_geocerca_de_otra_unidad_no_aplica(efectivo):
    cerca = GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=LADO))
    cerca.unidades.set([UnidadFactory()])
    propia = GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=LADO * 2))
    propia.unidades.set([efectivo.unidad])
    registrar(lectura(efectivo, 400, 0), lectura(efectivo, 0, 10))
    assert list(Alerta.objects.values_list("geocerca_id", flat=True)) == [propia.pk]


def test_varias_geocercas_superpuestas_en_una_sola_evaluacion(efectivo, django_assert_max_num_queries):
    for lado in (100, 200, 400):
        GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=lado))
    registrar(lectura(efectivo, 1000, 0))  # a minute's drive away
    with django_assert_max_num_queries(12):
        resultado = registrar(lectura(efectivo, 0, 60))
    assert len(resultado.alertas) == 3


def test_la_alerta_se_publica_como_evento_para_mando_y_efectivo(efectivo):
    cerca = GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=LADO), severidad="critica")
    registrar(lectura(efectivo, 400, 0))
    desde = Evento.objects.order_by("-id").values_list("id", flat=True).first()
    resultado = registrar(lectura(efectivo, 0, 10))
    (evento,) = Evento.objects.filter(id__gt=desde, tipo="alerta.geocerca")
    assert evento.datos["alerta_id"] == resultado.alertas[0].id
    assert evento.datos["geocerca_id"] == cerca.pk
    assert evento.datos["severidad"] == "critica"
    assert evento.datos["tipo"] == "entrada"
    assert sorted(evento.audiencia) == sorted(
        ["rol.administrador", f"unidad.{efectivo.unidad_id}", f"efectivo.{efectivo.pk}"]
    )


def test_las_alertas_solo_se_publican_tras_el_commit(efectivo, django_capture_on_commit_callbacks):
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=LADO))
    with django_capture_on_commit_callbacks() as callbacks:
        registrar(lectura(efectivo, 400, 0), lectura(efectivo, 0, 10))
    # Positions and alerts are recorded together, and reach the fast path in one send after commit.
    assert len(callbacks) == 1
    assert list(Evento.objects.order_by("id").values_list("tipo", flat=True)) == [
        "posicion.actualizada",
        "alerta.geocerca",
    ]


def _al_instante(x: float) -> datetime:
    return T0 + timedelta(seconds=x)


def test_una_precision_enorme_no_evade_una_zona_restringida(efectivo, settings):
    """A reading claiming 100 km of error used to widen the hysteresis margin past the fence:
    three readings in the middle of a restricted zone raised nothing."""
    settings.PRECISION_DECIDIR_M = 50
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=LADO))
    registrar(lectura(efectivo, 500, 0, precision=100_000))
    resultado = registrar(lectura(efectivo, 0, 10, precision=100_000), lectura(efectivo, 5, 20, precision=100_000))
    assert [a.tipo for a in resultado.alertas] == ["entrada"]
    assert resultado.imprecisas == [0, 1]


def test_una_lectura_imprecisa_nunca_cuenta_como_salida(efectivo, settings):
    settings.PRECISION_DECIDIR_M = 50
    GeocercaFactory(tipo=TipoGeocerca.PERIMETRO, geom=cuadrado(lado_m=LADO))
    registrar(lectura(efectivo, 0, 0))  # inside the perimeter
    resultado = registrar(lectura(efectivo, 500, 10, precision=800))  # "outside", but ±800 m
    assert resultado.alertas == [] and resultado.imprecisas == [0]
    assert Presencia.objects.get(efectivo=efectivo).dentro is True
    assert [a.tipo for a in registrar(lectura(efectivo, 500, 20, precision=10)).alertas] == ["salida"]


def test_las_lecturas_imprecisas_se_cuentan_en_una_metrica(efectivo, settings):
    from posiciones import metrics

    settings.PRECISION_DECIDIR_M = 50
    antes = metrics.IMPRECISAS.labels(fuente="api")._value.get()
    registrar(lectura(efectivo, 0, 0, precision=51), lectura(efectivo, 1, 5, precision=50))
    assert metrics.IMPRECISAS.labels(fuente="api")._value.get() == antes + 1
