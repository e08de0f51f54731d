"""Devices from the commander's panel: created with the QR that configures the phone (its
payload read back the way each app reads it), listed, revoked, asked for a position."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from efectivos.models import Dispositivo
from efectivos.services import credencial_hash
from gad_project.qr import qr_svg
from tests.conftest import cliente_jwt

pytestmark = pytest.mark.django_db


def _crear(api, efectivo, tipo: str, etiqueta: str = "Moto G") -> dict:
    r = api.post(f"/api/v1/efectivos/{efectivo.pk}/dispositivos/", {"tipo": tipo, "etiqueta": etiqueta}, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def test_el_qr_de_traccar_configura_la_app_como_ella_lo_lee(comandante_a, efectivo, settings):
    settings.GAD_URL_PUBLICA = "https://gad.example.gob.ar"
    nuevo = _crear(cliente_jwt(comandante_a), efectivo, "traccar")
    enlace = urlsplit(nuevo["enlace"])
    # traccar-client ConfigurationService.applyUri: an http(s) link's origin + path is the server URL
    assert f"{enlace.scheme}://{enlace.netloc}{enlace.path}" == "https://gad.example.gob.ar/ingreso/osmand/"
    q = {k: v[0] for k, v in parse_qs(enlace.query).items()}
    assert q["interval"] == "30" and q["distance"] == "30" and q["accuracy"] == "high"
    assert q["heartbeat"] == "300"  # half of SIN_REPORTE_MIN (10 min): a still officer stays in contact
    assert q["buffer"] == "true" and q["service"] == "true" and q["stop_detection"] == "true"
    dispositivo = Dispositivo.objects.get(pk=nuevo["dispositivo"]["id"])
    assert len(q["id"]) >= 26 and dispositivo.credencial_hash == credencial_hash(q["id"])  # stored hashed only
    assert q["id"] not in json.dumps(nuevo["dispositivo"])
    assert nuevo["qr_svg"] == qr_svg(nuevo["enlace"]) and nuevo["qr_svg"].startswith("<svg")
    assert nuevo["config"]["id"] == q["id"] and nuevo["config"]["url"] == "https://gad.example.gob.ar/ingreso/osmand/"
    assert dispositivo.creado_por == comandante_a and dispositivo.etiqueta == "Moto G"


def test_el_qr_de_owntracks_es_su_configuracion_en_linea(comandante_a, efectivo):
    nuevo = _crear(cliente_jwt(comandante_a), efectivo, "owntracks")
    assert nuevo["enlace"].startswith("owntracks:///config?inline=")
    config = json.loads(base64.b64decode(nuevo["enlace"].split("inline=", 1)[1]))
    assert config["_type"] == "configuration" and config["mode"] == 3 and config["auth"] is True
    assert config["url"] == "http://testserver/ingreso/owntracks/"
    assert config["monitoring"] == 2 and config["locatorInterval"] == 30 and config["locatorDisplacement"] == 30
    dispositivo = Dispositivo.objects.get(pk=nuevo["dispositivo"]["id"])
    assert config["username"] == dispositivo.usuario == nuevo["dispositivo"]["usuario"]
    assert dispositivo.credencial_hash == credencial_hash(config["password"]) and len(config["password"]) >= 22
    assert len(config["tid"]) == 2


def test_la_lista_muestra_el_estado_y_la_bateria_y_nunca_el_secreto(comandante_a, efectivo, settings):
    api = cliente_jwt(comandante_a)
    _crear(api, efectivo, "traccar")
    d = Dispositivo.objects.get()
    Dispositivo.objects.filter(pk=d.pk).update(bateria_pct=12, cargando=False)
    (fila,) = api.get(f"/api/v1/efectivos/{efectivo.pk}/dispositivos/").json()
    assert fila["estado"] == "nunca" and fila["bateria_baja"] is True and fila["bateria_pct"] == 12
    assert "credencial_hash" not in fila
    r = api.post(f"/api/v1/dispositivos/{d.pk}/revocar/")
    assert r.status_code == 200 and r.json()["estado"] == "revocado"


def test_otra_unidad_no_ve_ni_gestiona_los_equipos(comandante_b, comandante_a, efectivo):
    _crear(cliente_jwt(comandante_a), efectivo, "owntracks")
    d = Dispositivo.objects.get()
    otra = cliente_jwt(comandante_b)
    assert otra.get(f"/api/v1/efectivos/{efectivo.pk}/dispositivos/").status_code == 404
    assert (
        otra.post(f"/api/v1/efectivos/{efectivo.pk}/dispositivos/", {"tipo": "traccar"}, format="json").status_code
        == 404
    )
    assert otra.post(f"/api/v1/dispositivos/{d.pk}/revocar/").status_code == 404
    assert otra.post(f"/api/v1/dispositivos/{d.pk}/pedir-ubicacion/").status_code == 404
    d.refresh_from_db()
    assert d.revocado_en is None and d.ubicacion_pedida_en is None


def test_un_efectivo_no_da_de_alta_equipos(efectivo):
    r = cliente_jwt(efectivo.usuario).post(
        f"/api/v1/efectivos/{efectivo.pk}/dispositivos/", {"tipo": "traccar"}, format="json"
    )
    assert r.status_code == 403 and not Dispositivo.objects.exists()


@pytest.mark.parametrize("cuerpo", [{}, {"tipo": "gpslogger"}, {"tipo": "traccar", "etiqueta": "x" * 81}])
def test_una_alta_mal_formada_es_400(comandante_a, efectivo, cuerpo):
    r = cliente_jwt(comandante_a).post(f"/api/v1/efectivos/{efectivo.pk}/dispositivos/", cuerpo, format="json")
    assert r.status_code == 400 and not Dispositivo.objects.exists()


def test_pedir_la_ubicacion_solo_a_owntracks(comandante_a, efectivo):
    api = cliente_jwt(comandante_a)
    traccar = _crear(api, efectivo, "traccar")["dispositivo"]["id"]
    owntracks = _crear(api, efectivo, "owntracks")["dispositivo"]["id"]
    assert api.post(f"/api/v1/dispositivos/{traccar}/pedir-ubicacion/").status_code == 409
    r = api.post(f"/api/v1/dispositivos/{owntracks}/pedir-ubicacion/")
    assert r.status_code == 200 and r.json()["ubicacion_pedida_en"] is not None
