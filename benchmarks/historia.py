"""The position history partitioned by day: ingest and a track query with a large history (50
million rows by default) against the same with an empty one, in the same run.

    .venv/bin/python benchmarks/historia.py [--filas 50000000] [--dias 60] [--lotes 300]

A database of its own (`gad_historia`). For each state — full history, then empty — it measures
(a) the ingest service in-process: batches of 100 readings from random efectivos through
posiciones_registrar (store, move, evaluate geofences, events), readings per second; and (b) one
efectivo's track over the last hour (the recorrido endpoint's query), database execution time
from EXPLAIN ANALYZE. The history is loaded straight into the day partitions (INSERT ... SELECT,
two sessions at a time), spread over `--dias` days before today, 1,000 efectivos. The empty state is
measured last, after a TRUNCATE: a rerun loads the history again."""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

os.environ.setdefault(
    "BENCH_DATABASE_URL", f"postgis://gad:gad@127.0.0.1:{os.environ.get('GAD_PG_PORT', '55432')}/gad_historia"
)
sys.path.append(str(Path(__file__).resolve().parent))

from common import BENCH_DB_URL, percentiles, preparar_django, sembrar

EFECTIVOS = 1000


def ingest(n_lotes: int, rnd: random.Random) -> dict:
    from django.utils import timezone

    from efectivos.models import Efectivo
    from posiciones.services import LecturaNueva, posiciones_registrar

    ids = list(Efectivo.objects.values_list("pk", flat=True))
    tiempos = []
    for _ in range(n_lotes):
        ahora = timezone.now()
        lote = [
            LecturaNueva(
                uuid.uuid4(), pk, rnd.uniform(-34.70, -34.53), rnd.uniform(-58.53, -58.34), ahora - timedelta(seconds=1)
            )
            for pk in rnd.sample(ids, 100)
        ]
        t = time.perf_counter()
        posiciones_registrar(lecturas=lote)
        tiempos.append(time.perf_counter() - t)
    medio = statistics.median(tiempos)
    return {"lecturas_por_s": round(100 / medio), "lote_100_ms": percentiles([x * 1000 for x in tiempos])}


def recorrido(rnd: random.Random, n: int = 200) -> dict:
    from django.db import connection

    from efectivos.models import Efectivo

    ids = list(Efectivo.objects.values_list("pk", flat=True))
    sql = (
        "EXPLAIN (ANALYZE, FORMAT JSON) SELECT id, ST_X(punto), ST_Y(punto), registrada_en, precision_m "
        "FROM efectivos_posicion WHERE efectivo_id = %s AND registrada_en >= now() - interval '1 hour' "
        "AND registrada_en < now() ORDER BY registrada_en LIMIT 5000"
    )
    ejecucion = []
    with connection.cursor() as c:
        for _ in range(n):
            c.execute(sql, [rnd.choice(ids)])
            ejecucion.append(c.fetchone()[0][0]["Execution Time"])
        c.execute(sql.replace("FORMAT JSON", "BUFFERS"), [ids[0]])
        plan = "\n".join(f[0] for f in c.fetchall())
    return {"ejecucion_ms": percentiles(ejecucion), "plan": plan}


