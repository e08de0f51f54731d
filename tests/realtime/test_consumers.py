"""The live event stream, end to end: real daphne, real Redis channel layer, real WebSocket
clients, events caused through the real HTTP API."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import socket
import time
from datetime import timedelta

import pytest
import websockets

from geocercas.models import Alerta
from realtime.models import Evento
from realtime.services import Publicacion, eventos_podar, publish_many
from tests.conftest import CLAVE
from tests.realtime.conftest import provocar_alerta
from tests.vivo import (
    TIEMPO_COMPRIMIDO,
    conectar,
    daphne,
    daphne_proceso,
    recibir,
    sesion_navegador,
    ticket,
    token,
    ws_url,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _alertas(frames: list[dict]) -> list[dict]:
    return [f for f in frames if f.get("tipo") == "alerta.geocerca"]


def test_una_alerta_llega_al_comandante_con_la_forma_del_contrato(escenario, servidor):
    async def caso():
        async with await conectar(ws_url(servidor, ticket=ticket(servidor, "comandante_a", CLAVE))) as ws:
            hola = json.loads(await ws.recv())
            assert hola["tipo"] == "hola"
            provocar_alerta(servidor, token(servidor, "admin", CLAVE), escenario.efectivo_a.pk)
            return await recibir(ws, hasta=lambda fs: _alertas(fs))

    frames = asyncio.run(caso())
    (alerta,) = _alertas(frames)
    assert set(alerta) == {"id", "tipo", "ts", "datos"}
    db = Alerta.objects.get()
    assert alerta["datos"]["alerta_id"] == db.pk
    assert alerta["datos"]["efectivo_id"] == escenario.efectivo_a.pk
    assert alerta["datos"]["geocerca"] == "Zona restringida"
    assert alerta["datos"]["tipo"] == "entrada"
    assert alerta["id"] == Evento.objects.get(tipo="alerta.geocerca").pk
    posiciones = [f for f in frames if f["tipo"] == "posicion.actualizada"]
    assert posiciones and posiciones[-1]["datos"]["unidad_id"] == escenario.efectivo_a.unidad_id
    assert [p["efectivo_id"] for p in posiciones[-1]["datos"]["posiciones"]] == [escenario.efectivo_a.pk]


def test_la_entrega_se_mide_por_etapas_en_metrics(escenario, servidor):
    """Each message a socket gets is timed through the channel layer and onto the socket, and each
    commit in its sender's queue: the stages an operator reads when delivery slows down."""
    import re
    import urllib.request

    async def caso():
        async with await conectar(ws_url(servidor, ticket=ticket(servidor, "comandante_a", CLAVE))) as ws:
            await ws.recv()
            provocar_alerta(servidor, token(servidor, "admin", CLAVE), escenario.efectivo_a.pk)
            await recibir(ws, hasta=lambda fs: _alertas(fs))

    asyncio.run(caso())
    texto = urllib.request.urlopen(f"{servidor}/metrics", timeout=10).read().decode()

    def cuenta(serie: str) -> float:
        return sum(float(v) for v in re.findall(rf"^{re.escape(serie)} (\S+)$", texto, re.M))

    etapas = {e: cuenta(f'gad_realtime_etapa_seconds_count{{etapa="{e}"}}') for e in ("emisor", "capa", "socket")}
    entregas = cuenta("gad_realtime_entrega_seconds_count")
    assert entregas >= 1 and etapas["emisor"] >= 1
    assert etapas["capa"] == etapas["socket"] == entregas, (etapas, entregas)


def test_un_comandante_de_la_unidad_a_nunca_recibe_eventos_de_la_b(escenario, servidor):
    async def caso():
        async with (
            await conectar(ws_url(servidor, ticket=ticket(servidor, "comandante_a", CLAVE))) as ws_a,
            await conectar(ws_url(servidor, ticket=ticket(servidor, "comandante_b", CLAVE))) as ws_b,
        ):
            await ws_a.recv(), await ws_b.recv()  # hola
            admin = token(servidor, "admin", CLAVE)
            provocar_alerta(servidor, admin, escenario.efectivo_b.pk)
            provocar_alerta(servidor, admin, escenario.efectivo_a.pk)
            de_b = await recibir(ws_b, hasta=lambda fs: _alertas(fs))
            de_a = await recibir(ws_a, hasta=lambda fs: _alertas(fs))
            return de_a, de_b

    de_a, de_b = asyncio.run(caso())
    assert {f["datos"]["unidad_id"] for f in de_a} == {escenario.efectivo_a.unidad_id}
    assert {f["datos"]["unidad_id"] for f in de_b} == {escenario.efectivo_b.unidad_id}
    assert [f["datos"]["efectivo_id"] for f in _alertas(de_a)] == [escenario.efectivo_a.pk]


