"""Export benchmark (issue: accountability): one efectivo's 1,000,000 readings streamed as CSV,
GPX and GeoJSON by the served app, with the server's peak memory sampled while it streams.

Target: bounded memory — the server's resident memory must not grow with the export's size
(the body is streamed from a server-side cursor; see gad_project/exportes.py).

    .venv/bin/python benchmarks/exportes.py [--lecturas 1000000]
"""

from __future__ import annotations

import argparse
import json
import platform
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC
from pathlib import Path

from common import Servidor, preparar_django, rss_kib, token

AQUI = Path(__file__).resolve().parent


def sembrar_recorrido(lecturas: int) -> int:
    """An efectivo with `lecturas` readings, one a second ending now (inserted by PostgreSQL)."""
    from django.db import connection

    from efectivos.models import Efectivo, Rol, Unidad, Usuario

    unidad, _ = Unidad.objects.get_or_create(codigo="BEXP", defaults={"nombre": "Bench exportes"})
    efectivo, _ = Efectivo.objects.get_or_create(
        codigo_interno="BEXP-0001",
        defaults={"dni": "99000001", "nombre": "Largo", "apellido": "Recorrido", "unidad": unidad},
    )
    if not Usuario.objects.filter(username="bench").exists():
        Usuario.objects.create_superuser("bench", password="bench-clave", rol=Rol.ADMINISTRADOR)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM efectivos_posicion WHERE efectivo_id = %s", [efectivo.pk])
        if cursor.fetchone()[0] != lecturas:
            cursor.execute("DELETE FROM efectivos_posicion WHERE efectivo_id = %s", [efectivo.pk])
            cursor.execute(
                """INSERT INTO efectivos_posicion (efectivo_id, punto, registrada_en, recibida_en, fuente, id_cliente,
                                                   precision_m, implausible)
                   SELECT %s, ST_SetSRID(ST_MakePoint(-58.45 + (g %% 1000) * 0.0001, -34.60 + (g / 1000) * 0.00001), 4326),
                          now() - make_interval(secs => %s - g), now(), 'api', gen_random_uuid(), 5, false
                   FROM generate_series(1, %s) g""",
                [efectivo.pk, lecturas, lecturas],
            )
            cursor.execute("ANALYZE efectivos_posicion")
    return efectivo.pk


def medir(url: str, acceso: str, pid: int, efectivo_id: int, formato: str, lecturas: int) -> dict:
    from datetime import datetime, timedelta

    ahora = datetime.now(UTC)
    consulta = urllib.parse.urlencode(
        {
            "formato": formato,
            "efectivo": efectivo_id,
            "motivo": "supervision",
            "desde": (ahora - timedelta(seconds=lecturas + 3600)).isoformat(),
            "hasta": (ahora + timedelta(minutes=1)).isoformat(),
        }
    )
    pico, base = [rss_kib(pid)], rss_kib(pid)
    listo = threading.Event()

    def muestrear() -> None:
        while not listo.is_set():
            pico.append(rss_kib(pid))
            time.sleep(0.05)

    hilo = threading.Thread(target=muestrear, daemon=True)
    hilo.start()
    req = urllib.request.Request(
        f"{url}/api/v1/exportes/recorridos/?{consulta}", headers={"Authorization": f"Bearer {acceso}"}
    )
    inicio = time.perf_counter()
    primero = None
    total = 0
    with urllib.request.urlopen(req, timeout=600) as r:
        while bloque := r.read(1 << 16):
            if primero is None:
                primero = time.perf_counter() - inicio
            total += len(bloque)
    segundos = time.perf_counter() - inicio
    listo.set()
    hilo.join()
    return {
        "bytes": total,
        "segundos": round(segundos, 2),
        "lecturas_s": round(lecturas / segundos),
        "primer_byte_ms": round((primero or 0) * 1000, 1),
        "rss_antes_mib": round(base / 1024, 1),
        "rss_pico_mib": round(max(pico) / 1024, 1),
        "rss_crecimiento_mib": round((max(pico) - base) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lecturas", type=int, default=1_000_000)
    args = parser.parse_args()
    preparar_django()
    efectivo_id = sembrar_recorrido(args.lecturas)
    resultado: dict = {
        "fecha": time.strftime("%Y-%m-%d %H:%M"),
        "maquina": f"{platform.machine()}, 2 cores",
        "lecturas": args.lecturas,
    }
    with Servidor("uvicorn", workers=1) as s:
        acceso = token(s.url)
        # A small export first: the process's memory after warming up is the baseline.
        medir(s.url, acceso, s.proc.pid, efectivo_id, "csv", args.lecturas)
        for formato in ("csv", "gpx", "geojson"):
            resultado[formato] = medir(s.url, acceso, s.proc.pid, efectivo_id, formato, args.lecturas)
    (AQUI / "resultados_exportes.json").write_text(json.dumps(resultado, indent=2) + "\n")
    print(json.dumps(resultado, indent=2))


if __name__ == "__main__":
    main()
