"""Ingest through the multi-node topology (scripts/cluster.sh): 1 app node against 2, same run,
same machine, and where the CPU goes in each.

    .venv/bin/python benchmarks/cluster.py [--segundos 15] [--rondas 3]

The topology runs on the bench database (`gad_bench`, 10,000 efectivos): HAProxy in front,
PgBouncer before the primary, the replica streaming. Rounds of single readings (32 connections,
wrk with ingest.lua) alternate 1 node / 2 nodes, so the machine's noise hits both; then batches of
100 (one phone's buffer per request, 16 connections). During each round the CPU seconds of every
process are read from /proc and summed by kind (uvicorn, daphne, postgres, pgbouncer, haproxy,
redis, wrk)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent))

from common import RAIZ, preparar_django, sembrar, token, wrk_lecturas

FRENTE = 8300
TICK = os.sysconf("SC_CLK_TCK")


def _cpu_por_tipo() -> dict[str, float]:
    tipos = ("uvicorn", "daphne", "postgres", "pgbouncer", "haproxy", "redis", "wrk", "celery")
    total: dict[str, float] = defaultdict(float)
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            linea = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            campos = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tipo = next((t for t in tipos if t in linea), None)
        if tipo:
            total[tipo] += (int(campos[11]) + int(campos[12])) / TICK
    return total


def _diferencia(antes: dict[str, float], despues: dict[str, float], segundos: float) -> dict[str, float]:
    """Cores used by each kind of process over the round."""
    return {
        t: round((despues.get(t, 0) - antes.get(t, 0)) / segundos, 2)
        for t in despues
        if despues.get(t, 0) - antes.get(t, 0) > 0.05
    }


def _arrancar(nodos: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "GAD_NODOS": str(nodos),
        "GAD_CLUSTER_PORT": str(FRENTE),
        "GAD_CLUSTER_DB": "gad_bench",
        "GAD_CLUSTER_DIR": str(RAIZ / ".run" / "cluster-bench"),
        "GAD_LOGS": str(RAIZ / ".run" / "logs" / "cluster-bench"),
        "GAD_SIMULADOR": "0",
        # The request paths alone: beat's density refresh (seconds of both cores every minute on
        # this data) would land in random rounds.
        "GAD_BEAT": "0",
        "REDIS_PREFIX": "gadbench",
        "SECRET_KEY": "b" * 50,
        "LOG_LEVEL": "WARNING",
        "VELOCIDAD_MAX_KMH": "1000000",
        "LIMITE_POSICIONES": "1000000000/min",
    }
    registro = RAIZ / ".run" / "logs" / f"bench-cluster-{nodos}.log"
    registro.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        ["bash", "scripts/cluster.sh", "start"],
        cwd=RAIZ,
        env=env,
        stdout=registro.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    fin = time.monotonic() + 600  # the first start copies the primary into the replica
    while time.monotonic() < fin:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{FRENTE}/health/ready", timeout=2).status == 200:
                # every node in rotation
                time.sleep(3)
                return proc
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("cluster did not start")


def _parar(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)


def _ronda(tok: str, id_base: int, segundos: int, conexiones: int, lote: int, mismo: bool) -> dict:
    antes = _cpu_por_tipo()
    t = time.monotonic()
    r = wrk_lecturas(f"http://127.0.0.1:{FRENTE}", tok, id_base, segundos, conexiones, lote, mismo)
    r["nucleos_por_proceso"] = _diferencia(antes, _cpu_por_tipo(), time.monotonic() - t)
    return r


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--segundos", type=int, default=15)
    p.add_argument("--rondas", type=int, default=3)
    args = p.parse_args()
    preparar_django()
    sembrar(efectivos=10_000, geocercas=1000)
    from efectivos.models import Efectivo

    id_base = Efectivo.objects.order_by("pk").values_list("pk", flat=True).first()
    resultado: dict = {"rondas": []}
    for _ in range(args.rondas):
        ronda = {}
        for nodos in (1, 2):
            proc = _arrancar(nodos)
            try:
                tok = token(f"http://127.0.0.1:{FRENTE}")
                _ronda(tok, id_base, 3, 8, 1, False)  # warm-up
                ronda[f"{nodos}_nodos"] = _ronda(tok, id_base, args.segundos, 32, 1, False)
            finally:
                _parar(proc)
        resultado["rondas"].append(ronda)
    for nodos in (1, 2):
        proc = _arrancar(nodos)
        try:
            tok = token(f"http://127.0.0.1:{FRENTE}")
            resultado[f"lotes_100_{nodos}_nodos"] = _ronda(tok, id_base, args.segundos, 16, 100, True)
        finally:
            _parar(proc)
    uno = sorted(r["1_nodos"]["lecturas_por_s"] for r in resultado["rondas"])
    dos = sorted(r["2_nodos"]["lecturas_por_s"] for r in resultado["rondas"])
    resultado["mediana_1_nodo"] = uno[len(uno) // 2]
    resultado["mediana_2_nodos"] = dos[len(dos) // 2]
    resultado["razon_2_sobre_1"] = round(resultado["mediana_2_nodos"] / resultado["mediana_1_nodo"], 2)
    salida = json.dumps(resultado, indent=2)
    Path(__file__).with_name("resultados_cluster.json").write_text(salida + "\n")
    print(salida)


if __name__ == "__main__":
    main()
