"""Database helpers shared by the services."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections


@contextmanager
def tuberia() -> Iterator[None]:
    """psycopg's pipeline mode on Django's connection, for the length of the block.

    Statements are sent as they are executed and their results read when fetched, so statements
    that do not depend on each other share one round trip. Under load a round trip costs far more
    than PostgreSQL's work (the waiting thread must be scheduled again and win the GIL back), so
    the ingest transaction sends its dozen statements in five round trips instead of twelve.

    Cursors whose results are not fetched must stay open until the block ends.

    Leaving the block syncs the pipeline outside Django's cursor wrappers: the error raised when
    PostgreSQL goes away at that moment is psycopg's own, so it is translated here into Django's
    (an OperationalError, which the API answers with a 503) and the connection marked unusable."""
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


# --- Reads that tolerate lag, on the replica ------------------------------------------------------
#
# With DATABASE_REPLICA_URL set (`make cluster`), the reads that may be a moment behind — the map's
# snapshot and tiles, tracks, who-was-where, reports, exports, statistics — run on the streaming
# replica inside `lectura_tolerante()`; everything else (ingest, dispatch, replay from `desde`,
# auth, any write and whatever must see its own writes) stays on the primary. A replica that is
# unreachable, or further behind than REPLICA_RETRASO_MAX_S, is skipped for REPLICA_REVISION_S:
# those reads go to the primary meanwhile.

_tolerante: ContextVar[bool] = ContextVar("gad_lectura_tolerante", default=False)
_estado = {"viva": True, "revisada": 0.0}
_estado_lock = threading.Lock()
REPLICA = "replica"


@contextmanager
def lectura_tolerante() -> Iterator[None]:
    marca = _tolerante.set(True)
    try:
        yield
    finally:
        _tolerante.reset(marca)


def tolerante(vista):
    """A view whose reads may come from the replica."""

    @functools.wraps(vista)
    def envuelta(*args, **kwargs):
        with lectura_tolerante():
            return vista(*args, **kwargs)

    return envuelta


def alias_lectura() -> str:
    if _tolerante.get() and REPLICA in settings.DATABASES and _replica_viva():
        return REPLICA
    return DEFAULT_DB_ALIAS


def conexion_lectura():
    return connections[alias_lectura()]


def replica_caida() -> None:
    """A read on the replica failed: the primary serves them until the next check."""
    with _estado_lock:
        _estado.update(viva=False, revisada=time.monotonic())


def _replica_viva() -> bool:
    ahora = time.monotonic()
    if ahora - _estado["revisada"] < settings.REPLICA_REVISION_S:
        return bool(_estado["viva"])
    with _estado_lock:
        if ahora - _estado["revisada"] < settings.REPLICA_REVISION_S:
            return bool(_estado["viva"])
        _estado["revisada"] = ahora
        try:
            with connections[REPLICA].cursor() as c:
                c.execute(
                    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
                    "ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END"
                )
                (retraso,) = c.fetchone()
            _estado["viva"] = float(retraso or 0) <= settings.REPLICA_RETRASO_MAX_S
        except DatabaseError:
            _estado["viva"] = False
        finally:
            connections[REPLICA].close()
        return bool(_estado["viva"])


class Enrutador:
    """DATABASE_ROUTERS: ORM reads inside `lectura_tolerante()` go where `alias_lectura` says;
    writes and migrations always to the primary."""

    def db_for_read(self, model, **hints) -> str:
        return alias_lectura()

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True

    def allow_migrate(self, db, app_label, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS


@contextmanager
def cursor_tolerante():
    """A cursor for a read that tolerates lag: on the replica when it is fit, else the primary."""
    with lectura_tolerante():
        alias = alias_lectura()
    try:
        with connections[alias].cursor() as c:
            yield c
    except DatabaseError:
        if alias == REPLICA:
            replica_caida()
        raise


def conexiones_revisar() -> None:
    """After a failure that may mean PostgreSQL restarted: this thread's connection is closed if it
    is broken, and every idle connection of the pool is checked, the dead ones replaced (they all
    died with the server; the next caller would otherwise meet them one by one)."""
    from django.db import close_old_connections, connections

    close_old_connections()
    for alias in connections:
        pool = getattr(connections[alias], "pool", None)
        if pool is not None:
            with contextlib.suppress(Exception):  # the server may still be down: nothing to check
                pool.check()


BLOQUE_FILAS = 2000


def filas_por_bloques(sql: str, params: dict[str, Any] | list[Any]) -> Iterator[tuple[Any, ...]]:
    """A query's rows, fetched BLOQUE_FILAS at a time through a server-side cursor
    (`chunked_cursor()`, a named cursor WITH HOLD), so a year of readings never sits in memory —
    on the replica when there is a fit one (a streamed export tolerates its lag; chosen now, while
    the rows are pulled later)."""
    with lectura_tolerante():
        alias = alias_lectura()
    return _filas(sql, params, alias)


def _filas(sql: str, params: dict[str, Any] | list[Any], alias: str) -> Iterator[tuple[Any, ...]]:
    with connections[alias].chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while bloque := cursor.fetchmany(BLOQUE_FILAS):
            yield from bloque
