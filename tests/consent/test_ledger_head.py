"""The ledger's head (each chain's length and latest hash) only ever advances by the entry just
appended — the database refuses anything else, on SQLite as on PostgreSQL — and each change
anchors the head outside the database, in an append-only log that ``verify_ledger`` compares
every chain with: a chain rewound or rewritten behind the triggers' back is caught."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from consent import ledger, services
from consent.models import LedgerChain, LedgerEntry
from tests import factories

LEDGER_TABLES = ("consent_ledgerentry", "consent_ledgerchain")


@pytest.fixture
def entries(creator, django_capture_on_commit_callbacks):
    """Three changes, each committed (so each anchors its head, as in production)."""
    work = factories.WorkFactory(owner=creator, title="The Quiet Harbour")
    changes = [
        lambda: services.defaults_set(actor=creator, owner=creator, choices={"search": "deny"}),
        lambda: services.override_set(actor=creator, work=work, choices={"train-genai": "licence"}),
        lambda: services.defaults_set(actor=creator, owner=creator, choices={"ai-input": "allow"}),
    ]
    for change in changes:
        with django_capture_on_commit_callbacks(execute=True):
            change()
    return list(LedgerEntry.objects.order_by("seq"))


def _anchors(settings) -> list[dict]:
    with open(settings.CONSENT_ANCHOR_LOG, encoding="utf-8") as log:
        return [json.loads(line) for line in log]


def _verify(*args) -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("verify_ledger", *args, stdout=out, stderr=out)
    except CommandError as error:
        return False, out.getvalue() + str(error)
    return True, out.getvalue()


def _as_database_admin(statements: list[tuple[str, list]]):
    """Run SQL with the ledger's triggers out of the way, as someone holding the database's keys
    could (PostgreSQL: a superuser switches user triggers off; SQLite: drop and recreate them)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            for sql, params in statements:
                cursor.execute(sql, params)
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
            return
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s, %s)",
            list(LEDGER_TABLES),
        )
        triggers = cursor.fetchall()
        assert len(triggers) >= 4, triggers  # entries and head are both guarded
        for name, _ in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
        for sql, params in statements:
            cursor.execute(sql, params)
        for _, sql in triggers:
            cursor.execute(sql)


def _rewind(chain: LedgerChain, entries: list[LedgerEntry], to: int) -> list[tuple[str, list]]:
    """Delete the newest entries and set the head back to entry ``to``."""
    return [
        ("DELETE FROM consent_ledgerentry WHERE chain_id = %s AND seq > %s", [chain.pk, to]),
        (
            "UPDATE consent_ledgerchain SET length = %s, head_hash = %s WHERE id = %s",
            [to, entries[to - 1].hash, chain.pk],
        ),
    ]


# --- The database guards the head ------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    [
        "delete the newest entry",
        "rewind the head",
        "delete the newest entry and rewind the head",
        "change the head's hash",
        "advance the head by two",
        "advance the head to a hash no entry has",
        "delete the chain",
        "start a chain part-way",
        "append an entry out of sequence",
        "append an entry that does not follow the head",
    ],
)
def test_the_database_refuses_to_rewind_or_forge_the_head(entries, creator, tamper):
    chain = LedgerChain.objects.get(chain_id=creator.ref)
    e1, e2, e3 = entries
    head = "UPDATE consent_ledgerchain SET length = %s, head_hash = %s WHERE id = %s"
    add = (
        "INSERT INTO consent_ledgerentry (chain_id, seq, canonical, prev_hash, hash, created_at,"
        " actor_label, scope_label) VALUES (%s, %s, '{}', %s, %s, %s, '', '')"
    )
    statements = {
        "delete the newest entry": [("DELETE FROM consent_ledgerentry WHERE id = %s", [e3.pk])],
        "rewind the head": [(head, [2, e2.hash, chain.pk])],
        "delete the newest entry and rewind the head": _rewind(chain, entries, 2),
        "change the head's hash": [(head, [3, "f" * 64, chain.pk])],
        "advance the head by two": [(head, [5, "f" * 64, chain.pk])],
        "advance the head to a hash no entry has": [(head, [4, "f" * 64, chain.pk])],
        "delete the chain": [("DELETE FROM consent_ledgerchain WHERE id = %s", [chain.pk])],
        "start a chain part-way": [
            (
                "INSERT INTO consent_ledgerchain (chain_id, length, head_hash, created_at)"
                " VALUES (%s, 7, %s, %s)",
                ["0" * 32, "a" * 64, e1.created_at],
            )
        ],
        "append an entry out of sequence": [(add, [chain.pk, 5, e3.hash, "b" * 64, e1.created_at])],
        "append an entry that does not follow the head": [
            (add, [chain.pk, 4, e1.hash, "b" * 64, e1.created_at])
        ],
    }[tamper]
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
    chain.refresh_from_db()
    assert (chain.length, chain.head_hash) == (3, e3.hash)
    assert LedgerEntry.objects.count() == 3


def test_appending_and_deleting_the_owners_account_still_work(entries, creator):
    """What the application does to a head: advance it by one entry, and lose its owner."""
    services.defaults_set(actor=creator, owner=creator, choices={"style": "allow"})
    chain = LedgerChain.objects.get(chain_id=creator.ref)
    assert chain.length == 4
    creator.delete()
    chain.refresh_from_db()
    assert chain.owner is None and chain.length == 4
    assert _verify()[0]


