import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """State only: realtime 0003 dropped the constraint when it partitioned the event log."""

    dependencies = [
        ("telegram_bot", "0004_ubicacion"),
        ("realtime", "0003_evento_particionado"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="notificacion",
                    name="evento",
                    field=models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="realtime.evento",
                    ),
                ),
            ],
        ),
    ]
