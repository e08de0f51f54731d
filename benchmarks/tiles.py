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

from common import ZONA, Servidor, percentiles, preparar_django, sembrar, token, wrk

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


def _wrk_tiles(url: str, rutas: list[str], cookie: str, segundos: int, autorizacion: str = "") -> dict:
    res = wrk(
        url,
        script=AQUI / "tiles.lua",
        segundos=segundos,
        conexiones=32,
        hilos=2,
        env={"TILES": ",".join(rutas), "COOKIE": cookie, "AUTORIZACION": autorizacion},
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
        # The same tiles for a JWT client (a phone, a script): its first tile of each goes through
        # Django, which gives the token's user its scope; the rest take the fast path.
        autorizacion = f"Bearer {token(srv.url)}"
        for ruta in cuerpos:
            urllib.request.urlopen(urllib.request.Request(srv.url + ruta, headers={"Authorization": autorizacion}))
        nuestro_jwt = _wrk_tiles(srv.url, list(cuerpos), "", segundos, autorizacion)
    nginx_ref = _nginx(cuerpos, workers, segundos, cookie)
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
        "nuestro_jwt": nuestro_jwt,
        "referencia_thin": referencia,
        "referencia_nginx": nginx_ref,
        "razon": round(nuestro["tiles_s"] / referencia["tiles_s"], 3),
        "razon_nginx": round(nuestro["tiles_s"] / nginx_ref["tiles_s"], 3),
        "razon_nginx_jwt": round(nuestro_jwt["tiles_s"] / nginx_ref["tiles_s"], 3),
    }


def _nginx(cuerpos: dict[str, bytes], workers: int, segundos: int, cookie: str) -> dict:
    """nginx serving the very same bytes as static files, with as many worker processes as our
    server has: the issue's reference (what no application server can beat)."""
    import shutil
    import subprocess
    import tempfile

    raiz = Path(tempfile.mkdtemp(prefix="gad-nginx-"))
    raiz.chmod(0o755)  # nginx's workers run as another user when it is started as root
    for ruta, cuerpo in cuerpos.items():
        archivo = raiz / "www" / ruta.lstrip("/")
        archivo.parent.mkdir(parents=True, exist_ok=True)
        archivo.write_bytes(cuerpo)
    puerto = 8767
    (raiz / "nginx.conf").write_text(
        f"""
worker_processes {workers};
daemon off;
pid {raiz}/nginx.pid;
error_log {raiz}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {raiz}/tmp;
    default_type application/vnd.mapbox-vector-tile;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{puerto};
        root {raiz}/www;
        add_header Cache-Control "private, max-age=60";
    }}
}}
"""
    )
    proc = subprocess.Popen(["nginx", "-c", str(raiz / "nginx.conf"), "-p", str(raiz)])
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{puerto}{next(iter(cuerpos))}", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        res = _wrk_tiles(f"http://127.0.0.1:{puerto}", list(cuerpos), cookie, segundos)
        assert res["errores_http"] == 0, res
        return res
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(raiz, ignore_errors=True)


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


CIUDAD_PASO_M = 100  # a street every 100 m each way over ZONA, an avenue every 1,000 m
CIUDAD_ZOOMS = range(10, 16)
REFERENCIA_UNIDAD = "BVACIA"  # a unidad with no efectivos: the same page without the layer


