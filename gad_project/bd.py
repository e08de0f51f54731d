"""Database helpers shared by the services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


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
