"""Time-partitioned history tables, managed by pg_partman (Debian's postgresql-15-partman).

`efectivos_posicion` (by the device's `registrada_en`) and `realtime_evento` (by `creado_en`) are
range-partitioned by day. pg_partman creates the days ahead (`premake`) and, for positions, drops
the days past `POSICIONES_RETENCION_DIAS`; the event log's old days are dropped by
realtime.services.eventos_podar, which records the resync watermark first. Both run from Celery
beat every hour (efectivos.tasks.particiones_mantener); partman keeps a default partition for
rows outside the days it made.

A partitioned table's unique keys must contain the partition column, so the primary key is
(id, time) — `id` still comes from one sequence, unique in practice, and is what Django uses —
and the readings' unique key is (id_cliente, registrada_en): a retry carries the same reading,
device time included, so it is stored once.

`convertir` turns an existing plain table into a partitioned one in a migration, moving its rows
(fresh databases take the same path with an empty table)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

ESQUEMA = "partman"


@dataclass(frozen=True)
class Particionada:
    tabla: str
    columna: str
    premake: int  # days created ahead
    # Statements run on the new (empty, partitioned) table, before the rows are moved in.
    ddl: Sequence[str]


def extension_crear(cursor) -> None:
    cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {ESQUEMA}")
    cursor.execute(f"CREATE EXTENSION IF NOT EXISTS pg_partman WITH SCHEMA {ESQUEMA}")


def convertir(cursor, p: Particionada, *, conservar_dias: int | None) -> int:
    """Replace `p.tabla` with a partitioned copy of itself, rows included (those older than
    `conservar_dias` are left behind: retention would drop them). Returns the rows moved."""
    t, previa, seq = p.tabla, f"{p.tabla}_previa", f"{p.tabla}_id_particionada_seq"
    cursor.execute("SET LOCAL statement_timeout = 0")  # moving a large table takes what it takes
    cursor.execute(f"LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE")
    # Rows elsewhere that point at this table keep the id as a plain column: a foreign key cannot
    # reference a partitioned table by id alone (and the history outlives none of them).
    cursor.execute("SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE confrelid = %s::regclass", [t])
    for tabla, restriccion in cursor.fetchall():
        cursor.execute(f'ALTER TABLE {tabla} DROP CONSTRAINT "{restriccion}"')
    cursor.execute(f"ALTER TABLE {t} RENAME TO {previa}")
    # Index and constraint names are per schema: the old table's give way to the new one's.
    cursor.execute(
        "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass",
        [previa],
    )
    for (indice,) in cursor.fetchall():
        cursor.execute(f'ALTER INDEX "{indice}" RENAME TO "{indice[:50]}_previa"')
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
        [previa],
    )
    for (restriccion,) in cursor.fetchall():
        cursor.execute(f'ALTER TABLE {previa} RENAME CONSTRAINT "{restriccion}" TO "{restriccion[:50]}_previa"')
    cursor.execute(f"CREATE TABLE {t} (LIKE {previa} INCLUDING DEFAULTS) PARTITION BY RANGE ({p.columna})")
    # The identity sequence belongs to the old table: a plain one continues its numbers.
    cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {previa}")
    (siguiente,) = cursor.fetchone()
    cursor.execute(f"CREATE SEQUENCE {seq} START WITH {int(siguiente)} OWNED BY {t}.id")
    cursor.execute(f"ALTER TABLE {t} ALTER COLUMN id SET DEFAULT nextval('{seq}')")
    cursor.execute(f"ALTER TABLE {t} ADD PRIMARY KEY (id, {p.columna})")
    for sentencia in p.ddl:
        cursor.execute(sentencia)
    cursor.execute(
        f"SELECT to_char(date_trunc('day', least(coalesce(min({p.columna}), now()), now())), 'YYYY-MM-DD') FROM {previa}"
        + (f" WHERE {p.columna} >= now() - interval '{int(conservar_dias)} days'" if conservar_dias else "")
    )
    (inicio,) = cursor.fetchone()
    cursor.execute(
        f"SELECT {ESQUEMA}.create_parent(p_parent_table := %s, p_control := %s, p_type := 'native', "
        "p_interval := 'daily', p_premake := %s, p_start_partition := %s)",
        [f"public.{t}", p.columna, p.premake, inicio],
    )
    cursor.execute(
        f"INSERT INTO {t} SELECT * FROM {previa}"
        + (f" WHERE {p.columna} >= now() - interval '{int(conservar_dias)} days'" if conservar_dias else "")
    )
    movidas = cursor.rowcount
    cursor.execute(f"DROP TABLE {previa}")
    cursor.execute(f"ANALYZE {t}")
    return movidas


def retencion_fijar(cursor, tabla: str, dias: int | None) -> None:
    """partman drops a table's days older than this (None: it keeps them all)."""
    cursor.execute(
        f"UPDATE {ESQUEMA}.part_config SET retention = %s, retention_keep_table = false, "
        "retention_keep_index = false, infinite_time_partitions = true WHERE parent_table = %s",
        [f"{dias} days" if dias else None, f"public.{tabla}"],
    )


def mantener(cursor) -> None:
    """Create the days ahead and drop the expired ones, for every partitioned table (inside a
    transaction: dropping a day of readings may take longer than the statement timeout)."""
    cursor.execute("SET LOCAL statement_timeout = 0")
    cursor.execute(f"SELECT {ESQUEMA}.run_maintenance(p_analyze := false)")


def particiones(cursor, tabla: str) -> list[tuple[str, datetime, datetime]]:
    """(name, start, end) of a table's day partitions, oldest first (the default one left out)."""
    cursor.execute(
        f"SELECT p.partition_tablename, i.child_start_time, i.child_end_time "
        f"FROM {ESQUEMA}.show_partitions(%s) p, "
        f"LATERAL {ESQUEMA}.show_partition_info(p.partition_schemaname || '.' || p.partition_tablename) i "
        "ORDER BY i.child_start_time",
        [f"public.{tabla}"],
    )
    return [tuple(f) for f in cursor.fetchall()]
