"""Implausible readings (an impossible speed from the last accepted fix): stored, flagged, used for
nothing, shown in the track; a real jump confirmed by a consistent track of readings is accepted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from efectivos.models import Efectivo, Posicion
from geocercas.models import Alerta, TipoGeocerca
from posiciones.plausibilidad import Apartadas, Fix, implausibles, velocidad_kmh
from tests.factories import CENTRO, EfectivoFactory, GeocercaFactory, cuadrado, desplazar

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RETIRO = (-58.3747, -34.5911)
AEROPARQUE = (-58.4156, -34.5580)  # ~5 km from Retiro


def fix(lon_lat: tuple[float, float], segundos: float, precision: float | None = 5.0) -> Fix:
    return Fix(lon_lat[0], lon_lat[1], T0 + timedelta(seconds=segundos), precision)


def norte(metros: float) -> tuple[float, float]:
    return desplazar(*CENTRO, norte_m=metros)


# --- the rule, pure --------------------------------------------------------------------------------


def test_velocidad_geodesica_descontando_la_imprecision():
    assert velocidad_kmh(fix(norte(0), 0, None), fix(norte(1000), 36, None)) == pytest.approx(100, rel=0.01)
    # 60 m apart in the same second, each fix good to 30 m: nothing proves a move at all.
    assert velocidad_kmh(fix(norte(0), 0, 30), fix(norte(60), 0, 30)) == pytest.approx(0, abs=0.5)
    # Same second counts as one: 20 m of jitter is 72 km/h, not infinite.
    assert velocidad_kmh(fix(norte(0), 0, None), fix(norte(20), 0, None)) == pytest.approx(72, rel=0.01)


def revisar(aceptada, lecturas, apartadas=None, maximo_kmh=250, n=3, segundos=30):
    return implausibles(
        aceptada=aceptada,
        apartadas=apartadas,
        lecturas=lecturas,
        maximo_kmh=maximo_kmh,
        confirmar_n=n,
        confirmar=timedelta(seconds=segundos),
    )


def test_un_salto_suelto_se_descarta_y_la_siguiente_buena_sigue_el_recorrido():
    marcas, queda = revisar(fix(RETIRO, 0), [fix(AEROPARQUE, 1), fix(desplazar(*RETIRO, norte_m=50), 10)])
    assert marcas == [True, False]
    assert queda is None


def test_un_salto_real_lo_confirma_un_recorrido_coherente_no_una_lectura_mas():
    cerca = [fix(desplazar(*AEROPARQUE, este_m=20 * i), 60 + 15 * i) for i in range(4)]
    marcas, queda = revisar(fix(RETIRO, 0), [cerca[0]])
    assert (marcas, queda) == ([True], Apartadas(cerca[0], cerca[0].en, 1))
    # Across calls (the next requests): a second consistent reading is not yet enough...
    marcas, queda = revisar(fix(RETIRO, 0), [cerca[1]], apartadas=queda)
    assert (marcas, queda) == ([True], Apartadas(cerca[1], cerca[0].en, 2))
    # ...the third, 30 s after the first, is: the efectivo really is there.
    marcas, queda = revisar(fix(RETIRO, 0), [cerca[2]], apartadas=queda)
    assert (marcas, queda) == ([False], None)
    # Three readings within 2 s are not yet a track: the span counts too.
    rapidas = [fix(desplazar(*AEROPARQUE, este_m=i), 60 + i) for i in range(3)]
    assert revisar(fix(RETIRO, 0), rapidas)[0] == [True, True, True]
    # At 30 km/h, 5 km in 7 minutes is still too fast from Retiro: a reading consistent with the
    # set-aside track but 6 minutes after it starts a new track.
    tarde = fix(desplazar(*AEROPARQUE, este_m=100), 60 + 6 * 60)
    marcas, queda = revisar(fix(RETIRO, 0), [tarde], apartadas=Apartadas(cerca[1], cerca[0].en, 2), maximo_kmh=30)
    assert (marcas, queda) == ([True], Apartadas(tarde, tarde.en, 1))
    # So does one that is itself a jump from the set-aside reading (3 km further on, a second later).
    lejos = fix(desplazar(*AEROPARQUE, norte_m=3000), 76)
    marcas, queda = revisar(fix(RETIRO, 0), [lejos], apartadas=Apartadas(cerca[1], cerca[0].en, 2))
    assert (marcas, queda) == ([True], Apartadas(lejos, lejos.en, 1))


def test_el_ir_y_venir_entre_dos_lugares_nunca_mueve_al_efectivo():
    """Multipath flapping: two fixes at the true place A, two at B 2 km away, 5 s apart, over and
    over. Each return to A drops B's track, so B is never confirmed."""
    lejos = desplazar(*RETIRO, este_m=2000)
    lecturas = [fix(RETIRO if (i // 2) % 2 == 0 else lejos, 5 * i) for i in range(1, 41)]
    marcas, queda = revisar(fix(RETIRO, 0), lecturas)
    assert marcas == [(i // 2) % 2 == 1 for i in range(1, 41)]
    assert queda is None  # the last two were at A


def test_sin_posicion_previa_todo_es_plausible():
    marcas, _ = revisar(None, [fix(RETIRO, 0)])
    assert marcas == [False]


# --- through the ingest -----------------------------------------------------------------------------


def _lectura(lon_lat: tuple[float, float], segundos: float) -> dict:
    return {
        "id_cliente": str(uuid.uuid4()),
        "lat": lon_lat[1],
        "lon": lon_lat[0],
        "registrada_en": (timezone.now() - timedelta(minutes=5) + timedelta(seconds=segundos)).isoformat(),
        "precision_m": 5,
    }


@pytest.mark.django_db
def test_la_ingesta_guarda_marca_y_no_usa_la_lectura_imposible(api, comandante_a, efectivo):
    """The case seen in the demo: "Salida Estación Retiro" and "Entrada Aeroparque" in one second."""
    retiro = GeocercaFactory(nombre="Retiro", tipo=TipoGeocerca.CONTROL, geom=cuadrado(lado_m=300, centro=RETIRO))
    GeocercaFactory(nombre="Aeroparque", tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=300, centro=AEROPARQUE))
    Efectivo.objects.filter(pk=efectivo.pk).update(ultima_posicion=None, ultima_posicion_en=None)
    cliente = api(efectivo.usuario)
    assert cliente.post("/api/v1/posiciones/", _lectura(RETIRO, 0), format="json").status_code == 201
    [en_retiro] = Alerta.objects.all()
    assert (en_retiro.geocerca, en_retiro.tipo) == (retiro, "entrada")

    r = cliente.post("/api/v1/posiciones/", _lectura(AEROPARQUE, 1), format="json")
    assert r.status_code == 201
    assert r.json() == {"aceptadas": 1, "duplicadas": 0, "fuera_de_servicio": 0, "implausibles": 1, "imprecisas": 0}
    assert Alerta.objects.count() == 1  # no exit from Retiro, no entry to Aeroparque
    efectivo.refresh_from_db()
    assert efectivo.ultima_posicion.x == pytest.approx(RETIRO[0])  # the last position did not jump
    assert Posicion.objects.filter(efectivo=efectivo, implausible=True).count() == 1

    # A spike in a batch among good readings: only it is flagged.
    lote = [_lectura(desplazar(*RETIRO, norte_m=20), 10), _lectura(AEROPARQUE, 11), _lectura(RETIRO, 20)]
    assert cliente.post("/api/v1/posiciones/", lote, format="json").json()["implausibles"] == 1
    assert Alerta.objects.count() == 1

    # The commander's track shows both flagged readings, apart from the line.
    puntos = api(comandante_a).get(f"/api/v1/efectivos/{efectivo.pk}/recorrido/?motivo=supervision").json()["puntos"]
    assert [p[3] for p in puntos] == [False, True, False, True, False]
    assert puntos[1][:2] == [round(AEROPARQUE[0], 6), round(AEROPARQUE[1], 6)]


@pytest.mark.django_db
def test_un_traslado_real_se_acepta_al_confirmarse_y_entonces_dispara_las_geocercas(api, efectivo, settings):
    settings.VELOCIDAD_MAX_KMH = 150
    GeocercaFactory(nombre="Aeroparque", tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=300, centro=AEROPARQUE))
    Efectivo.objects.filter(pk=efectivo.pk).update(ultima_posicion=None, ultima_posicion_en=None)
    cliente = api(efectivo.usuario)
    cliente.post("/api/v1/posiciones/", _lectura(RETIRO, 0), format="json")
    # 5 km in 60 s is 300 km/h: set aside...
    assert cliente.post("/api/v1/posiciones/", _lectura(AEROPARQUE, 60), format="json").json()["implausibles"] == 1
    assert not Alerta.objects.exists()
    # ...and so is the next that agrees with it: one more fix proves nothing...
    siguiente = _lectura(desplazar(*AEROPARQUE, norte_m=30), 75)
    assert cliente.post("/api/v1/posiciones/", siguiente, format="json").json()["implausibles"] == 1
    assert not Alerta.objects.exists()
    # ...a third, half a minute after the first, makes a track: the efectivo really is there.
    siguiente = _lectura(desplazar(*AEROPARQUE, norte_m=40), 90)
    assert cliente.post("/api/v1/posiciones/", siguiente, format="json").json()["implausibles"] == 0
    assert list(Alerta.objects.values_list("geocerca__nombre", "tipo")) == [("Aeroparque", "entrada")]
    efectivo.refresh_from_db()
    assert efectivo.ultima_posicion.y == pytest.approx(siguiente["lat"])
    assert (efectivo.descartada_en, efectivo.descartadas_n) == (None, 0)


@pytest.mark.django_db
def test_muchos_efectivos_en_un_lote_cada_uno_contra_su_propia_posicion(api, admin):
    efectivos = EfectivoFactory.create_batch(3, ultima_posicion_en=None)
    cliente = api(admin)
    lote = [{**_lectura(RETIRO, 0), "efectivo": e.pk} for e in efectivos]
    cliente.post("/api/v1/posiciones/", lote, format="json")
    saltos = [{**_lectura(AEROPARQUE if i == 1 else RETIRO, 2), "efectivo": e.pk} for i, e in enumerate(efectivos)]
    assert cliente.post("/api/v1/posiciones/", saltos, format="json").json()["implausibles"] == 1
    marcadas = set(Posicion.objects.filter(implausible=True).values_list("efectivo_id", flat=True))
    assert marcadas == {efectivos[1].pk}
