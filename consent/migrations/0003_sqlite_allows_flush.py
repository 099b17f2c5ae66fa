"""Databases migrated before the SQLite DELETE trigger was dropped lose it here (see
``_triggers.py``: SQLite empties tables with DELETE, so the trigger made ``flush`` fail)."""

from django.db import migrations


def drop_sqlite_delete_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS consent_ledger_no_delete;")


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_ledger_triggers")]
    operations = [migrations.RunPython(drop_sqlite_delete_trigger, migrations.RunPython.noop)]
