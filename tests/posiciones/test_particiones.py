"""The position history and the event log are partitioned by day (pg_partman), kept for their
retention, and made so by migrations alone — on a fresh database (the suite's) and on an existing
one whose rows are moved in (a cluster of its own)."""

from __future__ import annotations

import os
import subprocess
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from efectivos.models import Posicion
from efectivos.tasks import particiones_mantener
from gad_project import particiones
from realtime.models import Evento, Poda
from realtime.services import eventos_podar
from tests.factories import CENTRO
from tests.pg_propio import ClusterPropio
from tests.vivo import RAIZ

pytestmark = pytest.mark.django_db


def _particionada(tabla: str) -> bool:
    with connection.cursor() as c:
        c.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [tabla])
        return c.fetchone() is not None


def _posicion(efectivo, registrada) -> Posicion:
    from django.contrib.gis.geos import Point

    return Posicion(
        efectivo=efectivo,
        punto=Point(*CENTRO, srid=4326),
        registrada_en=registrada,
        recibida_en=timezone.now(),
        fuente="api",
        id_cliente=uuid.uuid4(),
    )


def test_las_migraciones_particionan_por_dia_con_dias_por_delante():
    assert _particionada("efectivos_posicion") and _particionada("realtime_evento")
    with connection.cursor() as c:
        dias = particiones.particiones(c, "efectivos_posicion")
        c.execute("SELECT retention FROM partman.part_config WHERE parent_table = 'public.efectivos_posicion'")
        (retencion,) = c.fetchone()
    hoy = timezone.now()
    assert any(inicio <= hoy < fin for _, inicio, fin in dias)
    assert max(fin for _, _, fin in dias) >= hoy + timedelta(days=6)  # a week ahead
    assert all(fin - inicio == timedelta(days=1) for _, inicio, fin in dias)
    assert retencion == "90 days"


def test_la_retencion_borra_los_dias_viejos_y_deja_los_recientes(settings, efectivo):
    settings.POSICIONES_RETENCION_DIAS = 5
    ahora = timezone.now()
    with connection.cursor() as c:  # days in the past, as a table that has been running has them
        c.execute(
            "SELECT partman.create_partition_time('public.efectivos_posicion', "
            "ARRAY[date_trunc('day', %s::timestamptz), date_trunc('day', %s::timestamptz)])",
            [ahora - timedelta(days=9), ahora - timedelta(days=3)],
        )
    # Inside the old day's partition whatever the time of day the test runs (UTC days).
    dia_viejo = (ahora - timedelta(days=9)).replace(hour=0, minute=0, second=0, microsecond=0)
    viejas = [_posicion(efectivo, dia_viejo + timedelta(hours=1 + h)) for h in range(3)]
    recientes = [_posicion(efectivo, ahora - timedelta(days=3)), _posicion(efectivo, ahora)]
    Posicion.objects.bulk_create(viejas + recientes)
    with connection.cursor() as c:  # in production maintenance runs in a transaction of its own
        c.execute("SET CONSTRAINTS ALL IMMEDIATE")
    particiones_mantener()
    quedan = set(Posicion.objects.values_list("id_cliente", flat=True))
    assert quedan == {p.id_cliente for p in recientes}
    with connection.cursor() as c:
        primero = particiones.particiones(c, "efectivos_posicion")[0][1]
    assert primero >= ahora - timedelta(days=6)


def test_el_registro_de_eventos_suelta_los_dias_viejos_con_su_marca(settings):
    ahora = timezone.now()
    with connection.cursor() as c:
        c.execute(
            "SELECT partman.create_partition_time('public.realtime_evento', ARRAY[date_trunc('day', %s::timestamptz)])",
            [ahora - timedelta(days=5)],
        )
    viejos = [Evento.objects.create(tipo="prueba", datos={}, audiencia=["g"]) for _ in range(3)]
    Evento.objects.filter(pk__in=[e.pk for e in viejos]).update(creado_en=ahora - timedelta(days=5))
    nuevo = Evento.objects.create(tipo="prueba", datos={}, audiencia=["g"])
    borrados = eventos_podar(retencion=timedelta(hours=72))
    assert borrados == 3
    assert list(Evento.objects.values_list("pk", flat=True)) == [nuevo.pk]
    assert Poda.objects.order_by("-hasta_id").first().hasta_id == max(e.pk for e in viejos)
    with connection.cursor() as c:
        assert all(fin > ahora - timedelta(hours=72) for _, _, fin in particiones.particiones(c, "realtime_evento"))


