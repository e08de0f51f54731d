from django.db import migrations

VISTA = """
CREATE MATERIALIZED VIEW tareas_estadistica_unidad AS
SELECT u.id AS unidad_id,
       u.codigo,
       u.nombre,
       COUNT(e.id) FILTER (WHERE e.estado = 'disponible') AS disponibles,
       COUNT(e.id) FILTER (WHERE e.estado = 'en_tarea') AS en_tarea,
       COUNT(e.id) FILTER (WHERE e.estado = 'fuera_servicio') AS fuera_servicio,
       COUNT(e.id) FILTER (WHERE e.estado = 'no_disponible') AS no_disponibles,
       COALESCE((
           SELECT jsonb_object_agg(prioridad, n) FROM (
               SELECT t.prioridad, COUNT(*) AS n FROM tareas_tarea t
               WHERE t.unidad_id = u.id AND t.estado IN ('programada', 'asignada', 'en_curso', 'pausada')
               GROUP BY t.prioridad) AS abiertas
       ), '{}'::jsonb) AS abiertas_por_prioridad,
       -- creation to first acceptance, over the tasks of the last 7 days
       (SELECT AVG(EXTRACT(EPOCH FROM primera.aceptada - t.creada_en)) FROM tareas_tarea t
        JOIN LATERAL (SELECT MIN(a.respondida_en) AS aceptada FROM tareas_asignacion a
                      WHERE a.tarea_id = t.id AND a.estado IN ('aceptada', 'liberada') AND a.respondida_en IS NOT NULL
                     ) AS primera ON primera.aceptada IS NOT NULL
        WHERE t.unidad_id = u.id AND t.creada_en > now() - interval '7 days') AS respuesta_media_s,
       now() AS calculada_en
FROM efectivos_unidad u
LEFT JOIN efectivos_efectivo e ON e.unidad_id = u.id
GROUP BY u.id;
CREATE UNIQUE INDEX tareas_estadistica_unidad_pk ON tareas_estadistica_unidad (unidad_id);
"""


class Migration(migrations.Migration):
    """Operational figures per unidad, refreshed CONCURRENTLY by Celery beat (the unique index is
    what CONCURRENTLY needs), so readers never wait for the refresh."""

    dependencies = [("tareas", "0001_initial"), ("efectivos", "0003_gist_geografia_disponibles")]

    operations = [migrations.RunSQL(VISTA, "DROP MATERIALIZED VIEW IF EXISTS tareas_estadistica_unidad")]