def test_un_efectivo_recibe_sus_alertas_y_nunca_las_de_otro(escenario, servidor):
    async def caso():
        async with await conectar(ws_url(servidor, ticket=ticket(servidor, "efectivo", CLAVE))) as ws:
            await ws.recv()
            admin = token(servidor, "admin", CLAVE)
            provocar_alerta(servidor, admin, escenario.otro_a.pk)
            provocar_alerta(servidor, admin, escenario.efectivo_a.pk)
            return await recibir(ws, hasta=lambda fs: _alertas(fs))

    frames = asyncio.run(caso())
    assert [f["datos"]["efectivo_id"] for f in frames] == [escenario.efectivo_a.pk]
    assert Alerta.objects.count() == 2


def test_al_reconectar_con_desde_recibe_lo_perdido_en_orden(escenario, servidor):
    grupo = f"unidad.{escenario.efectivo_a.unidad_id}"

    async def caso():
        async with await conectar(ws_url(servidor, ticket=ticket(servidor, "comandante_a", CLAVE))) as ws:
            ultimo = json.loads(await ws.recv())["datos"]["ultimo_id"]
        admin = token(servidor, "admin", CLAVE)
        provocar_alerta(servidor, admin, escenario.efectivo_a.pk)  # while disconnected
        n = await asyncio.to_thread(_contar, grupo)
        async with await conectar(ws_url(servidor, ticket=ticket(servidor, "comandante_a", CLAVE), desde=ultimo)) as ws:
            return await recibir(ws, hasta=lambda fs: len(fs) >= n)

    frames = asyncio.run(caso())
    visibles = list(Evento.objects.filter(audiencia__overlap=[grupo]).order_by("id").values_list("id", flat=True))
    assert len(visibles) == 2  # the alert and the position update
    assert [f["id"] for f in frames] == visibles
    assert _alertas(frames)[0]["datos"]["alerta_id"] == Alerta.objects.get().pk


def test_un_hueco_ya_podado_pide_resync(escenario, servidor):
    publish_many([Publicacion("prueba", {}, ["rol.administrador"]) for _ in range(3)])
    primero = Evento.objects.order_by("id").first()
    Evento.objects.filter(pk=primero.pk).update(creado_en=primero.creado_en - timedelta(days=30))
    assert eventos_podar() == 1

    async def caso():
        url = ws_url(servidor, ticket=ticket(servidor, "admin", CLAVE), desde=primero.pk - 5)
        async with await conectar(url) as ws:
            return json.loads(await ws.recv())

    assert asyncio.run(caso()) == {"tipo": "resync"}


def test_dos_daphne_comparten_redis_y_la_alerta_cruza_de_uno_a_otro(escenario, servidor):
    with daphne(**TIEMPO_COMPRIMIDO) as otro:

        async def caso():
            async with await conectar(ws_url(otro, ticket=ticket(otro, "comandante_a", CLAVE))) as ws:
                await ws.recv()
                provocar_alerta(servidor, token(servidor, "admin", CLAVE), escenario.efectivo_a.pk)
                return await recibir(ws, hasta=lambda fs: _alertas(fs))

        frames = asyncio.run(caso())
    assert _alertas(frames)[0]["datos"]["efectivo_id"] == escenario.efectivo_a.pk


def _rechazado(url: str, **kwargs) -> int:
    async def caso():
        with pytest.raises(websockets.InvalidStatus) as exc:
            await conectar(url, **kwargs)
        return exc.value.response.status_code

    return asyncio.run(caso())


def test_sin_credenciales_se_rechaza(escenario, servidor):
    assert _rechazado(ws_url(servidor)) == 403


def test_un_ticket_invalido_se_rechaza(escenario, servidor):
    assert _rechazado(ws_url(servidor, ticket="inventado")) == 403


def test_un_ticket_no_se_puede_usar_dos_veces(escenario, servidor):
    t = ticket(servidor, "comandante_a", CLAVE)

    async def primero():
        async with await conectar(ws_url(servidor, ticket=t)) as ws:
            return json.loads(await ws.recv())["tipo"]

    assert asyncio.run(primero()) == "hola"
    assert _rechazado(ws_url(servidor, ticket=t)) == 403


