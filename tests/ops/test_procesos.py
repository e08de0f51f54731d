"""Process faults, with SIGKILL: a Celery task whose process dies is run again; a worker that
vanishes has its task redelivered after the visibility timeout; under `make run` (supervisord) a
killed server or worker is started again while the rest keeps serving."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.request
import uuid
from contextlib import contextmanager

import pytest
from django.conf import settings
from django_redis import get_redis_connection

from tests.vivo import RAIZ, esperar_http, proceso, puerto_libre

pytestmark = pytest.mark.lento


def _esperar(condicion, segundos: float, que: str):
    fin = time.monotonic() + segundos
    while time.monotonic() < fin:
        valor = condicion()
        if valor:
            return valor
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {que}")


@contextmanager
def _worker(cola: str, **env: str):
    comando = [
        str(RAIZ / ".venv/bin/celery"),
        "-A",
        "gad_project",
        "worker",
        "-I",
        "tests.tareas_celery",
        "-Q",
        cola,
        "--concurrency",
        "1",
        "-l",
        "info",
        "-n",
        f"{cola}@%h",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
    ]
    with proceso(f"celery-{cola}", comando, **env) as p:
        yield p


def _marcas(clave: str) -> list[str]:
    return [m.decode() for m in get_redis_connection("default").lrange(clave, 0, -1)]


def test_una_tarea_cuyo_proceso_muere_se_ejecuta_de_nuevo(transactional_db):
    from tests.tareas_celery import lenta

    cola, clave = f"prueba-{uuid.uuid4().hex[:8]}", f"{settings.REDIS_PREFIX}:prueba:{uuid.uuid4().hex}"
    with _worker(cola) as worker:
        lenta.apply_async((clave, 3.0), queue=cola)
        primera = _esperar(lambda: [m for m in _marcas(clave) if m.startswith("inicio")], 30, "the task to start")
        pid = int(primera[0].split(":")[1])
        assert pid != worker.pid  # the pool's process, not the worker's main one
        os.kill(pid, signal.SIGKILL)
        marcas = _esperar(lambda: [m for m in _marcas(clave) if m.startswith("fin")] and _marcas(clave), 30, "re-run")
    inicios = [m for m in marcas if m.startswith("inicio")]
    assert len(inicios) == 2 and inicios[0] != inicios[1], marcas  # run again, by a new process
    assert len([m for m in marcas if m.startswith("fin")]) == 1


def test_un_worker_que_desaparece_devuelve_su_tarea_tras_la_visibilidad(transactional_db):
    from tests.tareas_celery import lenta

    cola, clave = f"prueba-{uuid.uuid4().hex[:8]}", f"{settings.REDIS_PREFIX}:prueba:{uuid.uuid4().hex}"
    env = {"CELERY_VISIBILITY_TIMEOUT_S": "10", "CELERY_TASK_TIME_LIMIT_S": "8"}
    with _worker(cola, **env) as worker:
        lenta.apply_async((clave, 2.0), queue=cola)
        _esperar(lambda: _marcas(clave), 30, "the task to start")
        os.killpg(worker.pid, signal.SIGKILL)  # the whole worker: nobody left to requeue it
        muerto = time.monotonic()
    assert _marcas(clave)[-1].startswith("inicio")  # it never finished
    with _worker(cola, **env):
        _esperar(lambda: any(m.startswith("fin") for m in _marcas(clave)), 40, "redelivery")
        tardanza = time.monotonic() - muerto
    assert 8 <= tardanza <= 35, tardanza  # after the 10 s visibility timeout, not Redis' default hour


def test_make_run_reinicia_el_proceso_que_muere_y_el_resto_sigue(transactional_db):
    from django.db import connection

    puerto = puerto_libre()  # the script also takes the next two (uvicorn, daphne-1)
    base = os.environ.get("DATABASE_URL") or f"postgis://gad:gad@127.0.0.1:{os.environ.get('GAD_PG_PORT', '55432')}/gad"
    env = {
        "GAD_PORT": str(puerto),
        "GAD_PROCESOS": "1",
        "GAD_SIMULADOR": "0",
        "GAD_LOGS": f".run/logs/test-run-{puerto}",
        "DATABASE_URL": base.rsplit("/", 1)[0] + f"/{connection.settings_dict['NAME']}",
        "PROMETHEUS_MULTIPROC_DIR": str(RAIZ / ".run" / f"metricas-test-run-{puerto}"),
    }
    conf = RAIZ / ".run" / f"supervisord-{puerto}.conf"
    ctl = [str(RAIZ / ".venv/bin/supervisorctl"), "-c", str(conf)]

    def estado() -> dict[str, tuple[str, int]]:
        salida = subprocess.run([*ctl, "status"], capture_output=True, text=True).stdout
        return {
            m.group(1): (m.group(2), int(m.group(3) or 0))
            for m in re.finditer(r"^(\S+)\s+(\S+)\s+(?:pid (\d+))?", salida, flags=re.M)
        }

    with proceso(f"run-{puerto}", ["bash", "scripts/run.sh"], **env) as run:
        url = f"http://127.0.0.1:{puerto}"
        esperar_http(f"{url}/health", timeout=60)
        antes = _esperar(
            lambda: (e := estado()) and all(s == "RUNNING" for s, _ in e.values()) and len(e) >= 5 and e,
            60,
            "every process running",
        )
        assert {"uvicorn", "daphne-1", "haproxy", "celery-worker", "celery-beat"} <= set(antes)
        for nombre in ("daphne-1", "celery-worker"):
            os.kill(antes[nombre][1], signal.SIGKILL)
        # The HTTP side never stopped serving meanwhile.
        assert urllib.request.urlopen(f"{url}/health", timeout=5).status == 200
        despues = _esperar(
            lambda: (
                (e := estado())
                and all(e[n][0] == "RUNNING" and e[n][1] != antes[n][1] for n in ("daphne-1", "celery-worker"))
                and e
            ),
            60,
            "the killed processes to be started again",
        )
        assert despues["uvicorn"] == antes["uvicorn"] and despues["haproxy"] == antes["haproxy"]
        # The WebSocket back end answers through the proxy again.
        esperar_http(f"http://127.0.0.1:{puerto + 2}/health", timeout=30)
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=40)
    for _, pid in despues.values():  # Ctrl-C (TERM) stopped every one of them
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
