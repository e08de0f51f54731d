"""The position history, range-partitioned by day of the device's time and managed by pg_partman
(gad_project/particiones.py). An existing table's rows within the retention are moved in."""

import uuid

from django.conf import settings
from django.db import migrations, models

from gad_project import particiones

POSICION = particiones.Particionada(
    tabla="efectivos_posicion",
    columna="registrada_en",
    premake=7,
    ddl=[
        "ALTER TABLE efectivos_posicion ADD CONSTRAINT posicion_id_cliente_unica UNIQUE (id_cliente, registrada_en)",
        "CREATE INDEX posicion_efectivo_fecha ON efectivos_posicion (efectivo_id, registrada_en)",
        "CREATE INDEX posicion_recibida_brin ON efectivos_posicion USING brin (recibida_en)",
        "CREATE INDEX efectivos_posicion_punto_id ON efectivos_posicion USING gist (punto)",
        "ALTER TABLE efectivos_posicion ADD CONSTRAINT posicion_efectivo_fk FOREIGN KEY (efectivo_id) "
        "REFERENCES efectivos_efectivo (id) DEFERRABLE INITIALLY DEFERRED",
    ],
)

# The density view reads the table: it is rebuilt on the new one, its scan bounded by the
# partition column too (a reading received in the last hour was registered at most a day before,
# for the density's purpose), so only the newest days are visited.
DENSIDAD = """
CREATE MATERIALIZED VIEW mapa_densidad AS
SELECT c.unidad_id, c.cx, c.cy, count(*)::int AS lecturas,
       ST_SetSRID(ST_MakePoint((c.cx + 0.5) * 100, (c.cy + 0.5) * 100), 3857) AS geom
FROM (SELECT e.unidad_id,
             floor(ST_X(ST_Transform(p.punto, 3857)) / 100)::int AS cx,
             floor(ST_Y(ST_Transform(p.punto, 3857)) / 100)::int AS cy
      FROM efectivos_posicion p
      JOIN efectivos_efectivo e ON e.id = p.efectivo_id
      WHERE p.recibida_en > now() - interval '1 hour' AND p.registrada_en > now() - interval '1 day') c
GROUP BY 1, 2, 3;
CREATE UNIQUE INDEX mapa_densidad_celda ON mapa_densidad (unidad_id, cx, cy);
CREATE INDEX mapa_densidad_geom ON mapa_densidad USING gist (geom);
"""


def particionar(apps, schema_editor):
    with schema_editor.connection.cursor() as c:
        particiones.extension_crear(c)
        # (An alert keeps the id of the reading that raised it as a plain column: `convertir`
        # drops the foreign key, geocercas 0006 says so in the models.)
        c.execute("DROP MATERIALIZED VIEW IF EXISTS mapa_densidad")
        particiones.convertir(c, POSICION, conservar_dias=settings.POSICIONES_RETENCION_DIAS)
        particiones.retencion_fijar(c, "efectivos_posicion", settings.POSICIONES_RETENCION_DIAS)
        c.execute(DENSIDAD)


class Migration(migrations.Migration):
    dependencies = [
        ("efectivos", "0005_lecturas_implausibles"),
        ("geocercas", "0005_cruce_entre_lecturas"),
        ("mapa", "0002_tierra"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(particionar, elidable=False)],
            state_operations=[
                migrations.AlterField(
                    model_name="posicion", name="id_cliente", field=models.UUIDField(default=uuid.uuid4)
                ),
                migrations.AddConstraint(
                    model_name="posicion",
                    constraint=models.UniqueConstraint(
                        fields=("id_cliente", "registrada_en"), name="posicion_id_cliente_unica"
                    ),
                ),
            ],
        ),
    ]
