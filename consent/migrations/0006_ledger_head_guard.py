"""The database guards each chain's head as it guards the entries, on both databases: the head
only advances to the entry just appended (no rewinding, no other hash), chains are never deleted
and start empty, an entry is only ever appended right after its chain's head, and — now on
SQLite too — entries are never deleted. See ``_triggers.py``."""

from django.db import migrations

from ._triggers import POSTGRES_HEAD_DOWN, POSTGRES_HEAD_UP, SQLITE_HEAD_DOWN, SQLITE_HEAD_UP


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_HEAD_UP)
    elif vendor == "sqlite":
        for statement in SQLITE_HEAD_UP:
            schema_editor.execute(statement)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_HEAD_DOWN)
    elif vendor == "sqlite":
        for statement in SQLITE_HEAD_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("consent", "0005_ledger_entry_created_index")]
    operations = [migrations.RunPython(up, down)]
