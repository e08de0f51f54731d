"""gad_project.bd.tuberia: an error at the pipeline's last sync is Django's, not psycopg's."""

from __future__ import annotations

import django.db
import psycopg
import pytest
from django.db import connection

from gad_project.bd import tuberia


@pytest.mark.django_db(transaction=True)
def test_si_postgresql_corta_la_conexion_al_cerrar_la_tuberia_el_error_es_de_django():
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    dsn = connection.connection.info.dsn
    # The block's exit (the pipeline's last sync) is what raises.
    with pytest.raises(django.db.OperationalError) as error, tuberia():
        connection.cursor().execute("SELECT 1")  # sent, never fetched: read by the final sync
        with psycopg.connect(dsn, password=connection.settings_dict["PASSWORD"], autocommit=True) as otra:
            otra.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert isinstance(error.value.__cause__, psycopg.OperationalError)
    assert connection.errors_occurred  # so Django drops the connection instead of reusing it
    connection.close()
