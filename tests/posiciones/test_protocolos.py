"""The tracker apps' wire formats, byte for byte as the apps send them (posiciones.protocolos)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from posiciones.protocolos import (
    FormatoInvalido,
    hora_osmand,
    id_cliente,
    osmand_leer,
    owntracks_leer,
)

# Traccar Client 10 (traccar-client-sdk HttpUploader.submitForm): a form, one position, speed in
# knots rounded to 2 decimals, battery and charging as Kotlin prints them.
FORMA_V10 = (
    b"id=gad-secreto&lat=-34.6037&lon=-58.3816&timestamp=1796090400&accuracy=8.0&altitude=25.0"
    b"&speed=10.8&bearing=90.0&batt=76.0&charge=true&battery_health=good&battery_temp=31.0"
)

# Traccar Client 9 (Transistor's flutter_background_geolocation template): a JSON object.
JSON_V9 = json.dumps(
    {
        "location": {
            "timestamp": "2026-12-01T02:00:00.000Z",
            "coords": {
                "latitude": -34.6037,
                "longitude": -58.3816,
                "accuracy": 8,
                "speed": 5.0,
                "heading": 180,
                "altitude": 25,
            },
            "is_moving": True,
            "odometer": 1200,
            "battery": {"level": 0.42, "is_charging": False},
            "activity": {"type": "walking"},
            "extras": {},
            "_": "&id=gad-secreto&lat=-34.6037&lon=-58.3816&timestamp=2026-12-01T02:00:00.000Z&",
        },
        "device_id": "gad-secreto",
    }
).encode()


def test_traccar_10_envia_un_formulario_con_la_velocidad_en_nudos():
    (r,) = osmand_leer(b"", FORMA_V10, b"application/x-www-form-urlencoded")
    assert r.credencial == "gad-secreto"
    assert r.lectura is not None
    assert r.lectura["lat"] == -34.6037 and r.lectura["lon"] == -58.3816
    assert r.lectura["registrada_en"] == datetime(2026, 12, 1, 2, 0, tzinfo=UTC).isoformat()
    assert math.isclose(r.lectura["velocidad_kmh"], 10.8 * 1.852)
    assert r.lectura["precision_m"] == 8.0 and r.lectura["rumbo"] == 90.0
    assert r.bateria_pct == 76.0 and r.cargando is True and r.alarma is None


def test_traccar_9_envia_json_con_la_velocidad_en_metros_por_segundo_y_la_bateria_de_0_a_1():
    (r,) = osmand_leer(b"", JSON_V9, b"application/json")
    assert r.credencial == "gad-secreto"
    assert r.lectura is not None
    assert math.isclose(r.lectura["velocidad_kmh"], 18.0)
    assert r.lectura["rumbo"] == 180 and r.lectura["precision_m"] == 8
    assert r.lectura["registrada_en"] == datetime(2026, 12, 1, 2, 0, tzinfo=UTC).isoformat()
    assert math.isclose(r.bateria_pct or 0, 42.0) and r.cargando is False


def test_la_consulta_de_la_url_y_la_lista_json_del_sdk_tambien_se_leen():
    (r,) = osmand_leer(b"id=abc&lat=-34.6&lon=-58.4&timestamp=1796090400&alarm=sos", b"", None)
    assert r.credencial == "abc" and r.alarma == "sos" and r.lectura is not None
    lista = json.dumps(
        [
            {"id": "abc", "lat": -34.6, "lon": -58.4, "timestamp": 1796090400, "speed": 0.0, "batt": 50},
            {"id": "abc", "lat": -34.61, "lon": -58.41, "timestamp": 1796090430, "charge": False},
        ]
    ).encode()
    primera, segunda = osmand_leer(b"", lista, b"application/json")
    assert primera.lectura and primera.lectura["velocidad_kmh"] == 0.0 and primera.bateria_pct == 50
    assert segunda.lectura and segunda.lectura["lat"] == -34.61 and segunda.cargando is False


@pytest.mark.parametrize(
    ("valor", "esperada"),
    [
        ("1796090400", datetime(2026, 12, 1, 2, 0, tzinfo=UTC)),  # seconds
        ("1796090400000", datetime(2026, 12, 1, 2, 0, tzinfo=UTC)),  # milliseconds
        ("2026-12-01T02:00:00Z", datetime(2026, 12, 1, 2, 0, tzinfo=UTC)),
        ("2026-12-01T02:00:00.000Z", datetime(2026, 12, 1, 2, 0, tzinfo=UTC)),
        ("2026-11-30T23:00:00-03:00", datetime(2026, 12, 1, 2, 0, tzinfo=UTC)),
        ("2026-12-01 02:00:00", datetime(2026, 12, 1, 2, 0, tzinfo=UTC)),  # UTC, as Traccar reads it
        (1796090400, datetime(2026, 12, 1, 2, 0, tzinfo=UTC)),
    ],
)
def test_la_hora_de_traccar_en_segundos_milisegundos_o_iso(valor, esperada):
    assert datetime.fromisoformat(hora_osmand(valor) or "") == esperada


@pytest.mark.parametrize("valor", ["ayer", "", "1e400", "nan", "2026-13-01 02:00:00", True, None])
def test_una_hora_ilegible_no_es_una_hora(valor):
    assert hora_osmand(valor) is None


def test_sin_posicion_o_con_numeros_que_no_lo_son():
    (r,) = osmand_leer(b"id=abc&timestamp=1796090400", b"", None)
    assert r.lectura is None and r.motivo == "sin posición"
    (r,) = osmand_leer(b"id=abc&lat=0&lon=0&timestamp=1796090400", b"", None)
    assert r.lectura is None and "(0, 0)" in r.motivo
    (r,) = osmand_leer(b"id=abc&lat=NaN&lon=-58&timestamp=1796090400", b"", None)
    assert r.lectura is not None and math.isnan(r.lectura["lat"])  # named invalid by the validation
    (r,) = osmand_leer(b"id=abc&lat=-34&lon=-58&timestamp=nunca", b"", None)
    assert r.lectura is None and r.motivo == "hora ilegible"


@pytest.mark.parametrize("cuerpo", [b"{no es json", b"[1, 2]", b'"texto"', b'{"location": 3}', b"   "])
def test_un_cuerpo_que_no_es_el_protocolo_es_formato_invalido(cuerpo):
    with pytest.raises(FormatoInvalido):
        osmand_leer(b"", cuerpo, b"application/json")


def test_owntracks_solo_lee_location_e_ignora_lo_demas():
    cuerpo = json.dumps(
        {
            "_type": "location",
            "lat": -34.6037,
            "lon": -58.3816,
            "tst": 1796090400,
            "acc": 12,
            "alt": 25,
            "vel": 36,
            "cog": 270,
            "batt": 15,
            "bs": 2,
            "tid": "GA",
            "t": "u",
            "conn": "m",
        }
    ).encode()
    r = owntracks_leer(cuerpo)
    assert r is not None and r.lectura is not None and r.credencial is None
    assert r.lectura["velocidad_kmh"] == 36 and r.lectura["rumbo"] == 270 and r.lectura["precision_m"] == 12
    assert r.bateria_pct == 15 and r.cargando is True
    assert owntracks_leer(b"") is None
    assert owntracks_leer(json.dumps({"_type": "transition", "event": "enter"}).encode()) is None
    assert owntracks_leer(json.dumps({"_type": "lwt", "tst": 1}).encode()) is None
    sin_hora = owntracks_leer(json.dumps({"_type": "location", "lat": 1, "lon": 1}).encode())
    assert sin_hora is not None and sin_hora.lectura is None and sin_hora.motivo == "hora ilegible"
    with pytest.raises(FormatoInvalido):
        owntracks_leer(b"[]")


def test_el_id_de_la_lectura_sale_del_dispositivo_y_la_hora():
    hora = datetime(2026, 12, 1, 2, 0, tzinfo=UTC).isoformat()
    assert id_cliente(7, hora) == id_cliente(7, hora)
    assert id_cliente(7, hora) != id_cliente(8, hora)
    assert id_cliente(7, hora) != id_cliente(7, datetime(2026, 12, 1, 2, 0, 1, tzinfo=UTC).isoformat())
