"""Bounding-box overlap (`&&` on geometry) as LEAKPROOF, so that row-level security does not keep
it from being an index condition.

Under a table's policies PostgreSQL evaluates a user's condition before the policy's only when
every function in it is LEAKPROOF; PostGIS marks none. Without this, the map's efectivos tile (a
`&&` against the tile's envelope) read every efectivo as the web role: a sequential scan of 100,000
rows, 74 ms, against 0.2 ms through the GiST index (benchmarks/README.md). `&&` compares two
bounding boxes and returns a boolean; it reveals nothing of a row beyond that. Only a superuser may
mark it: run by another role, the migration says so and changes nothing (then run this statement
as a superuser)."""

from django.db import migrations

SQL = """
DO $$ BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF;
    ELSE
        RAISE NOTICE 'not a superuser: as one, run ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF';
    END IF;
END $$;
"""

DESHACER = """
DO $$ BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER FUNCTION geometry_overlaps(geometry, geometry) NOT LEAKPROOF;
    END IF;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("gad_project", "0001_seguridad_por_filas")]

    operations = [migrations.RunSQL(SQL, DESHACER)]