@pytest.mark.django_db(transaction=True)
def test_emptying_the_whole_database_still_works_and_keeps_the_guards(creator):
    """``manage.py flush`` (and every transactional test) empties the tables as PostgreSQL's
    TRUNCATE does: the ledger's row triggers do not stand in its way, and stay in place."""
    services.defaults_set(actor=creator, owner=creator, choices={"search": "deny"})
    entry = LedgerEntry.objects.get()
    call_command("flush", interactive=False, verbosity=0)
    assert not LedgerEntry.objects.exists() and not LedgerChain.objects.exists()
    creator = factories.CreatorProfileFactory().user
    services.defaults_set(actor=creator, owner=creator, choices={"search": "deny"})
    entry = LedgerEntry.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM consent_ledgerentry WHERE id = %s", [entry.pk])


# --- The anchor log ----------------------------------------------------------------------------


def test_each_change_anchors_the_head_outside_the_database(entries, creator, settings, mailoutbox):
    anchors = _anchors(settings)
    assert [(a["chain"], a["length"], a["head_hash"]) for a in anchors] == [
        (str(creator.ref), e.seq, e.hash) for e in entries
    ]
    assert all(a["at"].endswith("+00:00") for a in anchors)
    assert len(mailoutbox) == 3  # one receipt per change, one anchor per receipt
    for anchor, receipt in zip(anchors, mailoutbox, strict=True):
        assert anchor["head_hash"] in receipt.body


def test_a_change_that_rolls_back_anchors_nothing(
    creator, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.defaults_set(actor=creator, owner=creator, choices={"search": "deny"})
            raise RuntimeError("the request failed after the change")
        services.defaults_set(actor=creator, owner=creator, choices={"style": "allow"})
    assert [a["length"] for a in _anchors(settings)] == [1]


def test_a_change_still_commits_when_the_anchor_log_cannot_be_written(
    creator, settings, tmp_path, mailoutbox, django_capture_on_commit_callbacks, caplog
):
    settings.CONSENT_ANCHOR_LOG = tmp_path  # a directory: writing to it fails
    with django_capture_on_commit_callbacks(execute=True):
        services.defaults_set(actor=creator, owner=creator, choices={"search": "deny"})
    assert LedgerEntry.objects.count() == 1 and len(mailoutbox) == 1
    assert "not anchored" in caplog.text


# --- verify_ledger compares every chain with the anchor log -------------------------------------


def test_verify_ledger_checks_every_chain_against_the_anchor_log(entries):
    ok, out = _verify()
    assert ok and "all verify" in out and "1 chain(s) anchored" in out


def test_verify_ledger_catches_a_rewound_chain(entries, creator):
    chain = LedgerChain.objects.get(chain_id=creator.ref)
    _as_database_admin(_rewind(chain, entries, 1))
    assert ledger.verify_chain(LedgerChain.objects.get()).ok  # consistent in itself…
    ok, out = _verify()
    assert not ok  # …but not with the anchor log
    assert f"chain {creator.ref}" in out and "rewound" in out
    assert "3 entries" in out and entries[2].hash in out


def test_verify_ledger_catches_a_rewritten_chain(entries, creator):
    """Entry 3 replaced by another, correctly hashed: the chain verifies, the anchor does not."""
    chain = LedgerChain.objects.get(chain_id=creator.ref)
    forged = entries[2].canonical.replace('"allow"', '"deny"')
    digest = ledger.entry_hash(entries[1].hash, forged)
    _as_database_admin(
        [
            (
                "UPDATE consent_ledgerentry SET canonical = %s, hash = %s WHERE id = %s",
                [forged, digest, entries[2].pk],
            ),
            ("UPDATE consent_ledgerchain SET head_hash = %s WHERE id = %s", [digest, chain.pk]),
        ]
    )
    assert ledger.verify_chain(LedgerChain.objects.get()).ok
    ok, out = _verify()
    assert not ok and "rewritten" in out and "entry 3" in out


def test_verify_ledger_catches_a_deleted_chain(entries, creator):
    chain = LedgerChain.objects.get(chain_id=creator.ref)
    _as_database_admin(
        [
            ("DELETE FROM consent_ledgerentry WHERE chain_id = %s", [chain.pk]),
            ("DELETE FROM consent_ledgerchain WHERE id = %s", [chain.pk]),
        ]
    )
    ok, out = _verify()
    assert not ok and f"chain {creator.ref}" in out and "missing from the database" in out


def test_verify_ledger_without_an_anchor_log_says_so_and_still_checks_the_chains(
    entries, settings, tmp_path
):
    settings.CONSENT_ANCHOR_LOG = tmp_path / "nowhere.log"
    ok, out = _verify()
    assert ok and "no anchor log" in out.lower() and "all verify" in out
    assert "cannot tell" in out  # says what that means
    ok, out = _verify("--require-anchors")
    assert not ok and "no anchor log" in out.lower()


def test_verify_ledger_reads_a_copy_of_the_anchor_log_kept_elsewhere(
    entries, creator, settings, tmp_path
):
    """The copy shipped off the machine is the one to trust: the local log may have been cut."""
    copy = tmp_path / "offsite.log"
    copy.write_bytes(settings.CONSENT_ANCHOR_LOG.read_bytes())
    lines = settings.CONSENT_ANCHOR_LOG.read_text().splitlines(keepends=True)
    settings.CONSENT_ANCHOR_LOG.write_text(lines[0])  # the local log cut back to entry 1
    chain = LedgerChain.objects.get(chain_id=creator.ref)
    _as_database_admin(_rewind(chain, entries, 1))
    assert _verify()[0]  # fooled by the cut local log
    ok, out = _verify("--anchor-log", str(copy))
    assert not ok and "rewound" in out
