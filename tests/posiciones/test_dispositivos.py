"""Traccar Client and OwnTracks on the real HTTP server of `make run` (uvicorn, two worker
processes, the shared Redis): each protocol as the apps speak it, through the one ingest."""

from __future__ import annotations

import asyncio
import base64
import time
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest
from django.utils import timezone

from auditoria.models import Registro
from efectivos.models import EstadoEfectivo, Posicion, TipoDispositivo
from efectivos.services import dispositivo_crear, dispositivo_revocar, dispositivo_ubicacion_pedir
from geocercas.models import Alerta
from seguridad.models import Sos
from tareas.models import Asignacion
from tests.factories import CENTRO, EfectivoFactory, GeocercaFactory, cuadrado, desplazar
from tests.vivo import uvicorn

pytestmark = pytest.mark.django_db(transaction=True)
OSMAND = "/ingreso/osmand/"
OWNTRACKS = "/ingreso/owntracks/"


@pytest.fixture(scope="module")
def servidor(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), uvicorn() as url:
        yield url


@pytest.fixture
def efectivo(efectivo):
    """The conftest's efectivo, with no fix yet: a phone's first reading becomes their position."""
    efectivo.ultima_posicion = None
    efectivo.ultima_posicion_en = None
    efectivo.save()
    return efectivo


def _forma(secreto: str, *, segundos_atras: float = 5, **cambios) -> bytes:
    """Traccar Client 10's form, field order and formatting as its SDK writes them."""
    lon, lat = CENTRO
    campos = {
        "id": secreto,
        "lat": str(lat),
        "lon": str(lon),
        "timestamp": str(int(time.time() - segundos_atras)),
        "accuracy": "8.0",
        "altitude": "25.0",
        "speed": "10.8",
        "bearing": "90.0",
        "batt": "76.0",
        "charge": "true",
    }
    campos.update({k: str(v) for k, v in cambios.items()})
    return urlencode({k: v for k, v in campos.items() if v != "None"}).encode()


def _post_forma(servidor: str, cuerpo: bytes) -> httpx.Response:
    return httpx.post(
        f"{servidor}{OSMAND}",
        content=cuerpo,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=15,
    )


