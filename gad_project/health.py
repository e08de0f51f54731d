"""Health checks for operators: /health says the process is alive; /health/ready checks every
dependency the system needs to serve (PostgreSQL with PostGIS, the Redis cache, the channel layer)."""

from __future__ import annotations

import asyncio
import time
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django_redis import get_redis_connection

# A readiness probe must answer within a second whatever is down, and name only what is.
TIMEOUT_S = 0.8


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"estado": "ok"})


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version()")
            return f"postgis {cursor.fetchone()[0]}"
    finally:
        connection.close()  # back to the pool: this is a worker thread, not a request's


def _check_cache() -> str:
    # The raw client: the cache itself turns Redis errors into misses (see CACHES).
    redis = get_redis_connection("default")
    key = cache.make_key(f"health:{uuid.uuid4().hex}")
    redis.set(key, "1", ex=5)
    if redis.get(key) != b"1":
        raise RuntimeError("el valor escrito no se pudo leer")
    redis.delete(key)
    return "ok"


async def _check_channel_layer() -> str:
    """Through a group, as every event travels. A direct send() to a process channel is no test of
    a sharded layer: channels-redis 4.3 hashes the whole channel name on send() but only its
    process part on receive(), so with several CHANNEL_REDIS_URLS half of such messages land on a
    shard nobody reads (and /health/ready flapped on every node of `make cluster`)."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    group = f"health.{uuid.uuid4().hex}"
    await layer.group_add(group, channel)
    try:
        await layer.group_send(group, {"type": "health.ping"})
        message = await layer.receive(channel)
    finally:
        await layer.group_discard(group, channel)
    if message.get("type") != "health.ping":
        raise RuntimeError("mensaje inesperado")
    return "ok"


async def _run(name: str, check) -> tuple[str, dict]:
    started = time.perf_counter()
    try:
        # Each blocking check in its own thread: one stuck on a dead PostgreSQL must not hold up
        # (and get blamed on) the others, as it did when they shared the thread-sensitive one.
        coro = check() if asyncio.iscoroutinefunction(check) else sync_to_async(check, thread_sensitive=False)()
        detail = await asyncio.wait_for(coro, timeout=TIMEOUT_S)
        ok = True
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported by name
        detail, ok = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, False
    return name, {"ok": ok, "detalle": detail, "ms": round((time.perf_counter() - started) * 1000, 1)}


async def ready(request: HttpRequest) -> JsonResponse:
    results = dict(
        await asyncio.gather(
            _run("database", _check_database),
            _run("redis", _check_cache),
            _run("channel_layer", _check_channel_layer),
        )
    )
    caidos = [name for name, r in results.items() if not r["ok"]]
    body = {"estado": "ok" if not caidos else "degradado", "caidos": caidos, "checks": results}
    respuesta = JsonResponse(body, status=503 if caidos else 200)
    if caidos:
        respuesta["Retry-After"] = "5"
    return respuesta
