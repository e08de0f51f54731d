from django.db import migrations

# Recent positions counted per ~100 m cell (Web Mercator metres) and unidad: the density layer of
# the commanders' map. Refreshed CONCURRENTLY by Celery beat (mapa.tasks.densidad_refrescar), so
# it needs a unique index; the window is the last hour of positions *received* (the BRIN index on
# recibida_en keeps the scan to the newest blocks of the table).
CREAR = """
CREATE MATERIALIZED VIEW mapa_densidad AS
SELECT c.unidad_id, c.cx, c.cy, count(*)::int AS lecturas,
       ST_SetSRID(ST_MakePoint((c.cx + 0.5) * 100, (c.cy + 0.5) * 100), 3857) AS geom
FROM (SELECT e.unidad_id,
             floor(ST_X(ST_Transform(p.punto, 3857)) / 100)::int AS cx,
             floor(ST_Y(ST_Transform(p.punto, 3857)) / 100)::int AS cy
      FROM efectivos_posicion p
      JOIN efectivos_efectivo e ON e.id = p.efectivo_id
      WHERE p.recibida_en > now() - interval '1 hour') c
GROUP BY 1, 2, 3;
CREATE UNIQUE INDEX mapa_densidad_celda ON mapa_densidad (unidad_id, cx, cy);
CREATE INDEX mapa_densidad_geom ON mapa_densidad USING gist (geom);
"""


class Migration(migrations.Migration):
    dependencies = [("efectivos", "0003_gist_geografia_disponibles")]

    operations = [migrations.RunSQL(CREAR, "DROP MATERIALIZED VIEW IF EXISTS mapa_densidad")]