def _basic(usuario: str, clave: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{usuario}:{clave}".encode()).decode()}


def _ubicacion_owntracks(**cambios) -> dict:
    lon, lat = CENTRO
    return {
        "_type": "location",
        "lat": lat,
        "lon": lon,
        "tst": int(time.time()) - 5,
        "acc": 12,
        "vel": 36,
        "cog": 270,
        "batt": 15,
        "bs": 1,
        "tid": "GA",
        "t": "u",
        **cambios,
    }


def test_traccar_client_10_guarda_su_lectura_una_vez_y_actualiza_el_dispositivo(servidor, efectivo, admin):
    dispositivo, secreto = dispositivo_crear(efectivo=efectivo, tipo=TipoDispositivo.TRACCAR, creado_por=admin)
    cuerpo = _forma(secreto)
    r = _post_forma(servidor, cuerpo)
    assert r.status_code == 200 and r.content == b""
    assert _post_forma(servidor, cuerpo).status_code == 200  # the buffer resent after a lost answer
    (p,) = Posicion.objects.filter(efectivo=efectivo)
    assert p.fuente == "traccar"
    assert p.velocidad_kmh == pytest.approx(10.8 * 1.852) and p.rumbo == 90.0 and p.precision_m == 8.0
    dispositivo.refresh_from_db()
    assert dispositivo.bateria_pct == 76.0 and dispositivo.cargando is True
    assert dispositivo.ultima_lectura_en == p.registrada_en
    assert timezone.now() - dispositivo.ultimo_contacto_en < timedelta(seconds=30)
    efectivo.refresh_from_db()
    assert efectivo.ultima_posicion_en == p.registrada_en


def test_traccar_9_json_y_la_consulta_por_get_tambien_entran(servidor, efectivo, admin):
    _, secreto = dispositivo_crear(efectivo=efectivo, tipo=TipoDispositivo.TRACCAR, creado_por=admin)
    lon, lat = CENTRO
    hora = (timezone.now() - timedelta(seconds=20)).isoformat()
    v9 = {
        "location": {
            "timestamp": hora,
            "coords": {"latitude": lat, "longitude": lon, "accuracy": 5, "speed": 2.0, "heading": 10},
            "battery": {"level": 0.5, "is_charging": False},
            "extras": {},
        },
        "device_id": secreto,
    }
    assert httpx.post(f"{servidor}{OSMAND}", json=v9, timeout=15).status_code == 200
    consulta = _forma(secreto, segundos_atras=10).decode()
    assert httpx.get(f"{servidor}{OSMAND}?{consulta}", timeout=15).status_code == 200
    velocidades = sorted(Posicion.objects.filter(efectivo=efectivo).values_list("velocidad_kmh", flat=True))
    assert velocidades == pytest.approx([7.2, 10.8 * 1.852])


@pytest.mark.parametrize("id_", [None, "", "gad-no-existe", "x" * 300])
def test_un_id_desconocido_o_ausente_es_401_sin_decir_si_existe(servidor, efectivo, id_):
    r = _post_forma(servidor, _forma(id_) if id_ is not None else _forma("x", id=None))
    assert r.status_code == 401
    assert r.json()["error"]["codigo"] == "autenticacion_fallida"
    assert r.json()["error"]["mensaje"] == "Dispositivo no reconocido."  # the same whatever the id
    assert Posicion.objects.count() == 0


@pytest.mark.parametrize(
    ("cambios", "motivo"),
    [
        ({"lat": "95"}, "lat"),
        ({"lon": "NaN"}, "lon"),
        ({"timestamp": str(int(time.time()) - 5 * 86400)}, "registrada_en"),
        ({"timestamp": "mañana"}, "hora ilegible"),
        ({"accuracy": "-3"}, "precision_m"),
    ],
)
def test_una_lectura_imposible_se_acusa_200_no_se_guarda_y_queda_en_el_dispositivo(
    servidor, efectivo, admin, cambios, motivo
):
    dispositivo, secreto = dispositivo_crear(efectivo=efectivo, tipo=TipoDispositivo.TRACCAR, creado_por=admin)
    r = _post_forma(servidor, _forma(secreto, **cambios))
    assert r.status_code == 200  # the phone's queue moves on
    assert Posicion.objects.count() == 0
    dispositivo.refresh_from_db()
    assert motivo in dispositivo.ultimo_rechazo
    assert dispositivo.ultimo_rechazo_en is not None and dispositivo.ultimo_contacto_en is not None


def test_un_cuerpo_mayor_que_el_limite_es_413_antes_de_leerlo(servidor):
    r = httpx.post(
        f"{servidor}{OSMAND}",
        content=b"id=x&" + b"a" * (600 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=15,
    )
    assert r.status_code == 413 and r.json()["error"]["codigo"] == "cuerpo_demasiado_grande"


def test_revocar_o_desactivar_corta_al_dispositivo_en_cada_proceso_y_se_audita(servidor, efectivo, admin):
    dispositivo, secreto = dispositivo_crear(efectivo=efectivo, tipo=TipoDispositivo.TRACCAR, creado_por=admin)
    _, secreto_otro = dispositivo_crear(efectivo=efectivo, tipo=TipoDispositivo.TRACCAR, creado_por=admin)

    async def varios(secreto: str, n: int) -> list[int]:
        # Several concurrent requests, so both worker processes answer (and cache the device).
        async with httpx.AsyncClient(base_url=servidor, timeout=15) as c:
            rs = await asyncio.gather(
                *(
                    c.post(
                        OSMAND,
                        content=_forma(secreto, segundos_atras=60 - i),
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                    )
                    for i in range(n)
                )
            )
        return [r.status_code for r in rs]

    assert set(asyncio.run(varios(secreto, 12))) == {200}
    dispositivo_revocar(dispositivo=dispositivo)
    assert set(asyncio.run(varios(secreto, 12))) == {403}
    assert Registro.objects.filter(
        object_pk=str(dispositivo.pk), additional_data__lectura__startswith="envío rechazado"
    ).exists()
    # The other device of the same efectivo still reports, until their user is deactivated.
    assert set(asyncio.run(varios(secreto_otro, 6))) == {200}
    efectivo.usuario.is_active = False
    efectivo.usuario.save()
    assert set(asyncio.run(varios(secreto_otro, 6))) == {403}


def test_una_alarma_sos_levanta_el_sos_y_despacha_refuerzos(servidor, efectivo, admin, unidad_a):
    companeros = EfectivoFactory.create_batch(2, unidad=unidad_a, estado=EstadoEfectivo.DISPONIBLE)
    _, secreto = dispositivo_crear(efectivo=efectivo, tipo=TipoDispositivo.TRACCAR, creado_por=admin)
    assert _post_forma(servidor, _forma(secreto, alarm="sos")).status_code == 200
    sos = Sos.objects.get(efectivo=efectivo)
    assert sos.fuente == "equipo" and sos.punto is not None and sos.tarea_id is not None
    despachados = set(Asignacion.objects.filter(tarea_id=sos.tarea_id).values_list("efectivo_id", flat=True))
    assert despachados == {c.pk for c in companeros}


def test_owntracks_con_basic_responde_una_lista_y_pide_la_ubicacion_cuando_el_mando_la_pide(servidor, efectivo, admin):
    dispositivo, clave = dispositivo_crear(efectivo=efectivo, tipo=TipoDispositivo.OWNTRACKS, creado_por=admin)
    url = f"{servidor}{OWNTRACKS}"
    sin = httpx.post(url, json=_ubicacion_owntracks(), timeout=15)
    assert sin.status_code == 401 and sin.headers["www-authenticate"].startswith("Basic")
    mala = httpx.post(url, json=_ubicacion_owntracks(), headers=_basic(dispositivo.usuario, clave + "x"), timeout=15)
    assert mala.status_code == 401
    otro_usuario = httpx.post(url, json=_ubicacion_owntracks(), headers=_basic("gad-otro", clave), timeout=15)
    assert otro_usuario.status_code == 401
    auth = _basic(dispositivo.usuario, clave)
    r = httpx.post(url, json=_ubicacion_owntracks(), headers=auth, timeout=15)
    assert r.status_code == 200 and r.json() == []
    (p,) = Posicion.objects.filter(efectivo=efectivo)
    assert p.fuente == "owntracks" and p.velocidad_kmh == 36 and p.rumbo == 270
    # Other message types and empty bodies: acknowledged, nothing stored.
    assert httpx.post(url, json={"_type": "transition", "event": "enter"}, headers=auth, timeout=15).json() == []
    assert httpx.post(url, content=b"", headers=auth, timeout=15).json() == []
    # A body that is not JSON at all: acknowledged too (the phone's queue moves on), and recorded.
    ilegible = httpx.post(url, content=b"{roto", headers={**auth, "Content-Type": "application/json"}, timeout=15)
    assert ilegible.status_code == 200 and ilegible.json() == []
    dispositivo.refresh_from_db()
    assert dispositivo.ultimo_rechazo.startswith("cuerpo ilegible")
    assert Posicion.objects.count() == 1
    dispositivo_ubicacion_pedir(dispositivo=dispositivo)
    r = httpx.post(url, json=_ubicacion_owntracks(tst=int(time.time()) - 2), headers=auth, timeout=15)
    assert r.json() == [{"_type": "cmd", "action": "reportLocation"}]
    dispositivo.refresh_from_db()
    assert dispositivo.ubicacion_pedida_enviada_en is not None and dispositivo.bateria_pct == 15
    assert httpx.post(url, content=b"", headers=auth, timeout=15).json() == []  # asked once


@pytest.mark.lento
def test_un_dia_sin_conexion_descarga_diez_mil_lecturas_sin_tormenta_de_alertas(servidor, efectivo, admin, unidad_a):
    """10,000 buffered positions, a day old to now, sent one per request (as Traccar Client does)
    by several connections; the readings cross a fence many times, but only the newest state
    counts: a late reading is stored and flips nothing."""
    GeocercaFactory(geom=cuadrado(CENTRO, 300))
    _, secreto = dispositivo_crear(efectivo=efectivo, tipo=TipoDispositivo.TRACCAR, creado_por=admin)
    n = 10_000
    ahora = time.time()

    def cuerpo(i: int) -> bytes:
        paso = i % 80
        lon, lat = desplazar(*CENTRO, este_m=20 * (paso if paso < 40 else 80 - paso))  # in, out, back in
        return _forma(secreto, segundos_atras=0, timestamp=int(ahora - 86_000 + i * 8.6), lat=lat, lon=lon)

    async def descargar() -> list[int]:
        limites = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(base_url=servidor, timeout=30, limits=limites) as c:
            sem = asyncio.Semaphore(32)

            async def uno(i: int) -> int:
                async with sem:
                    for intento in range(3):
                        try:
                            r = await c.post(
                                OSMAND, content=cuerpo(i), headers={"Content-Type": "application/x-www-form-urlencoded"}
                            )
                            return r.status_code
                        except httpx.ReadError:
                            # A kept-alive connection the server closed as it was reused: Traccar
                            # Client sends again, and a repeat of the same fix is the same reading.
                            if intento == 2:
                                raise
                    raise AssertionError("unreachable")

            return await asyncio.gather(*(uno(i) for i in range(n)))

    estados = asyncio.run(descargar())
    assert estados.count(200) == n
    assert Posicion.objects.filter(efectivo=efectivo).count() == n
    # Dozens of crossings, one open alert counting them (late readings flip nothing).
    alertas = list(Alerta.objects.filter(efectivo=efectivo))
    assert len(alertas) == 1, [(a.tipo, a.repeticiones) for a in alertas]
