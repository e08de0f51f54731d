"""The map's search box (issue: a map to work from): p50/p95 of `GET /mapa/datos/buscar/` through
Django's full stack (session, DRF, JSON; no network) over an index of 200,000 names (streets,
places, areas) and the bench's 10,000 efectivos and 1,000 geocercas. Queries: one word, two words,
a code, an intersection ("A y B"), a name nobody has. Same-run reference: the same queries with the
trigram index disabled (enable_bitmapscan off), which is what the index buys.

    .venv/bin/python benchmarks/busqueda.py [--nombres 200000] [--rondas 40]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path

from common import percentiles, preparar_django, sembrar

PREFIJOS = ["Calle", "Avenida", "Pasaje", "Boulevard", "Diagonal", "Plaza", "Parque", "Barrio"]
NOMBRES = [
    "San Martín",
    "Belgrano",
    "Rivadavia",
    "Sarmiento",
    "Moreno",
    "Mitre",
    "Alem",
    "Alvear",
    "Corrientes",
    "Santa Fe",
    "Córdoba",
    "Tucumán",
    "Lavalle",
    "Paraguay",
    "Uruguay",
    "Perú",
    "Chile",
    "Bolívar",
    "Defensa",
    "Piedras",
    "Tacuarí",
    "Salta",
    "Jujuy",
    "Entre Ríos",
    "Callao",
    "Pueyrredón",
    "Juncal",
    "Arenales",
    "Güemes",
    "Dorrego",
    "Saavedra",
    "Castelli",
    "Larrea",
    "Azcuénaga",
    "Viamonte",
]
APELLIDOS = ["Gómez", "Pérez", "Fernández", "López", "Díaz", "Martínez", "Rodríguez", "Sánchez", "Romero", "Suárez"]


def sembrar_lugares(n: int, rnd: random.Random) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM mapa_lugar")
        if cursor.fetchone()[0] >= n:
            return
        cursor.execute("TRUNCATE mapa_lugar")
        filas = []
        for i in range(n):
            nombre = f"{rnd.choice(PREFIJOS)} {rnd.choice(NOMBRES + APELLIDOS)} {rnd.choice(APELLIDOS)} {i}"
            lon, lat = -58.53 + rnd.random() * 0.20, -34.70 + rnd.random() * 0.17
            if i % 3:  # streets: a segment
                g = f"LINESTRING({lon} {lat}, {lon + rnd.uniform(-0.01, 0.01)} {lat + rnd.uniform(-0.01, 0.01)})"
                tipo = "calle"
            else:
                g, tipo = f"POINT({lon} {lat})", "lugar"
            filas.append((nombre, tipo, g))
        cursor.executemany(
            "INSERT INTO mapa_lugar (nombre, normalizado, tipo, geom) "
            "VALUES (%s, lower(unaccent(%s)), %s, ST_GeomFromText(%s, 4326))",
            [(nombre, nombre, tipo, g) for nombre, tipo, g in filas],
        )
        # Two streets that cross, for the intersection query.
        cursor.execute(
            "INSERT INTO mapa_lugar (nombre, normalizado, tipo, geom) VALUES "
            "('Avenida de Mayo', 'avenida de mayo', 'calle', ST_GeomFromText('LINESTRING(-58.40 -34.6088, -58.37 -34.6085)', 4326)),"
            "('Perú', 'peru', 'calle', ST_GeomFromText('LINESTRING(-58.3745 -34.62, -58.3742 -34.60)', 4326))"
        )
        cursor.execute("ANALYZE mapa_lugar")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nombres", type=int, default=200_000)
    parser.add_argument("--rondas", type=int, default=40)
    args = parser.parse_args()
    preparar_django()
    from django.db import connection
    from django.test import Client

    from efectivos.models import Usuario

    datos = sembrar(efectivos=10_000, geocercas=1_000)
    rnd = random.Random(5)
    inicio = time.perf_counter()
    sembrar_lugares(args.nombres, rnd)
    siembra_s = time.perf_counter() - inicio
    cliente = Client()
    cliente.force_login(Usuario.objects.get(username="bench"))
    consultas = {
        "una_palabra": "belgrano",
        "dos_palabras": "avenida saavedra",
        "sin_acento": "peru",
        "codigo": "BX4242",
        "esquina": "avenida de mayo y peru",
        "nadie": "zzqxw",
    }

    def medir() -> dict:
        tiempos: dict[str, list[float]] = {k: [] for k in consultas}
        for _ in range(args.rondas):
            for clave, q in consultas.items():
                t = time.perf_counter()
                r = cliente.get("/mapa/datos/buscar/", {"q": q})
                tiempos[clave].append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.content
        todos = [x for v in tiempos.values() for x in v]
        return {"total_ms": percentiles(todos), **{k: percentiles(v) for k, v in tiempos.items()}}

    cliente.get("/mapa/datos/buscar/", {"q": "calentar"})
    con_indice = medir()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_bitmapscan = off")
    sin_indice = medir()
    with connection.cursor() as cursor:
        cursor.execute("RESET enable_bitmapscan")
    resultado = {
        "fecha": time.strftime("%Y-%m-%d %H:%M"),
        "maquina": f"{os.cpu_count()} cores, {platform.platform()}",
        "datos": {**datos, "lugares": args.nombres},
        "siembra_s": round(siembra_s, 1),
        "rondas": args.rondas,
        "con_indice": con_indice,
        "sin_indice_referencia": sin_indice,
        "razon_p95": round(sin_indice["total_ms"]["p95"] / con_indice["total_ms"]["p95"], 2),
    }
    Path(__file__).with_name("resultados_busqueda.json").write_text(json.dumps(resultado, indent=2, ensure_ascii=False))
    print(json.dumps(resultado, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
