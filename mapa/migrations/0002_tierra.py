import logging

import django.contrib.gis.db.models.fields
from django.db import migrations, models

logger = logging.getLogger(__name__)


def cargar(apps, schema_editor):
    # The land ships with the front-end assets (npm's world-atlas); `make` installs them before it
    # migrates. Without them the map still works on a plain background: `manage.py base_cargar`
    # loads the land later.
    from mapa import base

    if not base.TIERRA_ORIGEN.is_file():
        logger.warning("%s missing: the base map has no land until `manage.py base_cargar`", base.TIERRA_ORIGEN)
        return
    base.tierra_cargar()


class Migration(migrations.Migration):
    dependencies = [("mapa", "0001_densidad")]

    operations = [
        migrations.RunSQL(
            "CREATE TABLE mapa_tierra (id bigserial PRIMARY KEY, geom geometry(Polygon, 3857) NOT NULL);"
            "CREATE INDEX mapa_tierra_geom ON mapa_tierra USING gist (geom);",
            "DROP TABLE IF EXISTS mapa_tierra",
        ),
        migrations.CreateModel(
            name="Tierra",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("geom", django.contrib.gis.db.models.fields.PolygonField(srid=3857)),
            ],
            options={"verbose_name": "tierra", "verbose_name_plural": "tierra", "managed": False, "db_table": "mapa_tierra"},
        ),
        migrations.RunPython(cargar, migrations.RunPython.noop),
    ]