def ciudad_instalar() -> dict:
    """A street extract of the bench's whole area, installed as an agency installs one
    (`base_instalar`, which also indexes the names): a grid of named streets and avenues over
    ZONA in the Protomaps schema, encoded by PostGIS and written with the pmtiles library (the
    tests' archive, tests/mapa/osm_prueba.py, at city scale). Idempotent per run directory."""
    import io
    import tempfile

    from django.core.management import call_command
    from django.db import connection

    from mapa import tiles
    from tests.mapa.osm_prueba import escribir_pmtiles

    x0, y0, x1, y1 = ZONA
    with connection.cursor() as c:
        c.execute(
            """
            CREATE TEMP TABLE ciudad AS
            WITH paso AS (SELECT %(paso)s / 111320.0 AS lat_g, %(paso)s / (111320.0 * cos(radians(%(y0)s))) AS lon_g)
            SELECT CASE WHEN i %% 10 = 0 THEN 'Avenida ' ELSE 'Calle ' END || 'Este ' || i AS name,
                   CASE WHEN i %% 10 = 0 THEN 'major_road' ELSE 'minor_road' END AS kind,
                   ST_Transform(ST_SetSRID(ST_MakeLine(ST_MakePoint(%(x0)s, %(y0)s + i * lat_g),
                                                       ST_MakePoint(%(x1)s, %(y0)s + i * lat_g)), 4326), 3857) AS geom
            FROM paso, generate_series(0, floor((%(y1)s - %(y0)s) / (SELECT lat_g FROM paso))::int) i
            UNION ALL
            SELECT CASE WHEN i %% 10 = 0 THEN 'Avenida ' ELSE 'Calle ' END || 'Norte ' || i,
                   CASE WHEN i %% 10 = 0 THEN 'major_road' ELSE 'minor_road' END,
                   ST_Transform(ST_SetSRID(ST_MakeLine(ST_MakePoint(%(x0)s + i * lon_g, %(y0)s),
                                                       ST_MakePoint(%(x0)s + i * lon_g, %(y1)s)), 4326), 3857)
            FROM paso, generate_series(0, floor((%(x1)s - %(x0)s) / (SELECT lon_g FROM paso))::int) i
            """,
            {"paso": CIUDAD_PASO_M, "x0": x0, "y0": y0, "x1": x1, "y1": y1},
        )
        calles = c.rowcount
        c.execute("CREATE INDEX ON ciudad USING gist (geom)")
        teselas = {}
        for z, x, y in tiles.tiles_de_zona(bbox=ZONA, zooms=CIUDAD_ZOOMS):
            c.execute(
                """
                WITH t AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
                roads AS (SELECT kind, name, ST_AsMVTGeom(geom, t.env) AS geom FROM ciudad, t
                          WHERE geom && t.env AND (%(z)s >= 13 OR kind = 'major_road')),
                earth AS (SELECT 'earth' AS kind, ST_AsMVTGeom(t.env, t.env) AS geom FROM t)
                SELECT (SELECT ST_AsMVT(earth, 'earth', 4096, 'geom') FROM earth)
                       || coalesce((SELECT ST_AsMVT(roads, 'roads', 4096, 'geom') FROM roads WHERE geom IS NOT NULL), '')
                """,
                {"z": z, "x": x, "y": y},
            )
            teselas[(z, x, y)] = bytes(c.fetchone()[0])
        c.execute("DROP TABLE ciudad")
    archivo = Path(tempfile.mkdtemp(prefix="gad-ciudad-")) / "ciudad.pmtiles"
    escribir_pmtiles(
        archivo,
        teselas,
        bbox=ZONA,
        centro=((x0 + x1) / 2, (y0 + y1) / 2),
        zoom_centro=12,
        metadatos={"name": "ciudad", "vector_layers": [{"id": "earth", "fields": {}}, {"id": "roads", "fields": {}}]},
    )
    inicio = time.perf_counter()
    call_command("base_instalar", str(archivo), stdout=io.StringIO())
    return {
        "calles": calles,
        "teselas": len(teselas),
        "bytes": archivo.stat().st_size,
        "instalar_e_indexar_s": round(time.perf_counter() - inicio, 1),
    }


