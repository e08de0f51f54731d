"""A change of access reaches what a user already holds, at once and in every process: open
WebSockets (real daphne, real Redis channel layer), refresh and access tokens, the tile fast path."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest
import websockets

from efectivos.models import Rol, Usuario
from tests.conftest import CLAVE
from tests.mapa.test_asgi import pedir
from tests.mapa.test_tiles import url as url_tile
from tests.realtime.conftest import provocar_alerta
from tests.vivo import TIEMPO_COMPRIMIDO, conectar, daphne, recibir, sesion_navegador, ticket, token, ws_url

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCCION = {"DEBUG": "false", "SECRET_KEY": "k" * 50, "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false"}


async def _cierre(ws, timeout: float = 5.0) -> tuple[int, list[dict]]:
    """Frames until the server closes the socket; its close code and what came before."""
    frames: list[dict] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                mensaje = json.loads(await ws.recv())
                if mensaje.get("tipo") == "ping":
                    await ws.send(json.dumps({"tipo": "pong"}))
                    continue
                frames.append(mensaje)
    except websockets.ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else -1, frames
    raise AssertionError(f"still open after {timeout} s: {[f.get('tipo') for f in frames]}")


def _guardar(usuario: Usuario, **campos) -> None:
    usuario.refresh_from_db()  # signing in through the server may have rehashed the password
    for campo, valor in campos.items():
        setattr(usuario, campo, valor)
    usuario.save()


def test_desactivar_a_un_comandante_cierra_su_socket_en_segundos(escenario, servidor, comandante_a):
    async def caso():
        async with await conectar(ws_url(servidor, ticket=ticket(servidor, "comandante_a", CLAVE))) as ws:
            assert json.loads(await ws.recv())["tipo"] == "hola"
            await asyncio.to_thread(_guardar, comandante_a, is_active=False)
            codigo, frames = await _cierre(ws)
            # Nothing of the unidad reaches it after the save either.
            await asyncio.to_thread(provocar_alerta, servidor, token(servidor, "admin", CLAVE), escenario.efectivo_a.pk)
            return codigo, frames

    codigo, frames = asyncio.run(caso())
    assert codigo == 4401
    assert frames == []


def test_un_comandante_que_cambia_de_unidad_pasa_a_ver_la_nueva_sin_reconectar(
    escenario, servidor, comandante_a, unidad_b
):
    async def caso():
        async with await conectar(ws_url(servidor, ticket=ticket(servidor, "comandante_a", CLAVE))) as ws:
            await ws.recv()  # hola
            await asyncio.to_thread(_guardar, comandante_a, unidad=unidad_b)
            await recibir(ws, hasta=lambda fs: any(f["tipo"] == "resync" for f in fs), timeout=5)
            admin = token(servidor, "admin", CLAVE)
            await asyncio.to_thread(provocar_alerta, servidor, admin, escenario.efectivo_a.pk)
            await asyncio.to_thread(provocar_alerta, servidor, admin, escenario.efectivo_b.pk)
            return await recibir(ws, hasta=lambda fs: any(f["tipo"] == "alerta.geocerca" for f in fs))

    frames = asyncio.run(caso())
    unidades = {f["datos"].get("unidad_id") for f in frames if f["tipo"] in ("alerta.geocerca", "posicion.actualizada")}
    assert unidades == {unidad_b.pk}


def test_un_comandante_que_pasa_a_efectivo_sin_ficha_se_cierra_con_4403(escenario, servidor, comandante_a):
    async def caso():
        async with await conectar(ws_url(servidor, ticket=ticket(servidor, "comandante_a", CLAVE))) as ws:
            await ws.recv()
            await asyncio.to_thread(_guardar, comandante_a, rol=Rol.EFECTIVO, unidad=None)
            return await _cierre(ws)

    codigo, _ = asyncio.run(caso())
    assert codigo == 4403


def test_cerrar_sesion_cierra_los_sockets_de_esa_sesion_y_no_otros(escenario):
    with daphne(**PRODUCCION, **TIEMPO_COMPRIMIDO) as url:
        cookie = sesion_navegador(url, "comandante_a", CLAVE)

        async def caso():
            cabeceras = {"Origin": url, "Cookie": cookie}
            async with (
                await conectar(ws_url(url), additional_headers=cabeceras) as del_navegador,
                await conectar(ws_url(url, ticket=ticket(url, "comandante_a", CLAVE))) as del_telefono,
            ):
                await del_navegador.recv(), await del_telefono.recv()
                csrf = re.search(r"csrftoken=([^;]+)", cookie).group(1)
                r = await asyncio.to_thread(
                    httpx.post, f"{url}/logout/", headers={"Cookie": cookie, "X-CSRFToken": csrf, "Referer": url + "/"}
                )
                assert r.status_code in (200, 302)
                codigo, _ = await _cierre(del_navegador)
                await del_telefono.send(json.dumps({"tipo": "pong"}))
                assert del_telefono.state is websockets.State.OPEN
                return codigo

        assert asyncio.run(caso()) == 4401


def test_cambiar_la_clave_revoca_refresh_y_access_tokens(escenario, servidor, efectivo):
    with httpx.Client(base_url=servidor, timeout=10) as c:
        par = c.post("/api/v1/auth/token/", json={"username": "efectivo", "password": CLAVE}).json()
        rotado = c.post("/api/v1/auth/token/refresh/", json={"refresh": par["refresh"]}).json()
        jwt = {"Authorization": f"Bearer {rotado['access']}"}
        assert c.get("/api/v1/mis-tareas/", headers=jwt).status_code == 200
        usuario = efectivo.usuario
        usuario.set_password("otra-clave-segura-456")
        usuario.save()
        assert c.post("/api/v1/auth/token/refresh/", json={"refresh": par["refresh"]}).status_code == 401
        assert c.post("/api/v1/auth/token/refresh/", json={"refresh": rotado["refresh"]}).status_code == 401
        assert c.get("/api/v1/mis-tareas/", headers=jwt).status_code == 401
        # The lean ingest path too (it verifies tokens without Django).
        lectura = {"id_cliente": "8c6f5f3e-1d1b-4c55-9f55-0a6f9c1e2b3a", "lat": -34.6, "lon": -58.4}
        lectura["registrada_en"] = "2026-01-01T00:00:00Z"
        assert c.post("/api/v1/posiciones/", json=lectura, headers=jwt).status_code == 401
        nuevo = c.post("/api/v1/auth/token/", json={"username": "efectivo", "password": "otra-clave-segura-456"})
        assert nuevo.status_code == 200


def test_desactivar_revoca_los_refresh_tokens(escenario, servidor, efectivo):
    with httpx.Client(base_url=servidor, timeout=10) as c:
        par = c.post("/api/v1/auth/token/", json={"username": "efectivo", "password": CLAVE}).json()
        _guardar(efectivo.usuario, is_active=False)
        assert c.post("/api/v1/auth/token/refresh/", json={"refresh": par["refresh"]}).status_code == 401
        _guardar(efectivo.usuario, is_active=True)  # reactivated: the old token stays revoked
        assert c.post("/api/v1/auth/token/refresh/", json={"refresh": par["refresh"]}).status_code == 401


def test_la_via_rapida_de_teselas_deja_de_servir_a_un_usuario_desactivado(escenario, comandante_a):
    with daphne(TILES_EFECTIVOS_TTL_S="600") as base:
        cookie = sesion_navegador(base, "comandante_a", CLAVE)
        assert pedir(base, url_tile("efectivos"), cookie)[0] == 200
        estado, cabeceras, _ = pedir(base, url_tile("efectivos"), cookie)
        assert estado == 200 and "Content-Security-Policy" not in cabeceras  # served by the fast path
        _guardar(comandante_a, is_active=False)
        estado, _, _ = pedir(base, url_tile("efectivos"), cookie)
        assert estado == 401
