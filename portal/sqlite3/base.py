"""Django's SQLite backend, with two changes. Emptying tables (``manage.py flush``, and every
transactional test between tests) does what PostgreSQL's TRUNCATE does — row triggers do not
fire. SQLite has no TRUNCATE; Django empties each table with ``DELETE FROM``, which the triggers
that keep the consent ledger append-only (``consent/migrations/_triggers.py``) rightly refuse.
So the flush drops the triggers on the tables it empties and recreates them, word for word, in
the same transaction. Every other DELETE still meets them.

And a statement may carry as many parameters as SQLite allows (``DatabaseFeatures``)."""

import sqlite3
from itertools import chain

from django.db.backends.sqlite3 import base, features
from django.utils.functional import cached_property


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self):
        """The connection's real limit of parameters in one statement (250,000 with Debian's
        SQLite 3.40), not Django 5.2's fixed 999 — which splits a bulk insert of 2,000 rows of
        nine columns into 18 statements. A bulk action on a creator's whole catalogue
        (works/bulk.py) then takes as many statements on SQLite as on PostgreSQL (Django 6.0
        reads the limit the same way)."""
        self.connection.ensure_connection()
        return self.connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


class DatabaseOperations(base.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if not statements:
            return statements
        emptied = set(tables)
        if allow_cascade:  # as the parent does: the tables that refer to them go too
            emptied = set(chain.from_iterable(self._references_graph(t) for t in tables))
        emptied = sorted(emptied)
        with self.connection.cursor() as cursor:
            placeholders = ", ".join(["%s"] * len(emptied))
            cursor.execute(
                "SELECT name, sql FROM sqlite_master"
                f" WHERE type = 'trigger' AND tbl_name IN ({placeholders})",
                emptied,
            )
            triggers = cursor.fetchall()
        return [
            *(f"DROP TRIGGER {self.quote_name(name)};" for name, _ in triggers),
            *statements,
            *(sql for _, sql in triggers),
        ]


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations
