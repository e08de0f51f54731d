"""Reverse geocoding as one SQL function, so that every row that names its place (an alert raised
inside the ingest's own INSERT, a task, an SOS) asks the same question the same way, without a
round trip of its own. mapa.lugares.lugar_de calls it too."""

from django.db import migrations

FUNCION = """
CREATE OR REPLACE FUNCTION gad_lugar_de(lon float8, lat float8, calle_m float8 DEFAULT 60, esquina_m float8 DEFAULT 80)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS p),
area AS (
    SELECT l.nombre FROM mapa_lugar l, pt
    WHERE l.tipo = 'area' AND l.geom && pt.p AND ST_Intersects(l.geom, pt.p)
    ORDER BY ST_Area(l.geom) LIMIT 1
),
calles AS (
    SELECT l.nombre, l.geom, ST_Distance(l.geom::geography, pt.p::geography) AS d FROM mapa_lugar l, pt
    WHERE l.tipo = 'calle' AND l.geom && ST_Expand(pt.p, calle_m / 111000.0 / greatest(cos(radians(lat)), 0.01))
      AND ST_DWithin(l.geom::geography, pt.p::geography, calle_m)
),
cerca AS (SELECT * FROM calles ORDER BY d LIMIT 1),
esquina AS (
    SELECT c.nombre FROM calles c, cerca, pt
    WHERE c.nombre <> cerca.nombre AND ST_Intersects(c.geom, cerca.geom)
      AND ST_DWithin(ST_Intersection(c.geom, cerca.geom)::geography, pt.p::geography, esquina_m)
    ORDER BY ST_Distance(ST_Intersection(c.geom, cerca.geom)::geography, pt.p::geography) LIMIT 1
)
SELECT CASE
    WHEN lon IS NULL OR lat IS NULL THEN NULL
    WHEN (SELECT nombre FROM area) IS NOT NULL THEN (SELECT nombre FROM area)
    WHEN (SELECT nombre FROM esquina) IS NOT NULL THEN (SELECT nombre FROM cerca) || ' y ' || (SELECT nombre FROM esquina)
    ELSE (SELECT nombre FROM cerca)
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("mapa", "0004_lugares")]

    operations = [
        migrations.RunSQL(FUNCION, "DROP FUNCTION IF EXISTS gad_lugar_de(float8, float8, float8, float8)"),
    ]
