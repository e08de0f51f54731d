"""`/metrics`: the metrics of every process of this machine, in Prometheus' text format.

Each process writes its own to files (prometheus_client's multiprocess mode, directory
`PROMETHEUS_MULTIPROC_DIR`); this view adds them up, so a reading stored by the simulator, an
update handled by the bot or a Celery task run all show on any server process's /metrics. Figures
that are the same for every process — the database's connections and event log, the bot's
delivery backlog — are read from PostgreSQL at scrape time instead.

Only for Prometheus: a bearer token (`METRICS_TOKEN`) or a client address in `METRICS_REDES`."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import re
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from gad_project import rls
from gad_project.api.errors import error_body

logger = logging.getLogger(__name__)

POOL = Gauge(
    "gad_bd_pool_conexiones",
    "Connections in the processes' PostgreSQL pools, in use or idle",
    ["estado"],
    multiprocess_mode="livesum",
)
for _e in ("en_uso", "libres"):
    POOL.labels(estado=_e)
POOL_ESPERANDO = Gauge(
    "gad_bd_pool_esperando", "Requests waiting for a pooled connection now", multiprocess_mode="livesum"
)
POOL_MAX = Gauge("gad_bd_pool_max", "The pools' maximum size, over the live processes", multiprocess_mode="livesum")
POOL_AGOTADO = Counter("gad_bd_pool_timeouts_total", "Checkouts that gave up waiting for a pooled connection")
POOL_PERIODO_S = 5.0

_ARCHIVO_VIVO = re.compile(r"^gauge_live\w+?_(\d+)\.db$")


def _vive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _limpiar_muertos(directorio: str) -> None:
    """A process that died cannot say so: its live gauges (sockets, backlog, pool) are dropped here
    when its pid no longer exists. Its counters stay, so totals never go back."""
    for nombre in os.listdir(directorio):
        m = _ARCHIVO_VIVO.match(nombre)
        if m and not _vive(int(m.group(1))):
            multiprocess.mark_process_dead(int(m.group(1)), directorio)


class BaseDeDatos:
    """What PostgreSQL says of itself: its connections by state, its replicas' lag. (What it says of
    the apps' rows, each app's own collector: colector_registrar.)"""

    def describe(self):
        return []

    def collect(self):
        conexiones = GaugeMetricFamily(
            "gad_postgresql_conexiones", "Connections to the project's database, by state", labels=["estado"]
        )
        with connection.cursor() as c:
            c.execute(
                "SELECT coalesce(state, 'otro'), count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "GROUP BY 1"
            )
            for estado, n in c.fetchall():
                conexiones.add_metric([estado.replace(" ", "_")], n)
            c.execute("SELECT setting::int FROM pg_settings WHERE name = 'max_connections'")
            (maximo,) = c.fetchone()
            # Streaming replicas as the primary sees them: how far behind each one replays.
            c.execute(
                "SELECT application_name, coalesce(extract(epoch FROM replay_lag), 0), "
                "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0) FROM pg_stat_replication"
            )
            replicas = c.fetchall()
        retraso = GaugeMetricFamily(
            "gad_postgresql_replica_retraso_seconds",
            "How far behind each streaming replica replays",
            labels=["replica"],
        )
        retraso_bytes = GaugeMetricFamily(
            "gad_postgresql_replica_retraso_bytes",
            "WAL bytes each streaming replica has yet to replay",
            labels=["replica"],
        )
        for nombre, segundos, faltan in replicas:
            retraso.add_metric([nombre or "replica"], float(segundos))
            retraso_bytes.add_metric([nombre or "replica"], float(faltan))
        yield retraso
        yield retraso_bytes
        yield conexiones
        yield GaugeMetricFamily("gad_postgresql_conexiones_max", "PostgreSQL's max_connections", value=maximo)


class Dependencias:
    """The collectors that read the database are left out of a scrape when it is down, so
    /metrics keeps answering; `gad_dependencia_ok{dependencia}` says what this scrape could reach."""

    def __init__(self, *colectores) -> None:
        self.colectores = colectores

    def describe(self):
        return []

    def collect(self):
        from django_redis import get_redis_connection

        muestras = []
        postgresql = 1
        try:
            for c in self.colectores:
                muestras.extend(c.collect())
        except Exception:
            logger.warning("metrics read from the database are unavailable", exc_info=True)
            muestras, postgresql = [], 0
        try:
            redis = 1 if get_redis_connection("default").ping() else 0
        except Exception:  # noqa: BLE001 - unreachable, timed out, refused
            redis = 0
        yield from muestras
        ok = GaugeMetricFamily(
            "gad_dependencia_ok", "1 if this scrape reached the dependency, else 0", labels=["dependencia"]
        )
        ok.add_metric(["postgresql"], postgresql)
        ok.add_metric(["redis"], redis)
        yield ok


# Collectors that read the apps' rows at scrape time (a collect() yielding metric families), each
# registered by its app in AppConfig.ready(); like BaseDeDatos they are left out of a scrape while
# the database is down (Dependencias).
_COLECTORES: list[Any] = []


def colector_registrar(colector: Any) -> None:
    if all(type(c) is not type(colector) for c in _COLECTORES):
        _COLECTORES.append(colector)


def _permitido(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    # Constant time: the comparison must not tell a scraper how much of a guess was right.
    if token and hmac.compare_digest(request.headers.get("Authorization", "").encode(), f"Bearer {token}".encode()):
        return True
    try:
        direccion = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(direccion in ipaddress.ip_network(r, strict=False) for r in settings.METRICS_REDES)


@rls.usar(rls.SISTEMA)  # a scrape counts every unidad's rows: the system reads them
def metricas(request: HttpRequest) -> HttpResponse:
    if not _permitido(request):
        return JsonResponse(
            error_body("prohibido", "Métricas solo para Prometheus: token o red autorizada (ver README)."), status=403
        )
    directorio = settings.PROMETHEUS_MULTIPROC_DIR
    _limpiar_muertos(directorio)
    registro = CollectorRegistry()
    multiprocess.MultiProcessCollector(registro, path=directorio)
    registro.register(Dependencias(BaseDeDatos(), *_COLECTORES))
    return HttpResponse(generate_latest(registro), content_type=CONTENT_TYPE_LATEST)


# --- The pool's figures, from each process ---------------------------------------------------------

_vigilante_pid = 0
_vigilante_lock = threading.Lock()


def _vigilar_pool() -> None:
    pid = os.getpid()
    while True:
        time.sleep(POOL_PERIODO_S)
        if os.getpid() != pid:  # a forked child's copy of the thread does not exist; defensive
            return
        pool = getattr(connections["default"], "pool", None)
        if pool is None:
            continue
        try:
            s = pool.pop_stats()
        except Exception:  # noqa: BLE001 - closed pool at shutdown
            return
        tamano, libres = s.get("pool_size", 0), s.get("pool_available", 0)
        POOL.labels(estado="en_uso").set(tamano - libres)
        POOL.labels(estado="libres").set(libres)
        POOL_ESPERANDO.set(s.get("requests_waiting", 0))
        POOL_MAX.set(s.get("pool_max", 0))
        if s.get("requests_errors"):
            POOL_AGOTADO.inc(s["requests_errors"])


def _al_conectar(sender, connection, **kwargs) -> None:
    """The first connection of a process starts its pool watcher (after any fork: per pid)."""
    global _vigilante_pid
    if _vigilante_pid == os.getpid():
        return
    with _vigilante_lock:
        if _vigilante_pid != os.getpid():
            _vigilante_pid = os.getpid()
            threading.Thread(target=_vigilar_pool, name="gad-pool-metricas", daemon=True).start()


connection_created.connect(_al_conectar, dispatch_uid="gad_pool_metricas")


# --- Celery ------------------------------------------------------------------------------------------

CELERY_TAREAS = Counter("gad_celery_tareas_total", "Celery task runs by outcome", ["tarea", "estado"])
CELERY_DURACION = Histogram(
    "gad_celery_tarea_seconds",
    "Time a Celery task takes to run",
    ["tarea"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
_inicios: dict[str, float] = {}


def _tarea_inicio(task_id=None, **kwargs) -> None:
    if task_id:
        _inicios[task_id] = time.perf_counter()


def _tarea_fin(task_id=None, task=None, state=None, **kwargs) -> None:
    inicio = _inicios.pop(task_id, None) if task_id else None
    nombre = getattr(task, "name", "desconocida")
    if inicio is not None:
        CELERY_DURACION.labels(tarea=nombre).observe(time.perf_counter() - inicio)
    CELERY_TAREAS.labels(tarea=nombre, estado=(state or "desconocido").lower()).inc()


def celery_conectar() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_tarea_inicio, weak=False, dispatch_uid="gad_metricas_inicio")
    task_postrun.connect(_tarea_fin, weak=False, dispatch_uid="gad_metricas_fin")
