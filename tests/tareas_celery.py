"""A task for the process-fault tests only (a Celery worker started with `-I tests.tareas_celery`):
it notes in Redis when it starts and when it ends, and takes a few seconds in between."""

from __future__ import annotations

import os
import time

from django_redis import get_redis_connection

from gad_project.celery import app


@app.task(name="tests.lenta")
def lenta(clave: str, segundos: float) -> None:
    redis = get_redis_connection("default")
    redis.rpush(clave, f"inicio:{os.getpid()}")
    time.sleep(segundos)
    redis.rpush(clave, f"fin:{os.getpid()}")
