"""The lean ingest path (posiciones.asgi + posiciones.agrupador) on the real HTTP server of
`make run`: uvicorn with two worker processes, the test database, the shared Redis."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from efectivos.models import Posicion
from realtime.models import Evento
from tests.efectivos.test_api import lectura
from tests.factories import EfectivoFactory
from tests.vivo import uvicorn

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/v1/posiciones/"


@pytest.fixture(scope="module")
def servidor(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), uvicorn() as url:
        yield url


def jwt(usuario) -> str:
    return str(RefreshToken.for_user(usuario).access_token)


def post(servidor: str, cuerpo, token: str | None, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{servidor}{URL}", json=cuerpo, headers=headers, timeout=15, **kwargs)


def test_lecturas_simultaneas_se_confirman_juntas_y_cada_una_recibe_su_resultado(servidor, admin, unidad_a):
    efectivos = EfectivoFactory.create_batch(60, unidad=unidad_a, ultima_posicion_en=None)
    lecturas = [lectura(efectivo=e.pk) for e in efectivos]
    repetida = dict(lecturas[0])
    token = jwt(admin)

    async def enviar():
        async with httpx.AsyncClient(base_url=servidor, timeout=15) as cliente:
            cuerpos = [*lecturas, repetida, lectura(efectivo=999_999_999)]
            return await asyncio.gather(
                *(cliente.post(URL, json=c, headers={"Authorization": f"Bearer {token}"}) for c in cuerpos)
            )

    respuestas = asyncio.run(enviar())
    estados = [r.status_code for r in respuestas]
    assert estados.count(201) == 61
    assert estados[-1] == 400
    assert respuestas[-1].json()["error"]["detalle"]["rechazadas"][0]["errores"] == {
        "efectivo": "Efectivo inexistente o fuera de su alcance."
    }
    cuerpos = [r.json() for r in respuestas[:61]]
    assert sorted(c["aceptadas"] for c in cuerpos) == [0] + [1] * 60
    assert sum(c["duplicadas"] for c in cuerpos) == 1
    assert Posicion.objects.count() == 60
    # Group commit: the moves of one unidad are one event per transaction, so fewer events than
    # requests prove that requests were stored together; each efectivo is listed exactly once.
    eventos = list(Evento.objects.filter(tipo="posicion.actualizada").values_list("datos", flat=True))
    assert len(eventos) < 60
    movidos = [p["efectivo_id"] for datos in eventos for p in datos["posiciones"]]
    assert sorted(movidos) == sorted(e.pk for e in efectivos)


def test_un_token_invalido_es_401_en_la_forma_del_proyecto(servidor, efectivo):
    respuesta = post(servidor, lectura(), "no.es.un-token")
    assert respuesta.status_code == 401
    assert respuesta.headers["www-authenticate"].startswith("Bearer")
    assert respuesta.json()["error"] == {
        "codigo": "autenticacion_fallida",
        "mensaje": "El token no es válido o expiró.",
        "detalle": None,
    }


def test_sin_token_lo_atiende_django_y_es_401(servidor):
    respuesta = post(servidor, lectura(), None)
    assert respuesta.status_code == 401
    assert respuesta.json()["error"]["codigo"] == "no_autenticado"


def test_desactivar_al_usuario_corta_el_acceso_en_todos_los_procesos(servidor, efectivo):
    token = jwt(efectivo.usuario)
    # Both worker processes learn (and cache) who this caller is.
    for _ in range(6):
        assert post(servidor, lectura(), token).status_code == 201
    efectivo.usuario.is_active = False
    efectivo.usuario.save()
    for _ in range(6):
        respuesta = post(servidor, lectura(), token)
        assert respuesta.status_code == 401
        assert respuesta.json()["error"]["mensaje"] == "El usuario no existe o está inactivo."


def test_un_efectivo_desvinculado_de_su_usuario_ya_no_envia_como_el(servidor, efectivo):
    token = jwt(efectivo.usuario)
    assert post(servidor, lectura(), token).status_code == 201
    efectivo.usuario = None
    efectivo.save()
    respuesta = post(servidor, lectura(), token)
    assert respuesta.status_code == 400
    assert respuesta.json()["error"]["detalle"]["rechazadas"][0]["errores"] == {
        "efectivo": "Obligatorio: el usuario no tiene legajo de efectivo asociado."
    }


def test_un_cuerpo_demasiado_grande_es_413_antes_de_leerlo(servidor, efectivo, settings):
    token = jwt(efectivo.usuario)
    enorme = b"[" + b",".join([b'{"lat": 1}'] * 100_000) + b"]"  # ~1 MB, over the 512 KiB limit
    respuesta = httpx.post(
        f"{servidor}{URL}",
        content=enorme,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=15,
    )
    assert respuesta.status_code == 413
    assert respuesta.json()["error"]["codigo"] == "cuerpo_demasiado_grande"
    assert len(respuesta.content) < 500


def test_un_cuerpo_sin_largo_declarado_se_corta_al_pasar_el_limite(servidor, efectivo):
    token = jwt(efectivo.usuario)

    def trozos():
        yield b"["
        for _ in range(2000):
            yield b'{"lat": 1, "relleno": "' + b"x" * 1000 + b'"},'
        yield b"{}]"

    respuesta = httpx.post(
        f"{servidor}{URL}",
        content=trozos(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=15,
    )
    assert respuesta.status_code == 413


def test_nan_en_el_camino_rapido_rechaza_solo_esa_lectura(servidor, efectivo):
    buena = lectura()
    cuerpo = f'[{httpx.Request("POST", "/", json=buena).content.decode()}, {{"lat": NaN, "lon": 1}}]'
    respuesta = httpx.post(
        f"{servidor}{URL}",
        content=cuerpo,
        headers={"Authorization": f"Bearer {jwt(efectivo.usuario)}", "Content-Type": "application/json"},
        timeout=15,
    )
    assert respuesta.status_code == 400
    detalle = respuesta.json()["error"]["detalle"]
    assert detalle["aceptadas"] == 1
    assert detalle["rechazadas"][0]["errores"]["lat"] == "Debe ser un número finito."
    assert str(Posicion.objects.get().id_cliente) == buena["id_cliente"]


def test_json_roto_es_400_json_invalido(servidor, efectivo):
    respuesta = httpx.post(
        f"{servidor}{URL}",
        content=b'{"lat": ',
        headers={"Authorization": f"Bearer {jwt(efectivo.usuario)}"},
        timeout=15,
    )
    assert respuesta.status_code == 400
    assert respuesta.json()["error"]["codigo"] == "json_invalido"


def test_un_cliente_que_corta_a_mitad_del_cuerpo_no_deja_nada(servidor, efectivo):
    host, puerto = servidor.removeprefix("http://").split(":")
    with socket.create_connection((host, int(puerto))) as s:
        s.sendall(
            f"POST {URL} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {jwt(efectivo.usuario)}\r\n"
            "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n[{".encode()
        )
    assert post(servidor, lectura(), jwt(efectivo.usuario)).status_code == 201
    assert Posicion.objects.count() == 1