def pagina_con_calles(url: str, repeticiones: int = 6) -> dict:
    """The first complete render with the street extract installed, for the 10,000-efectivo
    commander and, alternating with it in the same browser, for a commander of a unidad with no
    efectivos (the same page, streets and all, without the efectivos layer's data): the
    difference is what 10,000 efectivos cost, the reference what the machine gives now."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    from efectivos.models import Rol, Unidad, Usuario
    from tests.navegador import ARGS, CHROMIUM

    vacia, _ = Unidad.objects.get_or_create(codigo=REFERENCIA_UNIDAD, defaults={"nombre": "Bench sin efectivos"})
    if not Usuario.objects.filter(username="bench.vacio").exists():
        Usuario.objects.create_user("bench.vacio", password="bench-clave", rol=Rol.COMANDANTE, unidad=vacia)
    galletas = {}
    for usuario in ("bench.mapa", "bench.vacio"):
        cookie = sesion(url, usuario, "bench-clave")
        galletas[usuario] = [
            {"name": k, "value": v, "url": url} for k, v in (p.split("=", 1) for p in cookie.split("; "))
        ]
    tiempos: dict[str, list[float]] = {"bench.mapa": [], "bench.vacio": []}
    base_cargada: dict[str, int] = {}
    etapas: dict[str, dict[str, list[float]]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for i in range(repeticiones + 1):
            for usuario in ("bench.mapa", "bench.vacio"):
                contexto = browser.new_context(viewport={"width": 1366, "height": 768})
                contexto.add_cookies(galletas[usuario])
                pag = contexto.new_page()
                pag.goto(f"{url}/mapa/")
                pag.wait_for_selector("body[data-listo='1']", timeout=30_000)
                listo = pag.evaluate("window.gadMapa.listoEn")
                calles = pag.evaluate(
                    "window.gadMapa.map.queryRenderedFeatures({layers: ['osm-calles-menores', 'osm-calles-principales']}).length"
                )
                base_cargada[usuario] = min(base_cargada.get(usuario, calles), calles)
                if i > 0:
                    for marca, t in pag.evaluate(
                        "Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, m.startTime]))"
                    ).items():
                        etapas.setdefault(usuario, {}).setdefault(marca, []).append(t)
                if i == 0 and usuario == "bench.mapa":
                    assert pag.evaluate("window.gadMapa.capas.efectivos.size") == MAPA_EFECTIVOS
                if i > 0:  # the first round warms the browser's and server's caches
                    tiempos[usuario].append(listo)
                if i == repeticiones and usuario == "bench.mapa":
                    pag.screenshot(path=str(AQUI / "mapa_10000_calles.png"))
                contexto.close()
        browser.close()
    con, sin = percentiles(tiempos["bench.mapa"]), percentiles(tiempos["bench.vacio"])
    return {
        "render_completo_ms_10000": con,
        "render_completo_ms_referencia_sin_efectivos": sin,
        "costo_de_los_efectivos_p50_ms": round(con["p50"] - sin["p50"], 1),
        # From navigation start, p50 of each stage: fonts ready, map style loaded, snapshot
        # received, layers filled (then the map draws until idle: render_completo).
        "etapas_p50_ms": {
            u: {
                m: round(statistics.median(v), 1)
                for m, v in sorted(marcas.items(), key=lambda kv: statistics.median(kv[1]))
            }
            for u, marcas in etapas.items()
        },
        "calles_dibujadas_min": base_cargada,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segundos", type=int, default=30)
    parser.add_argument(
        "--pagina-con-calles",
        action="store_true",
        help="Only the map page's first render with a city-wide street extract installed, and its reference.",
    )
    parser.add_argument(
        "--solo-cache",
        action="store_true",
        help="Only the cached tiles: session, JWT, the thin app and nginx, on uvicorn x2 (make run's HTTP).",
    )
    args = parser.parse_args()
    if args.solo_cache:
        preparar_django()
        preparar_datos()
        resultado = {
            "fecha": time.strftime("%Y-%m-%d %H:%M"),
            "http_con_cache_uvicorn_x2": con_cache_y_referencia("uvicorn", 2, args.segundos),
        }
        print(json.dumps(resultado, indent=2, ensure_ascii=False))
        return
    if args.pagina_con_calles:
        # An extract of the bench's own, not the development one (.run/base).
        os.environ.setdefault("MAPA_BASE_DIR", str(AQUI.parent / ".run" / "bench-base"))
        preparar_django()
        datos = preparar_datos()
        resultado = {"fecha": time.strftime("%Y-%m-%d %H:%M"), "extracto": ciudad_instalar()}
        with Servidor("daphne") as srv:
            resultado["pagina"] = pagina_con_calles(f"http://127.0.0.1:{srv.puerto}")
        (AQUI / "resultados_mapa_calles.json").write_text(json.dumps(resultado, indent=2, ensure_ascii=False) + "\n")
        print(json.dumps(resultado, indent=2, ensure_ascii=False))
        return
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
