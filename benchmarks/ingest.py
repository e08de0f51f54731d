"""Ingest hot-path benchmark (issue: position ingestion and the geofence engine).

Targets (2-core machine, load generator included):
- engine alone: a batch of 100 readings against 1,000 fences <= 10 ms of database time;
- batched ingest (100 readings a request) >= 8,000 readings/s sustained for 60 s;
- single-reading requests >= 1,000 req/s with p95 <= 20 ms.

Runs against a separate `gad_bench` database on the local PostgreSQL (started by `make run` or
`make test`), seeded with 10,000 efectivos and 1,000 fences of ~50 vertices. Prints JSON.

    .venv/bin/python benchmarks/ingest.py [--segundos 60] [--servidor daphne|uvicorn|ambos]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
import uuid
from datetime import timedelta
from pathlib import Path

from common import Servidor, percentiles, preparar_django, sembrar, token, wrk

LUA = Path(__file__).with_name("ingest.lua")


def motor(n_lotes: int = 200, tamano: int = 100) -> dict:
    """Database time of the engine's set-based query, and of the whole service, in-process."""
    from django.db import connection
    from django.utils import timezone

    from efectivos.models import Efectivo
    from efectivos.services import LecturaNueva, posiciones_registrar
    from geocercas import engine

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
        engine.candidatos_evaluar(lecturas)
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
    sql = engine._SQL_CANDIDATOS
    params = {
        "lecturas": json.dumps(
            [
                {
                    "idx": lec.idx,
                    "unidad_id": lec.unidad_id,
                    "lon": lec.lon,
                    "lat": lec.lat,
                    "precision_m": lec.precision_m,
                }
                for lec in lecturas
            ]
        ),
        "precision_max": 15.0,
        "lat_max": 34.7,
        "m_por_grado": engine._M_POR_GRADO,
    }
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
    ejecucion = next(float(fila.split(":")[1].split()[0]) for fila in plan if fila.startswith("Execution Time"))
    Path(__file__).with_name("ingest_explain.txt").write_text("\n".join(plan) + "\n")
    return {
        "motor_consulta_ms_ida_y_vuelta": percentiles(consulta),
        "motor_ejecucion_servidor_ms_ultimo_lote": ejecucion,
        "motor_usa_indice_gist": any("geocercas_geocerca_geom" in fila and "Index Scan" in fila for fila in plan),
        "servicio_lote_100_ms": percentiles(servicio),
    }


def http(servidor: str, segundos: int, workers: int) -> dict:
    env_wrk = {"EFECTIVOS": "10000"}
    from efectivos.models import Efectivo

    env_wrk["ID_BASE"] = str(Efectivo.objects.order_by("pk").values_list("pk", flat=True).first())
    with Servidor(servidor, workers=workers) as srv:
        env_wrk["TOKEN"] = token(srv.url)
        wrk(srv.url, script=LUA, segundos=3, conexiones=4, env={**env_wrk, "LOTE": "100"})  # warm-up
        lotes = wrk(srv.url, script=LUA, segundos=segundos, conexiones=8, env={**env_wrk, "LOTE": "100"})
        lotes["lecturas_por_s"] = round(lotes["requests"] * 100 / lotes["segundos"])
        individuales = wrk(
            srv.url, script=LUA, segundos=max(10, segundos // 2), conexiones=32, env={**env_wrk, "LOTE": "1"}
        )
        individuales["req_por_s"] = round(individuales["requests"] / individuales["segundos"])
    return {"lotes_de_100": lotes, "lecturas_individuales": individuales}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segundos", type=int, default=60)
    parser.add_argument("--servidor", choices=["daphne", "uvicorn", "ambos"], default="ambos")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    args = parser.parse_args()

    preparar_django()
    resultado = {
        "fecha": time.strftime("%Y-%m-%d %H:%M"),
        "maquina": f"{os.cpu_count()} cores, {platform.platform()}",
        "datos": sembrar(efectivos=10_000, geocercas=1_000),
    }
    resultado.update(motor())
    servidores = ["daphne", "uvicorn"] if args.servidor == "ambos" else [args.servidor]
    for nombre in servidores:
        clave = nombre if nombre == "daphne" else f"uvicorn_{args.workers}_workers"
        resultado[clave] = http(nombre, args.segundos, args.workers)
    print(json.dumps(resultado, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
