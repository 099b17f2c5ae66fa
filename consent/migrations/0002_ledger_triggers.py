"""The database itself refuses to change or delete a consent-ledger entry's hashed columns.

PostgreSQL: a trigger function raising on UPDATE (of anything but the display labels) and on
DELETE. SQLite (the embedded default) refuses the UPDATE in a trigger too (DELETE: see
``_triggers.py``). Only the labels kept beside the hashed text may be blanked (account
deletion)."""

from django.db import migrations

from ._triggers import POSTGRES_DOWN, POSTGRES_UP, SQLITE_DOWN, SQLITE_UP


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
