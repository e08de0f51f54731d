"""Ingest hot-path benchmark (issue: ingest at the machine's floor).

Targets (2-core machine, load generator included), against the stack as `make run` serves it
(HAProxy -> uvicorn x cores for HTTP, daphne x cores for WebSockets, Celery worker and beat):
- single readings at 32 connections >= 1,000/s and >= 70 % of the thin insert API measured in the
  same run (../shared/bench/thin_ingest.py: same database, same JWT, same two writes, no
  geofences, no events); rounds alternate thin / ours so machine noise hits both alike;
- p95 <= 20 ms at a steady offered 500 readings/s (open loop);
- batches of 100 >= 8,000 readings/s;
- alert end to end (POST leaves the client -> `alerta.geocerca` frame at a commander's socket)
  p95 <= 15 ms, p99 <= 50 ms while 500 readings/s stream in;
- the engine alone: a batch of 100 readings against 1,000 fences <= 10 ms of database time.

Runs on a separate `gad_bench` database on the local PostgreSQL (started by `make run` or
`make test`), seeded with 10,000 efectivos and 1,000 fences of ~50 vertices. Prints JSON.

    .venv/bin/python benchmarks/ingest.py [--segundos 15] [--rondas 3]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import math
import os
import platform
import random
import signal
import statistics
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import websockets
from abierto import abierto, post
from common import (
    BENCH_DB_URL,
    RAIZ,
    SONDA,
    percentiles,
    preparar_django,
    preparar_sonda,
    sembrar,
    token,
    wrk,
    wrk_lecturas,
)

FINA = RAIZ.parent / "shared" / "bench"
CLAVE = "b" * 50
PUERTO = 8770
TELEFONOS = 2000


def motor(n_lotes: int = 200, tamano: int = 100) -> dict:
    """Database time of the engine's set-based query, and of the whole service, in-process."""
    from django.db import connection
    from django.utils import timezone

    from efectivos.models import Efectivo
    from geocercas import engine
    from posiciones.services import LecturaNueva, posiciones_registrar

    ids = list(Efectivo.objects.values_list("pk", "unidad_id"))
    rnd = random.Random(3)
    consulta, servicio = [], []
    for _ in range(n_lotes):
        muestra = rnd.sample(ids, tamano)
        lecturas = [
            engine.LecturaEval(
                i,
                pk,
                unidad,
                rnd.uniform(-58.53, -58.34),
                rnd.uniform(-34.70, -34.53),
                timezone.now(),
                rnd.uniform(3, 15),
            )
            for i, (pk, unidad) in enumerate(muestra)
        ]
        t = time.perf_counter()
        with connection.cursor() as cursor:  # the engine's set-based read, alone
            cursor.execute(engine.SQL_CANDIDATOS, engine.candidatos_parametros(lecturas))
            engine.candidatos_leer(cursor.fetchall())
        consulta.append((time.perf_counter() - t) * 1000)
        nuevas = [
            LecturaNueva(
                uuid.uuid4(),
                lec.efectivo_id,
                lec.lat,
                lec.lon,
                timezone.now() + timedelta(microseconds=i),
                lec.precision_m,
            )
            for i, lec in enumerate(lecturas)
        ]
        t = time.perf_counter()
        posiciones_registrar(lecturas=nuevas)
        servicio.append((time.perf_counter() - t) * 1000)

    # Server-side execution time and the plan, to prove the GiST index does the work.
    sql = engine.SQL_CANDIDATOS
    params = engine.candidatos_parametros(lecturas)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
    ejecucion = next(float(fila.split(":")[1].split()[0]) for fila in plan if fila.startswith("Execution Time"))
    Path(__file__).with_name("ingest_explain.txt").write_text("\n".join(plan) + "\n")
    return {
        "motor_consulta_ms_ida_y_vuelta": percentiles(consulta),
        "motor_ejecucion_servidor_ms_ultimo_lote": ejecucion,
        **cruces(ids, rnd),
        "motor_usa_indice_gist": any("geocercas_geocerca_geom" in fila and "Index Scan" in fila for fila in plan),
        "servicio_lote_100_ms": percentiles(servicio),
    }


