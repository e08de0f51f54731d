from django.db import migrations


class Migration(migrations.Migration):
    """Dispatch ranks available efectivos by geodesic distance (geography `<->`), so the partial
    index on available efectivos is over the geography of the position, not its geometry."""

    dependencies = [("efectivos", "0002_sin_indice_unidad")]

    operations = [
        migrations.RunSQL(
            "DROP INDEX IF EXISTS efectivo_pos_disponible_gist",
            "CREATE INDEX efectivo_pos_disponible_gist ON efectivos_efectivo "
            "USING gist (ultima_posicion) WHERE estado = 'disponible'",
        ),
        migrations.RunSQL(
            "CREATE INDEX efectivo_geog_disponible_gist ON efectivos_efectivo "
            "USING gist ((ultima_posicion::geography)) WHERE estado = 'disponible'",
            "DROP INDEX IF EXISTS efectivo_geog_disponible_gist",
        ),
    ]
