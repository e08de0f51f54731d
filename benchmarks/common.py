"""Shared set-up for benchmarks: a separate `gad_bench` database on the local cluster (the demo
data is never touched), seeded with a realistic operating area, and an ASGI server to load."""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

RAIZ = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(RAIZ))

PG_PORT = int(os.environ.get("GAD_PG_PORT", "55432"))
BENCH_DB_URL = os.environ.get("BENCH_DATABASE_URL", f"postgis://gad:gad@127.0.0.1:{PG_PORT}/gad_bench")
ZONA = (-58.53, -34.70, -58.34, -34.53)  # operating area: CABA
M_LAT = 111_320.0


def preparar_django() -> None:
    """Point Django at the bench database (created and migrated if needed) and set it up, with
    the bench's channel-layer keys cleared: group memberships left by a previous run's killed
    server would otherwise slow every group_send until they expire."""
    import psycopg

    os.environ["DATABASE_URL"] = BENCH_DB_URL
    # As served (scripts/run.sh): with DEBUG on, every statement is also formatted for the
    # debug cursor's log (a tenth of the in-process service's time, measured).
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "b" * 50)
    # The Makefile points SECRET_KEY_FILE at .run/secret_key, and a _FILE wins over the value: the
    # servers would sign with another key than the thin reference verifies with.
    os.environ.pop("SECRET_KEY_FILE", None)
    os.environ.setdefault("REDIS_PREFIX", "gadbench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gad_project.settings")
    admin_url = BENCH_DB_URL.replace("postgis://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    nombre = BENCH_DB_URL.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [nombre]).fetchone():
            conn.execute(f'CREATE DATABASE "{nombre}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django_redis import get_redis_connection

    redis = get_redis_connection("default")
    for clave in redis.scan_iter(match=f"{os.environ['REDIS_PREFIX']}:asgi*", count=1000):
        redis.delete(clave)


def poligono_wkt(rnd: random.Random, lon: float, lat: float, radio_m: float, vertices: int = 50) -> str:
    m_lon = M_LAT * math.cos(math.radians(lat))
    puntos = []
    for i in range(vertices):
        ang = 2 * math.pi * i / vertices
        r = radio_m * rnd.uniform(0.7, 1.25)
        puntos.append(f"{lon + r * math.cos(ang) / m_lon:.7f} {lat + r * math.sin(ang) / M_LAT:.7f}")
    puntos.append(puntos[0])
    return f"MULTIPOLYGON((({', '.join(puntos)})))"


def sembrar(*, efectivos: int, geocercas: int, semilla: int = 7) -> dict:
    """Idempotent: 3 unidades, `efectivos` efectivos with a recent fix, `geocercas` fences of
    ~50 vertices spread over the area, and an admin user `bench` / `bench-clave`."""
    from django.db import connection

    from efectivos.models import Efectivo, Rol, Unidad, Usuario
    from gad_project import cifrado
    from geocercas.models import Geocerca

    rnd = random.Random(semilla)
    unidades = [Unidad.objects.get_or_create(codigo=f"B{i}", defaults={"nombre": f"Bench {i}"})[0] for i in range(3)]
    if not Usuario.objects.filter(username="bench").exists():
        Usuario.objects.create_superuser("bench", password="bench-clave", rol=Rol.ADMINISTRADOR)
    faltan = efectivos - Efectivo.objects.count()
    if faltan > 0:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO efectivos_efectivo (codigo_interno, dni, nombre, apellido, rango, unidad_id,
                    especialidades, estado, ultima_posicion, ultima_posicion_en, actualizado_en)
                SELECT 'BX' || n, 'D' || n, 'Nombre', 'Apellido' || n, 'Agente', (%s::bigint[])[1 + n %% 3],
                    '{}', CASE WHEN n %% 10 = 0 THEN 'fuera_servicio' WHEN n %% 7 = 0 THEN 'en_tarea' ELSE 'disponible' END,
                    ST_SetSRID(ST_MakePoint(%s + random() * %s, %s + random() * %s), 4326),
                    now() - random() * interval '5 minutes', now()
                FROM generate_series((SELECT COUNT(*) FROM efectivos_efectivo) + 1, %s) AS n
                """,
                [[u.pk for u in unidades], ZONA[0], ZONA[2] - ZONA[0], ZONA[1], ZONA[3] - ZONA[1], efectivos],
            )
            # DNIs are stored encrypted (gad_project.cifrado), as the ORM would have written them.
            cifrado.cifrar_columna(cursor, "efectivos_efectivo", "dni", True)
    faltan = geocercas - Geocerca.objects.count()
    if faltan > 0:
        filas = []
        for i in range(faltan):
            lon = rnd.uniform(ZONA[0], ZONA[2])
            lat = rnd.uniform(ZONA[1], ZONA[3])
            tipo = rnd.choice(["restringida", "perimetro", "control"])
            filas.append(
                (f"Bench {i}", tipo, poligono_wkt(rnd, lon, lat, rnd.uniform(50, 250)), rnd.choice([5, 10, 20]))
            )
        with connection.cursor() as cursor:
            cursor.executemany(
                """INSERT INTO geocercas_geocerca (nombre, descripcion, tipo, geom, activa, severidad, histeresis_m,
                       version, creada_en, actualizada_en, horario_dias, silencio_motivo)
                   VALUES (%s, '', %s, ST_GeomFromText(%s, 4326), true, 'advertencia', %s, 1, now(), now(), '{}', '')""",
                filas,
            )
    with connection.cursor() as cursor:
        turnos_asegurar(cursor)
        cursor.execute("ANALYZE")
    return {"efectivos": Efectivo.objects.count(), "geocercas": Geocerca.objects.count()}


def turnos_asegurar(cursor) -> None:
    """Every bench efectivo on duty (efectivos.Turno: readings off duty are not stored), so the
    ingest runs its duty check and stores everything: a shift from a day ago to a week ahead."""
    cursor.execute("DELETE FROM efectivos_turno WHERE fin < now() + interval '1 day'")
    cursor.execute(
        """INSERT INTO efectivos_turno (efectivo_id, inicio, fin, funcion)
           SELECT e.id, now() - interval '1 day', now() + interval '7 days', ''
           FROM efectivos_efectivo e
           WHERE NOT EXISTS (SELECT 1 FROM efectivos_turno s WHERE s.efectivo_id = e.id)"""
    )


SONDA = (-58.45, -34.66)  # a restricted zone of its own for the probe efectivo


def preparar_sonda() -> int:
    """A small restricted fence at SONDA and an efectivo of its own to walk in and out of it."""
    from django.contrib.gis.geos import MultiPolygon, Polygon
    from django.db import connection

    from efectivos.models import Efectivo, Unidad
    from geocercas.models import Geocerca

    lon, lat = SONDA
    d = 0.001
    if not Geocerca.objects.filter(nombre="Sonda").exists():
        Geocerca.objects.create(
            nombre="Sonda",
            tipo="restringida",
            histeresis_m=5,
            geom=MultiPolygon(
                Polygon(
                    ((lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d), (lon - d, lat + d), (lon - d, lat - d))
                ),
                srid=4326,
            ),
        )
    efectivo, _ = Efectivo.objects.get_or_create(
        codigo_interno="SONDA",
        defaults={"dni": "SONDA", "nombre": "Sonda", "apellido": "Sonda", "unidad": Unidad.objects.first()},
    )
    with connection.cursor() as cursor:
        turnos_asegurar(cursor)
    return efectivo.pk


def subir_limite_archivos(n: int = 65536) -> None:
    """Thousands of sockets need more file descriptors than the default 1024."""
    import resource

    _, duro = resource.getrlimit(resource.RLIMIT_NOFILE)
    objetivo = n if duro == resource.RLIM_INFINITY else min(n, duro)
    try:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (objetivo, max(objetivo, duro) if duro != resource.RLIM_INFINITY else duro)
        )
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, duro), duro))


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (uvicorn workers), in KiB."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        for linea in Path(f"/proc/{p}/status").read_text().splitlines():
            if linea.startswith("VmRSS:"):
                total += int(linea.split()[1])
    return total


def percentiles(valores: list[float]) -> dict:
    if not valores:
        return {}
    v = sorted(valores)

    def p(q: float) -> float:
        return round(v[min(len(v) - 1, int(q * len(v)))], 3)

    return {"n": len(v), "p50": p(0.50), "p95": p(0.95), "p99": p(0.99), "max": round(v[-1], 3)}


class Servidor:
    """An ASGI server on the bench database: daphne (one process, as `make run` serves) or
    uvicorn with N workers (the comparison the issue asks for)."""

    def __init__(
        self,
        tipo: str = "daphne",
        puerto: int = 8765,
        workers: int = 1,
        env: dict | None = None,
        app: str = "gad_project.asgi:application",
    ) -> None:
        self.tipo, self.puerto, self.workers, self.env, self.app = tipo, puerto, workers, env or {}, app
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Servidor:
        env = {
            **os.environ,
            "DATABASE_URL": BENCH_DB_URL,
            "DEBUG": "false",
            "SECRET_KEY": "b" * 50,
            "LOG_LEVEL": "WARNING",
            "REDIS_PREFIX": os.environ.get("REDIS_PREFIX", "gadbench"),
            # Plain HTTP on loopback: the browser-like clients cannot send Secure cookies.
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            # The probes jump a kilometre every 100 ms and loads land anywhere: real tracks are
            # plausible, so here every reading takes the full path (the check still runs).
            "VELOCIDAD_MAX_KMH": "1000000",
            # One account loads for many efectivos: the per-user limits count, never bind.
            "LIMITE_POSICIONES": "1000000000/min",
            "LIMITE_ESCRITURAS": "1000000000/min",
            **self.env,
        }
        venv = RAIZ / ".venv" / "bin"
        if self.tipo == "daphne":
            cmd = [str(venv / "daphne"), "-b", "127.0.0.1", "-p", str(self.puerto), self.app]
        else:
            cmd = [
                str(venv / "uvicorn"),
                self.app,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.puerto),
                "--workers",
                str(self.workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ]
        self.proc = subprocess.Popen(
            cmd, cwd=RAIZ, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        fin = time.monotonic() + 30
        while time.monotonic() < fin:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.puerto}/health", timeout=1)
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.tipo} did not start: {self.proc.stderr.read(2000) if self.proc.stderr else ''}")

    def __exit__(self, *exc) -> None:
        if self.proc:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.puerto}"


def token(url: str, usuario: str = "bench", clave: str = "bench-clave") -> str:
    req = urllib.request.Request(
        f"{url}/api/v1/auth/token/",
        data=json.dumps({"username": usuario, "password": clave}).encode(),
        headers={"Content-Type": "application/json"},
    )
    return json.loads(urllib.request.urlopen(req, timeout=10).read())["access"]


def wrk(url: str, *, script: Path, segundos: int, conexiones: int, hilos: int = 1, env: dict | None = None) -> dict:
    """Run wrk with a Lua script whose done() prints one JSON line; returns it parsed."""
    salida = subprocess.run(
        [
            "wrk",
            "-t",
            str(hilos),
            "-c",
            str(conexiones),
            "-d",
            f"{segundos}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=segundos + 60,
    )
    for linea in salida.stdout.splitlines():
        if linea.startswith("{"):
            return json.loads(linea)
    raise RuntimeError(salida.stdout + salida.stderr)


def wrk_lecturas(
    url: str,
    tok: str,
    id_base: int,
    segundos: int,
    conexiones: int,
    lote: int,
    mismo: bool = False,
    recorrido: bool = False,
) -> dict:
    """wrk with ingest.lua against a readings endpoint: `lote` readings a request, each a random
    efectivo's of the bench's 10,000 (`mismo`: each request one efectivo's buffer), anywhere in
    the area (`recorrido`: each efectivo a few tens of metres from its previous reading)."""
    env = {
        "EFECTIVOS": "10000",
        "ID_BASE": str(id_base),
        "TOKEN": tok,
        "LOTE": str(lote),
        "MISMO": "1" if mismo else "0",
        "RECORRIDO": "1" if recorrido else "0",
    }
    r = wrk(url, script=Path(__file__).with_name("ingest.lua"), segundos=segundos, conexiones=conexiones, env=env)
    r["lecturas_por_s"] = round(r["requests"] * lote / r["segundos"])
    return r


def _post_lecturas(url: str, cuerpo, tok: str) -> None:
    req = urllib.request.Request(
        f"{url}/api/v1/posiciones/",
        data=json.dumps(cuerpo).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {tok}"},
    )
    urllib.request.urlopen(req, timeout=10).read()


def carga_de_fondo(url: str, tok: str, ids: list[int], parar: threading.Event) -> list[threading.Thread]:
    """The background load: ~500 readings/s (10 batches of 50 a second) until `parar` is set."""

    def carga() -> None:
        rnd = random.Random(1)
        siguiente = time.monotonic()
        while not parar.is_set():
            lote = [
                {
                    "id_cliente": str(uuid.uuid4()),
                    "efectivo": rnd.choice(ids),
                    "lat": rnd.uniform(-34.70, -34.53),
                    "lon": rnd.uniform(-58.53, -58.34),
                    "registrada_en": (datetime.now(UTC) + timedelta(microseconds=i)).isoformat(),
                    "precision_m": 8,
                }
                for i in range(50)
            ]
            _post_lecturas(url, lote, tok)
            siguiente += 0.1
            time.sleep(max(0.0, siguiente - time.monotonic()))

    hilos = [threading.Thread(target=carga, daemon=True)]
    for h in hilos:
        h.start()
    return hilos