def test_la_sesion_del_navegador_vale_solo_desde_un_origen_propio(escenario):
    # A production-like process (DEBUG=False, its own key); the session comes from its login page.
    # The dev server is plain HTTP, so the cookies cannot be marked Secure here.
    produccion = {
        "DEBUG": "false",
        "SECRET_KEY": "k" * 50,
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
    }
    with daphne(**produccion, **TIEMPO_COMPRIMIDO) as url:
        cookie = sesion_navegador(url, "comandante_a", CLAVE)

        async def aceptado():
            async with await conectar(ws_url(url), additional_headers={"Origin": url, "Cookie": cookie}) as ws:
                return json.loads(await ws.recv())["tipo"]

        assert asyncio.run(aceptado()) == "hola"
        assert _rechazado(ws_url(url), additional_headers={"Origin": "https://evil.example", "Cookie": cookie}) == 403
        assert _rechazado(ws_url(url), additional_headers={"Cookie": cookie}) == 403  # no Origin at all
        # Same host, another port or scheme: another origin (a page served by something else).
        puerto = int(url.rsplit(":", 1)[1])
        for ajeno in (f"http://127.0.0.1:{puerto + 1}", url.replace("http://", "https://"), "http://127.0.0.1"):
            assert _rechazado(ws_url(url), additional_headers={"Origin": ajeno, "Cookie": cookie}) == 403, ajeno