def cruces(ids: list[tuple[int, int]], rnd: random.Random, n_lotes: int = 50, tamano: int = 100) -> dict:
    """The crossing query (the engine's second read), on realistic segments: each reading 50-400 m
    from its efectivo's last position and 30 s after it, as a car between fixes (a gap within
    GEOCERCA_CRUCE_MAX_S, so every segment is examined)."""
    from django.contrib.gis.geos import Point
    from django.db import connection
    from django.utils import timezone

    from efectivos.models import Efectivo
    from geocercas import engine

    ultimas = {
        pk: (p, en)
        for pk, p, en in Efectivo.objects.filter(ultima_posicion__isnull=False).values_list(
            "pk", "ultima_posicion", "ultima_posicion_en"
        )
    }
    con_posicion = [(pk, u) for pk, u in ids if pk in ultimas]
    tiempos, filas = [], 0
    for _ in range(n_lotes):
        lecturas = []
        for i, (pk, unidad) in enumerate(rnd.sample(con_posicion, tamano)):
            p: Point = ultimas[pk][0]
            cuando = (ultimas[pk][1] or timezone.now()) + timedelta(seconds=30)
            d, rumbo = rnd.uniform(50, 400), rnd.uniform(0, 2 * 3.14159)
            lon = p.x + d * math.sin(rumbo) / (111_320 * math.cos(math.radians(p.y)))
            lat = p.y + d * math.cos(rumbo) / 111_320
            lecturas.append(engine.LecturaEval(i, pk, unidad, lon, lat, cuando, rnd.uniform(3, 15)))
        params = engine.candidatos_parametros(lecturas)
        with connection.cursor() as cursor:
            t = time.perf_counter()
            cursor.execute(engine.SQL_CRUCES, params)
            filas += len(cursor.fetchall())
            tiempos.append((time.perf_counter() - t) * 1000)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + engine.SQL_CRUCES, params)
        plan = [row[0] for row in cursor.fetchall()]
    Path(__file__).with_name("ingest_cruces_explain.txt").write_text("\n".join(plan) + "\n")
    return {
        "motor_cruces_ms_ida_y_vuelta": percentiles(tiempos),
        "motor_cruces_ejecucion_servidor_ms_ultimo_lote": next(
            float(fila.split(":")[1].split()[0]) for fila in plan if fila.startswith("Execution Time")
        ),
        "motor_cruces_encontrados": filas,
    }


def _esperar(url: str, segundos: float = 60) -> None:
    fin = time.monotonic() + segundos
    while time.monotonic() < fin:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:  # it answers: up
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


