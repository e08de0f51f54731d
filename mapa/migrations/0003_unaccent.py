"""The map's search compares names without accents (unaccent). Creating an extension needs a
superuser, as btree_gist and pg_partman do: in production it must exist beforehand (README)."""

from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("mapa", "0002_tierra")]

    operations = [UnaccentExtension()]
