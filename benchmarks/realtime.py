"""Realtime delivery benchmark (issue: every event delivered, at least once, over Channels).

Targets (2-core machine, clients included):
- end to end, from the position POST leaving the client to the alert frame arriving at a
  commander's socket, while 500 readings/s stream in: p95 <= 30 ms, p99 <= 100 ms;
- 10,000 concurrent sockets on one daphne process, <= ~30 KiB per socket, 1,000 connected in <= 5 s;
- fan-out >= 5,000 frames/s delivered by one process.

Real daphne on the `gad_bench` database, real Redis channel layer, real WebSocket clients. JSON out.

    .venv/bin/python benchmarks/realtime.py [--sockets 10000] [--segundos 20]
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import os
import platform
import re
import threading
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

import websockets
from common import (
    SONDA,
    Servidor,
    carga_de_fondo,
    percentiles,
    preparar_django,
    preparar_sonda,
    rss_kib,
    sembrar,
    subir_limite_archivos,
    token,
)


def _post(url: str, cuerpo, tok: str) -> None:
    req = urllib.request.Request(
        f"{url}/api/v1/posiciones/",
        data=json.dumps(cuerpo).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {tok}"},
    )
    urllib.request.urlopen(req, timeout=10).read()


def _ahora_iso(extra_us: int = 0) -> str:
    return (datetime.now(UTC) + timedelta(microseconds=extra_us)).isoformat()


def latencia(url: str, tok: str, sonda_id: int, ids: list[int], segundos: int) -> dict:
    """Background load of ~500 readings/s plus a probe that walks in and out of its restricted
    zone; latency = POST sent -> alert frame received."""
    envios: dict[datetime, float] = {}
    latencias: list[float] = []
    parar = threading.Event()

    async def comandante() -> None:
        ws_base = url.replace("http", "ws", 1)
        req = urllib.request.Request(
            f"{url}/api/v1/ws/ticket/",
            data=b"{}",
            headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"},
        )
        ticket = json.loads(urllib.request.urlopen(req).read())["ticket"]
        async with websockets.connect(f"{ws_base}/ws/eventos/?ticket={ticket}", max_size=None) as ws:
            listo.set()
            while not parar.is_set():
                try:
                    texto = await asyncio.wait_for(ws.recv(), 1)
                except TimeoutError:
                    continue
                llegada = time.perf_counter()
                # The probe's first entry is an alert; the next ones, while it is open, repeats.
                if '"alerta.geocerca"' not in texto and '"alerta.repetida"' not in texto:
                    if '"ping"' in texto:
                        await ws.send('{"tipo": "pong"}')
                    continue
                datos = json.loads(texto)["datos"]
                ocurrida = datetime.fromisoformat(datos["ultima_en"])  # same instant, any offset
                if datos["efectivo_id"] == sonda_id and ocurrida in envios:
                    latencias.append((llegada - envios[ocurrida]) * 1000)

    listo = threading.Event()
    hilo_ws = threading.Thread(target=lambda: asyncio.run(comandante()), daemon=True)
    hilo_ws.start()
    listo.wait(10)
    hilos = carga_de_fondo(url, tok, ids, parar)
    fin = time.monotonic() + segundos
    dentro = False
    lon, lat = SONDA
    while time.monotonic() < fin:
        dentro = not dentro
        registrada = _ahora_iso()
        lectura = {
            "id_cliente": str(uuid.uuid4()),
            "efectivo": sonda_id,
            "registrada_en": registrada,
            "precision_m": 3,
            "lat": lat if dentro else lat + 0.01,
            "lon": lon,
        }
        t = time.perf_counter()
        envios[datetime.fromisoformat(registrada)] = t
        _post(url, lectura, tok)
        time.sleep(0.1)
    time.sleep(1)
    parar.set()
    for h in hilos:
        h.join()
    hilo_ws.join(5)
    return {"alertas_medidas": len(latencias), "lat_ms": percentiles(latencias)}


def _sesion(url: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{url}/login/").read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    datos = urllib.parse.urlencode(
        {"username": "bench", "password": "bench-clave", "csrfmiddlewaretoken": csrf, "next": "/health"}
    ).encode()
    opener.open(urllib.request.Request(f"{url}/login/", data=datos, headers={"Referer": f"{url}/login/"}))
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def sockets(url: str, pid: int, n: int) -> dict:
    """n browser-like sockets (session cookie + Origin) held open on one daphne."""
    cookie = _sesion(url)
    ws_url = url.replace("http", "ws", 1) + "/ws/eventos/"
    headers = {"Origin": url, "Cookie": cookie}
    resultado: dict = {}

    async def uno(conexiones: list) -> None:
        for intento in range(5):
            try:
                ws = await websockets.connect(
                    ws_url,
                    additional_headers=headers,
                    max_size=None,
                    open_timeout=30,
                    ping_interval=None,
                    compression=None,
                )
                await ws.recv()  # hola
                conexiones.append(ws)
                return
            except (OSError, websockets.WebSocketException, TimeoutError):
                await asyncio.sleep(0.2 * (intento + 1))

    async def caso() -> None:
        rss0 = rss_kib(pid)
        conexiones: list = []
        sem = asyncio.Semaphore(200)

        async def limitado() -> None:
            async with sem:
                await uno(conexiones)

        t = time.perf_counter()
        await asyncio.gather(*(limitado() for _ in range(min(1000, n))))
        resultado["primeros_1000_s"] = round(time.perf_counter() - t, 2)
        await asyncio.gather(*(limitado() for _ in range(n - min(1000, n))))
        resultado["conectados"] = len(conexiones)
        resultado["conexion_total_s"] = round(time.perf_counter() - t, 2)
        await asyncio.sleep(3)
        rss1 = rss_kib(pid)
        resultado["rss_daphne_mib"] = {"antes": round(rss0 / 1024), "despues": round(rss1 / 1024)}
        resultado["kib_por_socket"] = round((rss1 - rss0) / max(1, len(conexiones)), 1)

        await asyncio.gather(*(ws.close() for ws in conexiones), return_exceptions=True)

    asyncio.run(caso())
    return resultado


def fanout(url: str, n_sockets: int, eventos: int) -> dict:
    """`eventos` events published for admins; each of `n_sockets` sockets receives every one."""
    cookie = _sesion(url)
    ws_url = url.replace("http", "ws", 1) + "/ws/eventos/"
    headers = {"Origin": url, "Cookie": cookie}

    async def caso() -> dict:
        receptores = []
        for _ in range(n_sockets):
            ws = await websockets.connect(
                ws_url, additional_headers=headers, max_size=None, ping_interval=None, compression=None
            )
            await ws.recv()
            receptores.append(ws)
        recibidos = 0
        esperados = n_sockets * eventos

        async def drenar(ws) -> None:
            nonlocal recibidos
            while True:
                if '"fanout"' in await ws.recv():
                    recibidos += 1

        tareas = [asyncio.create_task(drenar(ws)) for ws in receptores]
        t = time.perf_counter()
        await asyncio.to_thread(_publicar_fanout, eventos)
        while recibidos < esperados and time.perf_counter() - t < 60:
            await asyncio.sleep(0.02)
        dur = time.perf_counter() - t
        for tarea in tareas:
            tarea.cancel()
        await asyncio.gather(*(ws.close() for ws in receptores), return_exceptions=True)
        return {
            "sockets": n_sockets,
            "eventos": eventos,
            "frames_recibidos": recibidos,
            "segundos": round(dur, 2),
            "frames_por_s": round(recibidos / dur),
        }

    return asyncio.run(caso())


def _publicar_fanout(n: int) -> None:
    from django.db import connection, transaction

    from realtime.services import Publicacion, publish_many

    for i in range(0, n, 50):
        with transaction.atomic():
            publish_many([Publicacion("fanout", {"i": j}, ["rol.administrador"]) for j in range(i, min(n, i + 50))])
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--segundos", type=int, default=20)
    parser.add_argument("--fanout", type=int, default=100, help="events fanned out to 500 sockets")
    args = parser.parse_args()
    subir_limite_archivos()
    preparar_django()
    from efectivos.models import Efectivo

    sembrar(efectivos=10_000, geocercas=1_000)
    sonda = preparar_sonda()
    ids = list(Efectivo.objects.exclude(codigo_interno="SONDA").values_list("pk", flat=True)[:10_000])
    resultado = {"fecha": time.strftime("%Y-%m-%d %H:%M"), "maquina": f"{os.cpu_count()} cores, {platform.platform()}"}
    with Servidor("daphne") as srv:
        tok = token(srv.url)
        resultado["extremo_a_extremo_con_500_lecturas_s"] = latencia(srv.url, tok, sonda, ids, args.segundos)
    # Idle sockets: the benchmark client does not answer pings, so the server must not send any
    # while it measures memory (unanswered pings would pile up in buffers and then close sockets).
    with Servidor("daphne", env={"WS_PING_S": "600", "WS_PONG_TIMEOUT_S": "1200"}) as srv:
        resultado["sockets"] = sockets(srv.url, srv.proc.pid, args.sockets)
    with Servidor("daphne") as srv:
        resultado["fanout"] = fanout(srv.url, 500, args.fanout)
    print(json.dumps(resultado, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
