"""WebSocket handshakes across a PostgreSQL restart: a pooled connection that died with it is
retried on a fresh one, and a database that is still down closes the socket with 4503 (retry
later), never an HTTP 500. A PostgreSQL cluster of the test's own."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.pg_propio import ClusterPropio
from tests.vivo import conectar, daphne, sesion_navegador, ws_url

pytestmark = pytest.mark.lento

CLAVE = "ws-clave-segura-1"


async def _primer_mensaje(url: str, cookie: str) -> str | int:
    """The first frame's type, or the close code if the server closed instead."""
    try:
        async with await conectar(ws_url(url), additional_headers={"Origin": url, "Cookie": cookie}) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), 10))["tipo"]
    except websockets.ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else -1


def test_el_handshake_sobrevive_a_un_reinicio_de_postgresql_y_sin_base_cierra_con_4503():
    cluster = ClusterPropio()
    cluster.iniciar()
    try:
        cluster.base_crear(admin="ws", clave=CLAVE, efectivos=1)
        entorno = {
            "DATABASE_URL": cluster.url,
            "REDIS_PREFIX": "gadtestwsbd",
            "DEBUG": "false",
            "SECRET_KEY": "k" * 50,
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
        }
        with daphne(**entorno) as url:
            cookie = sesion_navegador(url, "ws", CLAVE)
            assert asyncio.run(_primer_mensaje(url, cookie)) == "hola"  # the pool now holds connections
            cluster.detener()
            cluster.iniciar()
            assert asyncio.run(_primer_mensaje(url, cookie)) == "hola"
            cluster.detener()
            assert asyncio.run(_primer_mensaje(url, cookie)) == 4503
            cluster.iniciar()
    finally:
        cluster.borrar()