@contextlib.contextmanager
def _proceso(cmd: list[str], env: dict, salud: str):
    proc = subprocess.Popen(
        cmd,
        cwd=RAIZ,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _esperar(salud)
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def pila():
    """The whole stack as `make run` serves it (scripts/run.sh), on the bench database."""
    env = {
        "DATABASE_URL": BENCH_DB_URL,
        "GAD_PORT": str(PUERTO),
        "GAD_SIMULADOR": "0",
        # The request paths alone: the density refresh (10-18 s of both cores every minute on
        # this data) would land in random rounds. Measured with it separately below.
        "GAD_CELERY": os.environ.get("GAD_CELERY", "0"),
        "TELEGRAM_BOT_TOKEN": "",
        "SECRET_KEY": CLAVE,
        "REDIS_PREFIX": os.environ.get("REDIS_PREFIX", "gadbench"),
        "GAD_LOGS": str(RAIZ / ".run" / "logs" / "bench"),
        "LOG_LEVEL": "WARNING",
        # The load's readings land anywhere in the city each time, and the probe jumps a
        # kilometre every 100 ms: at the real limit most would be set aside as implausible and
        # skip the engine. Real tracks are plausible, so every reading takes the full path here;
        # the check itself still runs on each one.
        "VELOCIDAD_MAX_KMH": "1000000",
        # One account sends for every efectivo here; the per-user limit is still counted on each
        # request (its Redis round trip is part of the path), just never reached.
        "LIMITE_POSICIONES": "1000000000/min",
    }
    # Ready when its last daphne answers (they start after uvicorn).
    return _proceso(["bash", "scripts/run.sh"], env, f"http://127.0.0.1:{PUERTO + 1 + (os.cpu_count() or 1)}/health")


def fina():
    """The thin insert API (the reference), two uvicorn workers as ours."""
    env = {"THIN_DSN": BENCH_DB_URL.replace("postgis://", "postgresql://"), "THIN_KEY": CLAVE}
    cmd = [
        str(RAIZ / ".venv/bin/uvicorn"),
        "--app-dir",
        str(FINA),
        "thin_ingest:app",
        "--port",
        "8099",
        "--workers",
        "2",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return _proceso(cmd, env, "http://127.0.0.1:8099/")  # any answer (404) means it is up


def _lectura(efectivo: int, *, lat: float | None = None, lon: float | None = None, precision: float = 8.0) -> dict:
    return {
        "id_cliente": str(uuid.uuid4()),
        "efectivo": efectivo,
        "lat": lat if lat is not None else random.uniform(-34.70, -34.53),
        "lon": lon if lon is not None else random.uniform(-58.53, -58.34),
        "registrada_en": datetime.now(UTC).isoformat(),
        "precision_m": precision,
    }


def abierto_500(tok: str, ids: list[int], segundos: int) -> dict:
    """Single readings offered at 500/s (open loop) for `segundos`; latencies summarised."""
    r = asyncio.run(
        abierto(
            "127.0.0.1",
            PUERTO,
            tasa=500,
            segundos=segundos,
            pedido=lambda: post("/api/v1/posiciones/", orjson.dumps(_lectura(random.choice(ids))), tok),
        )
    )
    r["lat_ms"] = percentiles(r.pop("latencias"))
    return r


def alerta_e2e(tok: str, ids: list[int], sonda_id: int, segundos: int) -> dict:
    """A commander's socket (through HAProxy to daphne) while 500 readings/s arrive open loop; a
    probe walks in and out of its restricted zone every 100 ms. Latency: from the probe's POST
    being written to the `alerta.geocerca` (then `alerta.repetida`) frame arriving."""
    url = f"http://127.0.0.1:{PUERTO}"
    req = urllib.request.Request(
        f"{url}/api/v1/ws/ticket/",
        data=b"{}",
        headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"},
    )
    ticket = json.loads(urllib.request.urlopen(req).read())["ticket"]
    envios: dict[datetime, float] = {}
    latencias: list[float] = []

    async def caso() -> dict:
        loop = asyncio.get_running_loop()
        for _ in range(50):  # HAProxy admits the daphnes once its first health check passes
            try:
                ws = await websockets.connect(f"ws://127.0.0.1:{PUERTO}/ws/eventos/?ticket={ticket}", max_size=None)
                break
            except websockets.exceptions.InvalidStatus:
                await asyncio.sleep(0.2)
        async with ws:
            parar = asyncio.Event()

            async def leer() -> None:
                while not parar.is_set():
                    try:
                        texto = await asyncio.wait_for(ws.recv(), 0.5)
                    except TimeoutError:
                        continue
                    llegada = loop.time()
                    if '"ping"' in texto[:40]:
                        await ws.send('{"tipo": "pong"}')
                    # The probe's first entry is an alert; the next ones, while it is open, repeats.
                    if '"alerta.geocerca"' not in texto[:80] and '"alerta.repetida"' not in texto[:80]:
                        continue
                    datos = json.loads(texto)["datos"]
                    ocurrida = datetime.fromisoformat(datos["ultima_en"])  # same instant, any offset
                    if datos["efectivo_id"] == sonda_id and ocurrida in envios:
                        latencias.append((llegada - envios.pop(ocurrida)) * 1000)

            async def sonda() -> None:
                from abierto import Conexion

                con = await Conexion.abrir("127.0.0.1", PUERTO)
                lon, lat = SONDA
                dentro = False
                fin = loop.time() + segundos
                while loop.time() < fin:
                    dentro = not dentro
                    lectura = _lectura(sonda_id, lat=lat if dentro else lat + 0.01, lon=lon, precision=3)
                    datos = post("/api/v1/posiciones/", orjson.dumps(lectura), tok)
                    envios[datetime.fromisoformat(lectura["registrada_en"])] = loop.time()
                    await con.pedir(datos)
                    await asyncio.sleep(0.1)
                con.cerrar()

            lector = loop.create_task(leer())
            # The background load runs in a process of its own, so the probe's and the socket's
            # timings are not delayed by the generator's event loop.
            with concurrent.futures.ProcessPoolExecutor(1) as proceso:
                carga = loop.run_in_executor(proceso, abierto_500, tok, ids, segundos)
                await sonda()
                fondo = await carga
            await asyncio.sleep(1)
            parar.set()
            await lector
            return fondo

    fondo = asyncio.run(caso())
    return {
        "alertas_medidas": len(latencias),
        "lat_ms": percentiles(latencias),
        "carga_de_fondo": {"respondidas": fondo["respondidas"], "errores": fondo["errores"], "lat_ms": fondo["lat_ms"]},
    }


ETAPAS = (
    ("gad_ingesta_espera_seconds", None),  # queued for its group -> the group committed
    ("gad_realtime_etapa_seconds", "emisor"),  # committed -> taken by the process's sender
    ("gad_realtime_etapa_seconds", "capa"),  # handed to the channel layer -> the socket's consumer
    ("gad_realtime_etapa_seconds", "socket"),  # the consumer writing the frames
    ("gad_realtime_entrega_seconds", None),  # committed -> written on the socket (the three above)
)


def _buckets(texto: str, nombre: str, etapa: str | None) -> dict[float, float]:
    """Cumulative bucket counts of one histogram series in a /metrics text (summed over label sets)."""
    import re

    cuentas: dict[float, float] = {}
    for linea in texto.splitlines():
        if not linea.startswith(nombre + "_bucket{"):
            continue
        if etapa is not None and f'etapa="{etapa}"' not in linea:
            continue
        le = re.search(r'le="([^"]+)"', linea).group(1)
        cuentas[float(le)] = cuentas.get(float(le), 0.0) + float(linea.rsplit(" ", 1)[1])
    return cuentas


def etapas(antes: str, despues: str) -> dict:
    """Where the time went during a run, stage by stage, from the servers' own histograms (the
    difference of two scrapes): how many observations, and the bucket bound under which 50 and 95
    percent of them fell (the histograms' resolution, not exact percentiles)."""
    resultado = {}
    for nombre, etapa in ETAPAS:
        a, d = _buckets(antes, nombre, etapa), _buckets(despues, nombre, etapa)
        delta = sorted((le, d[le] - a.get(le, 0.0)) for le in d)
        total = delta[-1][1] if delta else 0
        if not total:
            continue

        resultado[f"{nombre}{'{' + etapa + '}' if etapa else ''}"] = {
            "n": int(total),
            "p50_hasta_s": next(le for le, c in delta if c >= 0.5 * total),
            "p95_hasta_s": next(le for le, c in delta if c >= 0.95 * total),
        }
    return resultado


def dispositivos_sembrar(ids: list[int]) -> None:
    """A Traccar device `bench-<id>` for each benchmark efectivo (idempotent)."""
    from efectivos.models import Dispositivo, TipoDispositivo
    from efectivos.services import credencial_hash

    existentes = set(Dispositivo.objects.filter(efectivo_id__in=ids).values_list("efectivo_id", flat=True))
    Dispositivo.objects.bulk_create(
        Dispositivo(
            efectivo_id=i, tipo=TipoDispositivo.TRACCAR, etiqueta="bench", credencial_hash=credencial_hash(f"bench-{i}")
        )
        for i in ids
        if i not in existentes
    )


def wrk_osmand(url: str, id_base: int, segundos: int, conexiones: int) -> dict:
    """Traccar Client's posts from 2,000 phones (osmand.lua), after a warm-up that reaches every
    one of them: in the field each phone reports every 30 s, so its credential is cached."""
    env = {"EFECTIVOS": str(TELEFONOS), "ID_BASE": str(id_base)}
    r = wrk(url, script=Path(__file__).with_name("osmand.lua"), segundos=segundos, conexiones=conexiones, env=env)
    r["lecturas_por_s"] = round(r["requests"] / r["segundos"])
    return r


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segundos", type=int, default=15)
    parser.add_argument("--rondas", type=int, default=3)
    parser.add_argument(
        "--solo-alerta", action="store_true", help="Only the alert end to end under 500 readings/s, with its stages."
    )
    args = parser.parse_args()

    # As the served stack below (pila): random readings across the city would otherwise be set
    # aside as implausible and skip the engine in the in-process figures.
    os.environ.setdefault("VELOCIDAD_MAX_KMH", "1000000")
    preparar_django()
    resultado = {
        "fecha": time.strftime("%Y-%m-%d %H:%M"),
        "maquina": f"{os.cpu_count()} cores, {platform.platform()}",
        "datos": sembrar(efectivos=10_000, geocercas=1_000),
    }
    sonda_id = preparar_sonda()
    resultado.update(motor())
    from efectivos.models import Efectivo

    ids = list(Efectivo.objects.exclude(pk=sonda_id).order_by("pk").values_list("pk", flat=True)[:10_000])
    id_base = ids[0]
    dispositivos_sembrar(list(range(id_base, id_base + 10_000)))
    nuestro = f"http://127.0.0.1:{PUERTO}"
    if args.solo_alerta:
        with pila():
            tok = token(nuestro)
            wrk_lecturas(nuestro, tok, id_base, 3, 8, 1)  # warm-up
            metricas = lambda: urllib.request.urlopen(f"{nuestro}/metrics", timeout=30).read().decode()  # noqa: E731
            antes = metricas()
            resultado["alerta_e2e_con_500_por_s"] = alerta_e2e(tok, ids, sonda_id, args.segundos)
            resultado["etapas"] = etapas(antes, metricas())
        print(json.dumps(resultado, indent=2, ensure_ascii=False))
        return
    rondas = []
    with pila():
        tok = token(nuestro)
        wrk_lecturas(nuestro, tok, id_base, 3, 8, 1)  # warm-up: connections, prepared statements, caches
        wrk_osmand(nuestro, id_base, 12, 32)  # every phone once or more: their credentials cached
        for _ in range(args.rondas):
            ronda = {}
            if FINA.is_dir():
                with fina():
                    wrk_lecturas("http://127.0.0.1:8099", tok, id_base, 3, 8, 1)
                    ronda["fina"] = wrk_lecturas("http://127.0.0.1:8099", tok, id_base, args.segundos, 32, 1)
            ronda["gad"] = wrk_lecturas(nuestro, tok, id_base, args.segundos, 32, 1)
            ronda["gad_recorridos"] = wrk_lecturas(nuestro, tok, id_base, args.segundos, 32, 1, recorrido=True)
            # Traccar Client's form posts through the same proxy (tracks, like gad_recorridos).
            ronda["osmand"] = wrk_osmand(nuestro, id_base, args.segundos, 32)
            ronda["osmand_sobre_json"] = round(
                ronda["osmand"]["lecturas_por_s"] / ronda["gad_recorridos"]["lecturas_por_s"], 3
            )
            if "fina" in ronda:
                ronda["razon_osmand"] = round(ronda["osmand"]["lecturas_por_s"] / ronda["fina"]["lecturas_por_s"], 3)
                ronda["razon"] = round(ronda["gad"]["lecturas_por_s"] / ronda["fina"]["lecturas_por_s"], 3)
                ronda["razon_recorridos"] = round(
                    ronda["gad_recorridos"]["lecturas_por_s"] / ronda["fina"]["lecturas_por_s"], 3
                )
            rondas.append(ronda)
        resultado["individuales_32_conexiones"] = {
            "rondas": rondas,
            "gad_mediana_por_s": statistics.median(r["gad"]["lecturas_por_s"] for r in rondas),
            "fina_mediana_por_s": statistics.median(r["fina"]["lecturas_por_s"] for r in rondas)
            if FINA.is_dir()
            else None,
            "razon_mediana": statistics.median(r["razon"] for r in rondas) if FINA.is_dir() else None,
            "recorridos_mediana_por_s": statistics.median(r["gad_recorridos"]["lecturas_por_s"] for r in rondas),
            "razon_recorridos_mediana": statistics.median(r["razon_recorridos"] for r in rondas)
            if FINA.is_dir()
            else None,
            "osmand_mediana_por_s": statistics.median(r["osmand"]["lecturas_por_s"] for r in rondas),
            "osmand_sobre_json_mediana": statistics.median(r["osmand_sobre_json"] for r in rondas),
            "razon_osmand_mediana": statistics.median(r["razon_osmand"] for r in rondas) if FINA.is_dir() else None,
        }
        resultado["individuales_uvicorn_directo"] = wrk_lecturas(
            f"http://127.0.0.1:{PUERTO + 1}", tok, id_base, args.segundos, 32, 1
        )
        resultado["lotes_de_100_efectivos_al_azar"] = wrk_lecturas(nuestro, tok, id_base, args.segundos, 8, 100)
        resultado["lotes_de_100_de_un_efectivo"] = wrk_lecturas(
            nuestro, tok, id_base, args.segundos, 16, 100, mismo=True
        )
        resultado["abierto_500_por_s"] = abierto_500(tok, ids, args.segundos)
        antes = urllib.request.urlopen(f"{nuestro}/metrics", timeout=30).read().decode()
        resultado["alerta_e2e_con_500_por_s"] = alerta_e2e(tok, ids, sonda_id, args.segundos)
        resultado["alerta_e2e_etapas"] = etapas(
            antes, urllib.request.urlopen(f"{nuestro}/metrics", timeout=30).read().decode()
        )
    print(json.dumps(resultado, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