def test_un_socket_que_no_lee_no_demora_a_los_demas(escenario, servidor):
    """A client that completes the handshake and then never reads: frames pile up for it, but a
    healthy socket still gets every event promptly."""
    t_lento = ticket(servidor, "admin", CLAVE)
    host, port = servidor.removeprefix("http://").split(":")
    lento = socket.create_connection((host, int(port)))
    lento.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    clave = base64.b64encode(os.urandom(16)).decode()
    lento.sendall(
        f"GET /ws/eventos/?ticket={t_lento} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {clave}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    try:

        async def caso():
            async with await conectar(ws_url(servidor, ticket=ticket(servidor, "admin", CLAVE))) as ws:
                await ws.recv()
                n = 3000
                inicio = time.monotonic()
                for _ in range(30):  # 3000 events of ~1 KiB, in batches, as ingest publishes them
                    await asyncio.to_thread(_publicar_lote, 100)
                frames = await recibir(ws, hasta=lambda fs: len(fs) >= n, timeout=30)
                return len(frames), time.monotonic() - inicio

        recibidos, segundos = asyncio.run(caso())
    finally:
        lento.close()
    assert recibidos == 3000
    assert segundos < 15


def _publicar_lote(n: int) -> None:
    from django.db import connection, transaction

    try:
        with transaction.atomic():
            publish_many([Publicacion("prueba", {"relleno": "x" * 1000}, ["rol.administrador"]) for _ in range(n)])
    finally:
        connection.close()  # back to the pool: this runs in a worker thread


def test_un_cliente_que_no_responde_los_ping_se_cierra(escenario):
    with daphne(WS_PING_S="1", WS_PONG_TIMEOUT_S="2", **TIEMPO_COMPRIMIDO) as url:

        async def caso():
            async with (
                await conectar(ws_url(url, ticket=ticket(url, "admin", CLAVE))) as callado,
                await conectar(ws_url(url, ticket=ticket(url, "admin", CLAVE))) as atento,
            ):
                inicio = time.monotonic()
                with pytest.raises(websockets.ConnectionClosed) as cerrado:
                    while True:
                        await asyncio.wait_for(callado.recv(), 10)  # reads, never answers
                segundos = time.monotonic() - inicio
                # The one that answers pings is still there.
                frames = await recibir(atento, hasta=lambda fs: len(fs) >= 1)
                return cerrado.value.rcvd.code, segundos, frames[0]["tipo"]

        codigo, segundos, tipo = asyncio.run(caso())
    assert codigo == 4408
    assert 2 <= segundos <= 6
    assert tipo == "hola"


def _contar(grupo: str) -> int:
    from django.db import connection

    try:
        return Evento.objects.filter(audiencia__overlap=[grupo]).count()
    finally:
        connection.close()  # back to the pool: this runs in a worker thread


def test_un_socket_vivo_renueva_su_pertenencia_a_los_grupos(escenario):
    """Memberships expire after WS_GRUPOS_EXPIRA_S (so a crashed process's sockets drop out of the
    groups); a live socket renews its own and keeps receiving well past that."""
    with daphne(WS_PING_S="1", WS_GRUPOS_RENOVAR_S="1", WS_GRUPOS_EXPIRA_S="2", **TIEMPO_COMPRIMIDO) as url:

        async def caso():
            async with await conectar(ws_url(url, ticket=ticket(url, "comandante_a", CLAVE))) as ws:
                await ws.recv()
                fin = time.monotonic() + 5  # 2.5 expiry periods
                while time.monotonic() < fin:
                    with contextlib.suppress(TimeoutError):
                        if json.loads(await asyncio.wait_for(ws.recv(), 0.5)).get("tipo") == "ping":
                            await ws.send('{"tipo": "pong"}')
                provocar_alerta(url, token(url, "admin", CLAVE), escenario.efectivo_a.pk)
                return await recibir(ws, hasta=lambda fs: _alertas(fs), timeout=5)

        frames = asyncio.run(caso())
    assert _alertas(frames)[0]["datos"]["efectivo_id"] == escenario.efectivo_a.pk


@pytest.mark.parametrize(
    ("origen", "host", "seguro", "esperado"),
    [
        ("http://localhost:8000", "localhost:8000", False, True),
        ("http://localhost:9999", "localhost:8000", False, False),
        ("https://localhost:8000", "localhost:8000", False, False),
        ("http://localhost", "localhost:80", False, True),
        ("https://gad.example", "gad.example", True, False),  # not in ALLOWED_HOSTS
        ("http://localhost:8000", "localhost:8000", True, False),  # a secure socket from a plain page
        ("https://localhost", "localhost:443", True, True),
        ("http://[::1]:8000", "[::1]:8000", False, True),
        ("null", "localhost:8000", False, False),
        ("http://localhost:99999", "localhost:8000", False, False),
    ],
)
@pytest.mark.django_db  # pure: no flush of the module's transactional database
def test_el_origen_de_la_pagina_es_esquema_host_y_puerto(origen, host, seguro, esperado):
    from realtime.consumers import origen_propio

    assert origen_propio(origen, host, seguro=seguro) is esperado


def test_un_socket_que_pierde_mensajes_en_la_capa_de_canales_pide_resync(escenario):
    """The channel layer drops silently what a socket's process cannot take: here the process is
    frozen while more messages arrive than its channel holds (CHANNEL_CAPACITY). The socket learns
    of the loss from the next message (its sender's sequence jumps) and tells the client to reload
    its snapshot, instead of going on live with a hole the client cannot see."""
    from django.conf import settings

    from realtime import emisor

    capacidad = settings.CHANNEL_LAYERS["default"]["CONFIG"]["capacity"]  # the sender enforces it

    def publicar() -> int:
        [evento] = publish_many([Publicacion("prueba", {}, ["rol.administrador"])])
        assert emisor.vaciar()  # one channel-layer message per event
        return evento.id

    with daphne_proceso(**TIEMPO_COMPRIMIDO) as (url, proc):

        async def caso():
            async with await conectar(ws_url(url, ticket=ticket(url, "admin", CLAVE))) as ws:
                assert json.loads(await ws.recv())["tipo"] == "hola"
                antes = await asyncio.to_thread(publicar)
                await recibir(ws, hasta=lambda fs: any(f.get("id") == antes for f in fs))
                os.kill(proc.pid, signal.SIGSTOP)
                try:
                    perdidos = [await asyncio.to_thread(publicar) for _ in range(capacidad + 20)]
                finally:
                    os.kill(proc.pid, signal.SIGCONT)
                # What the channel held, first: while it is still full, a new message is dropped too.
                frames = await recibir(ws, hasta=lambda fs: any(f.get("id") == perdidos[capacidad - 1] for f in fs))
                ultimo = await asyncio.to_thread(publicar)
                frames += await recibir(ws, hasta=lambda fs: any(f.get("id") == ultimo for f in fs))
                return perdidos, ultimo, frames

        perdidos, ultimo, frames = asyncio.run(caso())
    recibidos = {f["id"] for f in frames if "id" in f}
    assert set(perdidos) - recibidos, "nothing was dropped: the test did not overflow the channel"
    assert set(perdidos[:capacidad]) <= recibidos  # what the channel held arrived
    # The resync comes with the first message after the loss, before its frames.
    tipos = [f.get("tipo") for f in frames]
    assert tipos.count("resync") == 1, tipos[-5:]
    assert tipos.index("resync") == len(frames) - 2 and frames[-1]["id"] == ultimo


def test_un_proceso_hijo_envia_con_su_propio_emisor():
    """A forked child (Celery's prefork pool) inherits the parent's sender loop without its
    thread: it must start its own, under an id of its own, or its events never leave."""
    from realtime import emisor

    emisor.encolar({"prueba.padre": [{"id": -1}]})
    assert emisor.vaciar()
    padre = emisor._origen
    lectura, escritura = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether its own sender drained what it queued
        os.close(lectura)
        emisor.encolar({"prueba.hijo": [{"id": -2}]})
        enviado = emisor.vaciar(timeout=10)
        os.write(escritura, json.dumps({"enviado": enviado, "origen": emisor._origen}).encode())
        os._exit(0)
    os.close(escritura)
    with os.fdopen(lectura) as canal:
        hijo = json.loads(canal.read() or "{}")
    os.waitpid(pid, 0)
    assert hijo == {"enviado": True, "origen": hijo["origen"]}
    assert hijo["origen"] != padre
