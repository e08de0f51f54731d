import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """State only: efectivos 0006 dropped the constraint when it partitioned the positions."""

    dependencies = [
        ("geocercas", "0005_cruce_entre_lecturas"),
        ("efectivos", "0006_posicion_particionada"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="alerta",
                    name="posicion",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="efectivos.posicion",
                    ),
                ),
            ],
        ),
    ]
