"""The consent ledger: one hash chain per creator, appended under a lock, never updated or
deleted (in code, and in the database by triggers), checkable by anyone from the stored text."""

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from consent import ledger, services
from consent.models import LedgerChain, LedgerEntry, LedgerImmutable
from tests import factories


@pytest.fixture
def entries(creator):
    work = factories.WorkFactory(owner=creator, title="The Quiet Harbour")
    services.defaults_set(actor=creator, owner=creator, choices={"search": "deny"})
    services.override_set(actor=creator, work=work, choices={"train-genai": "licence"})
    services.defaults_set(
        actor=creator, owner=creator, choices={"ai-input": "allow", "search": "allow"}
    )
    return list(LedgerEntry.objects.order_by("seq"))


def test_each_change_appends_one_entry_chained_to_the_last(entries, creator):
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == "0" * 64
    for previous, entry in zip(entries, entries[1:], strict=False):
        assert entry.prev_hash == previous.hash
    chain = LedgerChain.objects.get(chain_id=creator.ref)
    assert (chain.length, chain.head_hash) == (3, entries[-1].hash)


def test_anyone_can_check_an_entry_with_sha256_alone(entries):
    for entry in entries:
        assert (
            hashlib.sha256(f"{entry.prev_hash}\n{entry.canonical}".encode()).hexdigest()
            == entry.hash
        )


def test_the_stored_text_is_canonical_json_with_opaque_ids(entries, creator):
    payload = json.loads(entries[1].canonical)
    assert entries[1].canonical == json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert (
        payload["actor"] == f"user:{creator.ref}"
        and payload["on_behalf_of"] == f"user:{creator.ref}"
    )
    assert payload["action"] == "override.set"
    assert payload["before"] == {"train-genai": None} and payload["after"] == {
        "train-genai": "licence"
    }
    assert creator.email not in entries[1].canonical  # personal data stays out of the hashed text
    assert "The Quiet Harbour" not in entries[1].canonical
    assert entries[1].scope_label == "The Quiet Harbour"


def test_the_orm_refuses_to_change_or_delete_an_entry(entries):
    entry = entries[0]
    original = entry.canonical
    entry.canonical = entry.canonical.replace("deny", "allow")
    with pytest.raises(LedgerImmutable):
        entry.save()
    with pytest.raises(LedgerImmutable):
        entry.delete()
    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.filter(pk=entry.pk).update(canonical="{}")
    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.get(pk=entry.pk).canonical == original


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE consent_ledgerentry SET canonical = '{}' WHERE id = %s",
        "UPDATE consent_ledgerentry SET hash = 'x' WHERE id = %s",
        "UPDATE consent_ledgerentry SET seq = 99 WHERE id = %s",
    ],
)
def test_the_database_refuses_raw_sql_updates(entries, statement):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [entries[0].pk])
    assert LedgerEntry.objects.get(pk=entries[0].pk).hash == entries[0].hash


def test_the_database_refuses_raw_sql_deletes(entries):
    """On both databases a trigger refuses DELETE too (SQLite's flush empties tables without
    firing it, as PostgreSQL's TRUNCATE does: see portal/sqlite3/base.py)."""
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM consent_ledgerentry WHERE id = %s", [entries[0].pk])
    assert LedgerEntry.objects.filter(pk=entries[0].pk).exists()


def test_the_database_allows_blanking_the_labels_only(entries, creator):
    assert ledger.forget_labels(creator) == 3
    assert set(LedgerEntry.objects.values_list("actor_label", "scope_label")) == {("", "")}
    call_command("verify_ledger", stdout=StringIO())  # still verifies


def _tamper(sql: str, params):
    """Alter an entry behind the triggers' back, as someone with the database's keys could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # a superuser can switch user triggers off
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, params)
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        else:  # the owner of the file can drop the triggers, and put them back
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                " AND tbl_name IN ('consent_ledgerentry', 'consent_ledgerchain')"
            )
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
            cursor.execute(sql, params)
            for _, statement in triggers:
                cursor.execute(statement)


def test_verify_ledger_says_which_entry_was_altered(entries):
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert "all verify" in out.getvalue()
    altered = entries[1].canonical.replace('"licence"', '"allow"')
    _tamper("UPDATE consent_ledgerentry SET canonical = %s WHERE id = %s", [altered, entries[1].pk])
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_ledger", stdout=out)
    assert "breaks at entry 2" in out.getvalue() and "altered" in out.getvalue()


def test_verify_ledger_notices_a_removed_entry(entries):
    _tamper("DELETE FROM consent_ledgerentry WHERE id = %s", [entries[2].pk])
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_ledger", stdout=out)
    assert "breaks at entry 3" in out.getvalue()


def test_each_change_emails_a_receipt_with_the_entry_hash(
    creator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.defaults_set(actor=creator, owner=creator, choices={"style": "licence"})
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [creator.email]
    assert entry.hash in mailoutbox[0].body


def test_no_change_writes_no_entry(creator):
    services.defaults_set(actor=creator, owner=creator, choices={"search": "allow"})  # as before
    assert not LedgerEntry.objects.exists()
