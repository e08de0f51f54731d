"""The event log, range-partitioned by day of `creado_en` (pg_partman creates the days ahead;
realtime.services.eventos_podar drops the days past EVENTOS_RETENCION_H after recording the
resync watermark). Existing events are moved in."""

from django.db import migrations

from gad_project import particiones

EVENTO = particiones.Particionada(
    tabla="realtime_evento",
    columna="creado_en",
    premake=3,
    ddl=[
        "CREATE INDEX evento_audiencia_gin ON realtime_evento USING gin (audiencia)",
        "CREATE INDEX evento_creado_brin ON realtime_evento USING brin (creado_en)",
    ],
)


def particionar(apps, schema_editor):
    with schema_editor.connection.cursor() as c:
        particiones.extension_crear(c)
        particiones.convertir(c, EVENTO, conservar_dias=None)
        particiones.retencion_fijar(c, "realtime_evento", None)  # eventos_podar drops them


class Migration(migrations.Migration):
    # After the notifications' foreign key exists, so that it is dropped here (telegram_bot 0005).
    dependencies = [("realtime", "0002_poda"), ("telegram_bot", "0004_ubicacion")]

    operations = [migrations.RunPython(particionar, elidable=False)]
