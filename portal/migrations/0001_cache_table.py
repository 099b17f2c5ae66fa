"""Creates the database cache's table, so ``migrate`` alone prepares the embedded default
(allauth's rate limits and the worker heartbeat live in the cache shared by all processes)."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