def cargar(filas: int, dias: int) -> float:
    """Fill `dias` days before today with `filas` readings (skipped if already there)."""
    import psycopg

    dsn = BENCH_DB_URL.replace("postgis://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as c:
        (ya,) = c.execute(
            "SELECT count(*) FROM efectivos_posicion WHERE registrada_en < date_trunc('day', now())"
        ).fetchone()
        if ya >= filas * 0.99:
            return 0.0
        c.execute(
            "SELECT partman.create_partition_time('public.efectivos_posicion', "
            "ARRAY(SELECT date_trunc('day', now()) - (d || ' days')::interval FROM generate_series(1, %s) d))",
            [dias],
        )
        (minimo, maximo) = c.execute("SELECT min(id), max(id) FROM efectivos_efectivo").fetchone()
    por_dia = filas // dias
    pendientes = list(range(1, dias + 1))
    lock = threading.Lock()

    def trabajador() -> None:
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("SET statement_timeout = 0")
            c.execute("SET synchronous_commit = off")
            while True:
                with lock:
                    if not pendientes:
                        return
                    d = pendientes.pop()
                c.execute(
                    """INSERT INTO efectivos_posicion (efectivo_id, punto, registrada_en, recibida_en, fuente, id_cliente, implausible)
                       SELECT %s + (n %% %s), ST_SetSRID(ST_MakePoint(-58.53 + random() * 0.19, -34.70 + random() * 0.17), 4326),
                              date_trunc('day', now()) - (%s || ' days')::interval + (n * (86400.0 / %s)) * interval '1 second',
                              date_trunc('day', now()) - (%s || ' days')::interval + (n * (86400.0 / %s)) * interval '1 second',
                              'simulador', gen_random_uuid(), false
                       FROM generate_series(0, %s - 1) n""",
                    [minimo, maximo - minimo + 1, d, por_dia, d, por_dia, por_dia],
                )

    t = time.perf_counter()
    hilos = [threading.Thread(target=trabajador) for _ in range(2)]
    for h in hilos:
        h.start()
    for h in hilos:
        h.join()
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SET statement_timeout = 0")
        c.execute("VACUUM ANALYZE efectivos_posicion")
    return time.perf_counter() - t


def vaciar() -> None:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SET statement_timeout = 0")
        c.execute("TRUNCATE efectivos_posicion")
        c.execute("ANALYZE efectivos_posicion")


def fase(lotes: int) -> dict:
    """The same conditions for both states: today emptied (the history is older), a
    checkpoint (no dirty pages of the load being written meanwhile), the same warm-up."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SET statement_timeout = 0")
        # Truncated, not deleted: dead index entries would slow the second state's queries.
        c.execute("SELECT partition_table FROM partman.show_partition_name('public.efectivos_posicion', now()::text)")
        (hoy,) = c.fetchone()
        c.execute(f'TRUNCATE "{hoy}"')
        c.execute("CHECKPOINT")
        c.execute("ANALYZE efectivos_posicion")
    rnd = random.Random(11)
    ingest(20, rnd)
    return {"ingesta": ingest(lotes, rnd), "recorrido": recorrido(rnd)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--filas", type=int, default=50_000_000)
    p.add_argument("--dias", type=int, default=60)
    p.add_argument("--lotes", type=int, default=300)
    args = p.parse_args()
    os.environ["POSICIONES_RETENCION_DIAS"] = str(max(90, args.dias + 5))
    preparar_django()
    sembrar(efectivos=EFECTIVOS, geocercas=200)
    resultado: dict = {"filas_objetivo": args.filas, "dias": args.dias}
    resultado["carga_s"] = round(cargar(args.filas, args.dias), 1)  # 0: already loaded
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM efectivos_posicion")
        resultado["filas"] = c.fetchone()[0]
        c.execute("SELECT count(*) FROM partman.show_partitions('public.efectivos_posicion')")
        resultado["particiones"] = c.fetchone()[0]
        c.execute(
            "SELECT sum(pg_total_relation_size(partition_schemaname || '.' || partition_tablename)) "
            "FROM partman.show_partitions('public.efectivos_posicion')"
        )
        total = int(c.fetchone()[0])
    resultado["tamano_gib"] = round(total / 2**30, 2)
    resultado["bytes_por_fila"] = round(total / max(resultado["filas"], 1))
    resultado["llena"] = fase(args.lotes)
    vaciar()
    resultado["vacia"] = fase(args.lotes)
    v, ll = resultado["vacia"], resultado["llena"]
    resultado["razon_ingesta_llena_vacia"] = round(ll["ingesta"]["lecturas_por_s"] / v["ingesta"]["lecturas_por_s"], 3)
    resultado["razon_recorrido_p50_llena_vacia"] = round(
        ll["recorrido"]["ejecucion_ms"]["p50"] / max(v["recorrido"]["ejecucion_ms"]["p50"], 1e-6), 3
    )
    Path(__file__).with_name("historia_explain.txt").write_text(ll["recorrido"].pop("plan") + "\n")
    v["recorrido"].pop("plan")
    salida = json.dumps(resultado, indent=2)
    Path(__file__).with_name("resultados_historia.json").write_text(salida + "\n")
    print(salida)


if __name__ == "__main__":
    main()
