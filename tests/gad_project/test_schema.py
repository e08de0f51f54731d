from __future__ import annotations

import random

import pytest
from django.contrib.gis.geos import Point
from django.db import connection

from efectivos.models import Efectivo
from tests.factories import UnidadFactory

pytestmark = pytest.mark.django_db

GEOMETRIAS = {
    ("efectivos_unidad", "jurisdiccion"),
    ("efectivos_efectivo", "ultima_posicion"),
    ("efectivos_posicion", "punto"),
    ("geocercas_geocerca", "geom"),
    ("geocercas_geocerca", "ruta"),  # a corridor's route
    ("geocercas_alerta", "punto"),
    ("tareas_tarea", "ubicacion"),
    ("seguridad_sos", "punto"),
    ("seguridad_sinreporte", "punto"),
    ("mensajes_mensaje", "area"),  # where a message by area or radius went
    ("mapa_densidad", "geom"),  # materialized view
    ("mapa_tierra", "geom"),  # the base map's land
    ("mapa_lugar", "geom"),  # the street extract's named places (mapa.lugares)
}


def _indices() -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        return cursor.fetchall()


def test_las_migraciones_crean_la_extension_postgis():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
        (version,) = cursor.fetchone()
    assert version.startswith("3.")


def test_toda_columna_geometrica_tiene_indice_gist():
    with connection.cursor() as cursor:
        # A partitioned table's days are tables of their own: the parent stands for them.
        cursor.execute(
            "SELECT f_table_name, f_geometry_column FROM geometry_columns g "
            "JOIN pg_class c ON c.relname = g.f_table_name::name AND c.relnamespace = 'public'::regnamespace "
            "WHERE f_table_schema = 'public' AND NOT c.relispartition"
        )
        columnas = set(cursor.fetchall())
    assert columnas == GEOMETRIAS
    indices = _indices()
    for tabla, columna in columnas:
        assert any(
            t == tabla and "USING gist" in d and f"({columna})" in d and "WHERE" not in d for t, _, d in indices
        ), f"sin índice GiST completo en {tabla}.{columna}"


def test_indice_gist_parcial_para_efectivos_disponibles():
    (definicion,) = [d for _, n, d in _indices() if n == "efectivo_geog_disponible_gist"]
    assert "USING gist (((ultima_posicion)::geography))" in definicion
    assert "WHERE ((estado)::text = 'disponible'::text)" in definicion


def test_indices_de_historial_de_posiciones():
    definiciones = {n: d for t, n, d in _indices() if t == "efectivos_posicion"}
    assert "USING brin (recibida_en)" in definiciones["posicion_recibida_brin"]
    assert "(efectivo_id, registrada_en)" in definiciones["posicion_efectivo_fecha"]
    # Partitioned by day of the device time: a unique key includes it (a retry is the same reading).
    assert any("UNIQUE" in d and "(id_cliente, registrada_en)" in d for d in definiciones.values())


def _muchos_efectivos(n: int = 4000, **extra) -> None:
    """Enough efectivos spread over the city for the planner to prefer the indexes."""
    unidad = UnidadFactory()
    rnd = random.Random(1)
    Efectivo.objects.bulk_create(
        (
            Efectivo(
                codigo_interno=f"K{i}",
                dni=f"9{i:07d}",
                nombre="N",
                apellido="A",
                unidad=unidad,
                ultima_posicion=Point(-58.5 + rnd.random() * 0.3, -34.7 + rnd.random() * 0.2, srid=4326),
                **extra,
            )
            for i in range(n)
        ),
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE efectivos_efectivo")


def test_knn_de_efectivo_mas_cercano_usa_el_indice_gist():
    _muchos_efectivos()
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM efectivos_efectivo "
            "ORDER BY ultima_posicion <-> ST_SetSRID(ST_MakePoint(-58.38, -34.60), 4326) LIMIT 5"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using efectivos_efectivo_ultima_posicion" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_el_reclamo_del_despacho_usa_el_knn_geografico_y_bloquea_por_clave():
    from datetime import timedelta

    from django.utils import timezone

    from tareas.selectors import _SQL_RECLAMAR

    _muchos_efectivos(ultima_posicion_en=timezone.now())
    params = {
        "lat": -34.6,
        "lon": -58.38,
        "k": 25,
        "k_final": 5,
        "unidad": None,
        "radio": None,
        "especialidad": None,
        "fix_desde": timezone.now() - timedelta(minutes=15),
        "excluir": [],
    }
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + _SQL_RECLAMAR, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using efectivo_geog_disponible_gist" in plan, plan
    assert "Index Scan using efectivos_efectivo_pkey" in plan, plan
    assert "LockRows" in plan and "Seq Scan" not in plan, plan
    # Ranked apart, with its LIMIT, before the join: inlined, the planner may join the whole table
    # first and sort it (66 ms instead of 1.3 ms at 100,000 efectivos).
    assert "CTE Scan on c" in plan, plan