def test_una_lectura_repetida_se_guarda_una_vez(efectivo):
    from posiciones.services import LecturaNueva, posiciones_registrar

    ahora = timezone.now()
    lectura = LecturaNueva(
        efectivo_id=efectivo.pk, lon=CENTRO[0], lat=CENTRO[1], registrada_en=ahora, id_cliente=uuid.uuid4()
    )
    primera = posiciones_registrar(lecturas=[lectura], fuente="api")
    segunda = posiciones_registrar(lecturas=[lectura], fuente="api")
    assert (primera.aceptadas, segunda.aceptadas, segunda.duplicadas) == (1, 0, 1)
    assert Posicion.objects.filter(id_cliente=lectura.id_cliente).count() == 1


@pytest.mark.lento
def test_una_base_existente_se_particiona_y_sus_filas_se_mudan():
    """A database at the last plain-table migration, with readings (recent and past the
    retention), events and an alert pointing at a reading: `migrate` partitions both tables and
    moves the rows in, ids and sequence kept."""
    cluster = ClusterPropio()
    try:
        cluster.iniciar()
        with psycopg.connect(f"postgresql://gad@127.0.0.1:{cluster.puerto}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE gad")
        env = {**os.environ, "DATABASE_URL": cluster.url, "LOG_LEVEL": "WARNING"}

        def manage(*args: str) -> None:
            r = subprocess.run(
                [str(RAIZ / ".venv/bin/python"), "manage.py", *args], cwd=RAIZ, env=env, capture_output=True, text=True
            )
            assert r.returncode == 0, r.stdout + r.stderr

        for app, migracion in (("efectivos", "0005"), ("geocercas", "0005"), ("realtime", "0002"), ("mapa", "0002")):
            manage("migrate", app, migracion, "-v0")
        dsn = f"postgresql://gad@127.0.0.1:{cluster.puerto}/gad"
        with psycopg.connect(dsn, autocommit=True) as c:
            assert c.execute("SELECT count(*) FROM pg_partitioned_table").fetchone() == (0,)
            (unidad,) = c.execute(
                "INSERT INTO efectivos_unidad (codigo, nombre) VALUES ('U', 'U') RETURNING id"
            ).fetchone()
            (ef,) = c.execute(
                "INSERT INTO efectivos_efectivo (codigo_interno, dni, nombre, apellido, rango, estado, unidad_id, actualizado_en, especialidades) "
                "VALUES ('E1', '1', 'N', 'A', '', 'disponible', %s, now(), '{}') RETURNING id",
                [unidad],
            ).fetchone()
            c.execute(
                "INSERT INTO efectivos_posicion (efectivo_id, punto, registrada_en, recibida_en, fuente, id_cliente, implausible) "
                "SELECT %s, ST_SetSRID(ST_MakePoint(-58.37, -34.6), 4326), now() - (d || ' days')::interval - (h || ' hours')::interval, "
                "now(), 'api', gen_random_uuid(), false FROM generate_series(0, 99) d, generate_series(0, 9) h",
                [ef],
            )
            (max_id,) = c.execute("SELECT max(id) FROM efectivos_posicion").fetchone()
            (max_conservado,) = c.execute(
                "SELECT max(id) FROM efectivos_posicion WHERE registrada_en >= now() - interval '90 days'"
            ).fetchone()
            (reciente,) = c.execute("SELECT id FROM efectivos_posicion ORDER BY registrada_en DESC LIMIT 1").fetchone()
            c.execute(
                "INSERT INTO realtime_evento (tipo, datos, audiencia, creado_en) SELECT 'x', '{}', '{g}', now() FROM generate_series(1, 50)"
            )
        manage("migrate", "-v0")
        with psycopg.connect(dsn, autocommit=True) as c:
            particionadas = {r[0] for r in c.execute("SELECT partrelid::regclass::text FROM pg_partitioned_table")}
            assert particionadas == {"efectivos_posicion", "realtime_evento"}
            # Rows within the retention (90 days × 10) moved, with their ids; older ones left behind.
            (n, maximo) = c.execute("SELECT count(*), max(id) FROM efectivos_posicion").fetchone()
            assert n == 900 and maximo == max_conservado
            assert c.execute("SELECT 1 FROM efectivos_posicion WHERE id = %s", [reciente]).fetchone() == (1,)
            assert c.execute("SELECT count(*) FROM realtime_evento").fetchone() == (50,)
            (nuevo,) = c.execute(
                "INSERT INTO efectivos_posicion (efectivo_id, punto, registrada_en, recibida_en, fuente, id_cliente) "
                "VALUES (%s, ST_SetSRID(ST_MakePoint(-58.37, -34.6), 4326), now(), now(), 'api', gen_random_uuid()) RETURNING id",
                [ef],
            ).fetchone()
            assert nuevo == max_id + 1  # the sequence goes on
            c.execute("REFRESH MATERIALIZED VIEW mapa_densidad")
            # Received in the last hour, registered within a day: today's ten and the new one.
            assert c.execute("SELECT sum(lecturas) FROM mapa_densidad").fetchone() == (11,)
        manage("makemigrations", "--check", "--dry-run")  # the models say what the database has
    finally:
        cluster.borrar()
