"""Vector tiles and map page benchmark (issue: the commanders' live map).

Targets, with 100,000 efectivos and 1,000 geocercas: cached tiles >= 1,500 tiles/s; uncached z14
tiles p95 <= 50 ms; the map page in headless Chromium with 10,000 efectivos in scope: first
complete render <= 2 s. Cached tiles are also reported as a ratio to thin_tiles.py (the same
bytes, one Redis GET each) served by the same kind of server right after, in the same run.

    .venv/bin/python benchmarks/tiles.py [--segundos 30]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import urllib.error
import urllib.request
from pathlib import Path

from common import ZONA, Servidor, percentiles, preparar_django, sembrar, wrk

AQUI = Path(__file__).resolve().parent
MAPA_UNIDAD = "BMAPA"  # a unidad holding exactly 10,000 of the efectivos, for the page test
MAPA_EFECTIVOS = 10_000
PREFIJO_THIN = "gadbench:thin:"


def sesion(url: str, usuario: str, clave: str) -> str:
    """A browser session through the real login form (the tests' helper); the Cookie header."""
    from tests.vivo import sesion_navegador

    return sesion_navegador(url, usuario, clave)


def preparar_datos() -> dict:
    """100k efectivos, 1k geocercas (common.sembrar), 10k of the efectivos moved to a unidad of
    their own with a commander, and an hour of positions for the density layer."""
    from django.db import connection

    from efectivos.models import Efectivo, Rol, Unidad, Usuario
    from mapa import services

    sembrado = sembrar(efectivos=100_000, geocercas=1_000)
    unidad, _ = Unidad.objects.get_or_create(codigo=MAPA_UNIDAD, defaults={"nombre": "Bench mapa"})
    faltan = MAPA_EFECTIVOS - Efectivo.objects.filter(unidad=unidad).count()
    if faltan > 0:
        with connection.cursor() as cursor:
            cursor.execute(
                """UPDATE efectivos_efectivo SET unidad_id = %s
                   WHERE id IN (SELECT id FROM efectivos_efectivo WHERE unidad_id <> %s ORDER BY id LIMIT %s)""",
                [unidad.pk, unidad.pk, faltan],
            )
    if not Usuario.objects.filter(username="bench.mapa").exists():
        Usuario.objects.create_user("bench.mapa", password="bench-clave", rol=Rol.COMANDANTE, unidad=unidad)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM efectivos_posicion WHERE recibida_en > now() - interval '1 hour'")
        if cursor.fetchone()[0] < 200_000:
            cursor.execute(
                """INSERT INTO efectivos_posicion (efectivo_id, punto, registrada_en, recibida_en, fuente, id_cliente)
                   SELECT e.id, ST_SetSRID(ST_MakePoint(ST_X(e.ultima_posicion) + (random() - .5) * .004,
                                                        ST_Y(e.ultima_posicion) + (random() - .5) * .004), 4326),
                          now() - random() * interval '50 minutes', now() - random() * interval '50 minutes',
                          'simulador', gen_random_uuid()
                   FROM efectivos_efectivo e, generate_series(1, 2)"""
            )
        cursor.execute("VACUUM ANALYZE efectivos_efectivo")
        cursor.execute("ANALYZE efectivos_posicion")
    inicio = time.perf_counter()
    services.densidad_refrescar()  # refresh + warm, as the beat task does every minute
    refresco_s = time.perf_counter() - inicio
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(lecturas) FROM mapa_densidad")
        celdas, lecturas = cursor.fetchone()
    return {
        **sembrado,
        "densidad": {"celdas": celdas, "lecturas": lecturas, "refresco_y_calentado_s": round(refresco_s, 3)},
    }


def tiles_z14() -> list[tuple[int, int, int]]:
    from mapa.tiles import tiles_de_zona

    return tiles_de_zona(bbox=ZONA, zooms=range(14, 15))


def base_de_datos() -> dict:
    """Tile generation inside PostgreSQL (no HTTP), every z14 tile of the area, and one plan."""
    from django.db import connection

    from mapa import tiles

    todo = tiles.AlcanceTeselas("todo", None)
    resultado = {}
    for capa in ("efectivos", "geocercas", "densidad", "base"):
        tiempos, tamanos = [], []
        for z, x, y in tiles_z14():
            inicio = time.perf_counter()
            datos = tiles.tile_generar(capa=capa, z=z, x=x, y=y, alcance=todo)
            tiempos.append((time.perf_counter() - inicio) * 1000)
            tamanos.append(len(datos))
        resultado[capa] = {"ms": percentiles(tiempos), "bytes_medio": int(statistics.mean(tamanos))}
    z, x, y = tiles_z14()[len(tiles_z14()) // 2]
    planes = []
    with connection.cursor() as cursor:
        for capa in ("efectivos", "geocercas"):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + tiles.CAPAS[capa], {"z": z, "x": x, "y": y, "unidad": None})
            planes.append(f"-- {capa} z{z}/{x}/{y}\n" + "\n".join(f[0] for f in cursor.fetchall()))
    (AQUI / "tiles_explain.txt").write_text("\n\n".join(planes) + "\n")
    resultado["gist_usado"] = all("Index Scan" in p or "Bitmap Index Scan" in p for p in planes)
    return resultado


def http_sin_cache(url: str, cookie: str) -> dict:
    """Every z14 tile of the area once, with the tile cache emptied first: each one is built."""
    from mapa.tiles import cache_vaciar

    resultado = {}
    for capa in ("efectivos", "geocercas", "base"):
        cache_vaciar()
        tiempos, estados = [], {}
        for z, x, y in tiles_z14():
            req = urllib.request.Request(f"{url}/tiles/{capa}/{z}/{x}/{y}.pbf", headers={"Cookie": cookie})
            inicio = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    r.read()
                    estado = r.status
            except urllib.error.HTTPError as e:
                estado = e.code
            tiempos.append((time.perf_counter() - inicio) * 1000)
            estados[estado] = estados.get(estado, 0) + 1
        resultado[capa] = {"ms": percentiles(tiempos), "estados": estados}
    return resultado


def http_con_cache(url: str, cookie: str, segundos: int) -> dict:
    """wrk over the area's cached tiles (geocercas, densidad and the base map's land, z12-z14: the
    versioned layers, which stay cached until they change)."""
    from mapa.tiles import tiles_de_zona

    rutas = [
        f"/tiles/{capa}/{z}/{x}/{y}.pbf"
        for capa in ("geocercas", "densidad", "base")
        for z, x, y in tiles_de_zona(bbox=ZONA, zooms=range(12, 15))
    ]
    cuerpos = {}
    for ruta in rutas:  # warm
        req = urllib.request.Request(url + ruta, headers={"Cookie": cookie})
        cuerpos[ruta] = urllib.request.urlopen(req, timeout=10).read()
    res = _wrk_tiles(url, rutas, cookie, segundos)
    res["rutas"] = len(rutas)
    res["bytes_medio"] = round(sum(map(len, cuerpos.values())) / len(cuerpos))
    return res, cuerpos


def _wrk_tiles(url: str, rutas: list[str], cookie: str, segundos: int) -> dict:
    res = wrk(
        url,
        script=AQUI / "tiles.lua",
        segundos=segundos,
        conexiones=32,
        hilos=2,
        env={"TILES": ",".join(rutas), "COOKIE": cookie},
    )
    res["tiles_s"] = round(res["requests"] / res["segundos"], 1)
    return res


def con_cache_y_referencia(tipo: str, workers: int, segundos: int) -> dict:
    """Cached tiles/s on our server, then on the thin reference (thin_tiles.py: the same bytes,
    one Redis GET each) under the same server kind right after: their ratio is the figure that
    holds from one run to the next."""
    import redis
    from django.conf import settings

    with Servidor(tipo, workers=workers) as srv:
        cookie = sesion(srv.url, "bench", "bench-clave")
        nuestro, cuerpos = http_con_cache(srv.url, cookie, segundos)
    cliente = redis.Redis.from_url(settings.REDIS_URL)
    cliente.mset({f"{PREFIJO_THIN}{ruta}": cuerpo for ruta, cuerpo in cuerpos.items()})
    entorno = {"PYTHONPATH": str(AQUI), "REDIS_URL": settings.REDIS_URL, "THIN_PREFIJO": PREFIJO_THIN}
    try:
        with Servidor(tipo, puerto=8766, workers=workers, env=entorno, app="thin_tiles:application") as srv:
            referencia = _wrk_tiles(srv.url, list(cuerpos), cookie, segundos)
    finally:
        cliente.delete(*(f"{PREFIJO_THIN}{ruta}" for ruta in cuerpos))
    assert referencia["errores_http"] == 0, referencia
    return {
        "nuestro": nuestro,
        "referencia_thin": referencia,
        "razon": round(nuestro["tiles_s"] / referencia["tiles_s"], 3),
    }


def pagina(url: str, repeticiones: int = 5) -> dict:
    """The map page as the 10,000-efectivo commander, in headless Chromium: from navigation to
    the first complete render (snapshot loaded, layers drawn, map idle)."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    from tests.navegador import ARGS, CHROMIUM

    cookie = sesion(url, "bench.mapa", "bench-clave")
    galletas = [{"name": k, "value": v, "url": url} for k, v in (p.split("=", 1) for p in cookie.split("; "))]
    tiempos, snapshot_ms, dibujados = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for i in range(repeticiones + 1):
            contexto = browser.new_context(viewport={"width": 1366, "height": 768})
            contexto.add_cookies(galletas)
            pag = contexto.new_page()
            pag.goto(f"{url}/mapa/")
            pag.wait_for_selector("body[data-listo='1']", timeout=30_000)
            listo = pag.evaluate("window.gadMapa.listoEn")
            cargados = pag.evaluate("window.gadMapa.capas.efectivos.size")
            datos = pag.evaluate(
                "performance.getEntriesByType('resource').filter(r => r.name.includes('/mapa/datos/')).map(r => r.duration)[0]"
            )
            if i == 0:  # first run warms the browser's and server's caches of static files
                assert cargados == MAPA_EFECTIVOS, cargados
            else:
                tiempos.append(listo)
                snapshot_ms.append(datos)
                dibujados.append(
                    pag.evaluate("window.gadMapa.map.queryRenderedFeatures({layers: ['efectivos']}).length")
                )
            if i == repeticiones:
                pag.screenshot(path=str(AQUI / "mapa_10000.png"))
            contexto.close()
        browser.close()
    return {
        "efectivos": MAPA_EFECTIVOS,
        "render_completo_ms": percentiles(tiempos),
        "snapshot_http_ms": percentiles(snapshot_ms),
        "dibujados_en_pantalla": min(dibujados),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segundos", type=int, default=30)
    args = parser.parse_args()
    preparar_django()
    datos = preparar_datos()
    resultado = {
        "fecha": time.strftime("%Y-%m-%d %H:%M"),
        "maquina": f"{platform.machine()}, {os.cpu_count()} cores",
        "datos": datos,
        "base_de_datos_z14": base_de_datos(),
    }
    with Servidor("daphne") as srv:
        url = f"http://127.0.0.1:{srv.puerto}"
        cookie = sesion(url, "bench", "bench-clave")
        resultado["http_sin_cache_z14_daphne"] = http_sin_cache(url, cookie)
        resultado["pagina_daphne"] = pagina(url)
    resultado["http_con_cache_daphne"] = con_cache_y_referencia("daphne", 1, args.segundos)
    resultado["http_con_cache_uvicorn_x2"] = con_cache_y_referencia("uvicorn", 2, args.segundos)
    (AQUI / "resultados_tiles.json").write_text(json.dumps(resultado, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(resultado, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
