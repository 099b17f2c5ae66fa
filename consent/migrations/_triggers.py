"""SQL of the consent-ledger triggers (used by migration 0002 and by tests that tamper)."""

HASHED = ("chain_id", "seq", "canonical", "prev_hash", "hash", "created_at")

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION consent_ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'consent ledger entries are never deleted';
    END IF;
    IF {changed} THEN
        RAISE EXCEPTION 'consent ledger entries are never updated';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER consent_ledger_immutable
    BEFORE UPDATE OR DELETE ON consent_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION consent_ledger_refuse_change();
""".format(changed=" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in HASHED))

POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS consent_ledger_immutable ON consent_ledgerentry;
DROP FUNCTION IF EXISTS consent_ledger_refuse_change();
"""

# SQLite (the embedded default) refuses updates of the hashed columns too. Migration 0002 did not
# refuse DELETE there: SQLite has no TRUNCATE, so emptying a database (Django's ``flush``, as test
# runs do between tests) deletes rows one by one, and a DELETE trigger made that impossible.
# Migration 0006 refuses it (below, ``SQLITE_HEAD_UP``) now that the embedded default's database
# backend (``portal.sqlite3``) empties tables as TRUNCATE does, without firing row triggers.
SQLITE_UP = [
    """
    CREATE TRIGGER consent_ledger_no_update BEFORE UPDATE ON consent_ledgerentry
    WHEN {changed}
    BEGIN SELECT RAISE(ABORT, 'consent ledger entries are never updated'); END;
    """.format(changed=" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in HASHED)),
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS consent_ledger_no_update;",
]


# --- The head (migration 0006) ---------------------------------------------------------------
# A chain's row (``consent_ledgerchain``: its length and head hash) changes in exactly one way:
# ``ledger.append`` inserts entry n+1, whose ``prev_hash`` is the head, then moves the head to
# that entry (length n+1, its hash). Its owner may go (SET NULL when the account is deleted).
# Nothing else: no rewinding, no jumping, no other hash, no deleting a chain, no chain that
# starts anywhere but empty, no entry that does not follow the head.

GENESIS = "0" * 64

POSTGRES_HEAD_UP = """
CREATE OR REPLACE FUNCTION consent_ledger_entry_follows_head() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM consent_ledgerchain c
        WHERE c.id = NEW.chain_id AND c.length + 1 = NEW.seq AND c.head_hash = NEW.prev_hash
    ) THEN
        RAISE EXCEPTION 'a consent ledger entry is appended after its chain''s head';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER consent_ledger_entry_appends
    BEFORE INSERT ON consent_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION consent_ledger_entry_follows_head();

CREATE OR REPLACE FUNCTION consent_ledger_head_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'consent ledger chains are never deleted';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.length <> 0 OR NEW.head_hash <> '{genesis}' THEN
            RAISE EXCEPTION 'a consent ledger chain starts empty';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.chain_id IS DISTINCT FROM OLD.chain_id
       OR NEW.created_at IS DISTINCT FROM OLD.created_at
       OR (NEW.owner_id IS DISTINCT FROM OLD.owner_id AND NEW.owner_id IS NOT NULL) THEN
        RAISE EXCEPTION 'a consent ledger chain keeps its identity';
    END IF;
    IF NEW.length = OLD.length AND NEW.head_hash = OLD.head_hash THEN
        RETURN NEW;
    END IF;
    IF NEW.length = OLD.length + 1 AND EXISTS (
        SELECT 1 FROM consent_ledgerentry e
        WHERE e.chain_id = NEW.id AND e.seq = NEW.length AND e.hash = NEW.head_hash
          AND e.prev_hash = OLD.head_hash
    ) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a consent ledger head only advances to the entry just appended';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER consent_ledger_head_guard
    BEFORE INSERT OR UPDATE OR DELETE ON consent_ledgerchain
    FOR EACH ROW EXECUTE FUNCTION consent_ledger_head_guard();
""".replace("{genesis}", GENESIS)

POSTGRES_HEAD_DOWN = """
DROP TRIGGER IF EXISTS consent_ledger_head_guard ON consent_ledgerchain;
DROP FUNCTION IF EXISTS consent_ledger_head_guard();
DROP TRIGGER IF EXISTS consent_ledger_entry_appends ON consent_ledgerentry;
DROP FUNCTION IF EXISTS consent_ledger_entry_follows_head();
"""

SQLITE_HEAD_UP = [
    """
    CREATE TRIGGER consent_ledger_no_delete BEFORE DELETE ON consent_ledgerentry
    BEGIN SELECT RAISE(ABORT, 'consent ledger entries are never deleted'); END;
    """,
    """
    CREATE TRIGGER consent_ledger_entry_appends BEFORE INSERT ON consent_ledgerentry
    WHEN NOT EXISTS (
        SELECT 1 FROM consent_ledgerchain c
        WHERE c.id = NEW.chain_id AND c.length + 1 = NEW.seq AND c.head_hash = NEW.prev_hash
    )
    BEGIN SELECT RAISE(ABORT, 'a consent ledger entry is appended after its chain''s head'); END;
    """,
    """
    CREATE TRIGGER consent_ledger_head_no_delete BEFORE DELETE ON consent_ledgerchain
    BEGIN SELECT RAISE(ABORT, 'consent ledger chains are never deleted'); END;
    """,
    f"""
    CREATE TRIGGER consent_ledger_head_starts_empty BEFORE INSERT ON consent_ledgerchain
    WHEN NEW.length IS NOT 0 OR NEW.head_hash IS NOT '{GENESIS}'
    BEGIN SELECT RAISE(ABORT, 'a consent ledger chain starts empty'); END;
    """,
    """
    CREATE TRIGGER consent_ledger_head_advances BEFORE UPDATE ON consent_ledgerchain
    WHEN NEW.id IS NOT OLD.id OR NEW.chain_id IS NOT OLD.chain_id
      OR NEW.created_at IS NOT OLD.created_at
      OR (NEW.owner_id IS NOT OLD.owner_id AND NEW.owner_id IS NOT NULL)
      OR NOT (
        (NEW.length IS OLD.length AND NEW.head_hash IS OLD.head_hash)
        OR (NEW.length = OLD.length + 1 AND EXISTS (
            SELECT 1 FROM consent_ledgerentry e
            WHERE e.chain_id = NEW.id AND e.seq = NEW.length AND e.hash = NEW.head_hash
              AND e.prev_hash = OLD.head_hash
        ))
      )
    BEGIN
        SELECT RAISE(ABORT, 'a consent ledger head only advances to the entry just appended');
    END;
    """,
]
SQLITE_HEAD_DOWN = [
    "DROP TRIGGER IF EXISTS consent_ledger_head_advances;",
    "DROP TRIGGER IF EXISTS consent_ledger_head_starts_empty;",
    "DROP TRIGGER IF EXISTS consent_ledger_head_no_delete;",
    "DROP TRIGGER IF EXISTS consent_ledger_entry_appends;",
    "DROP TRIGGER IF EXISTS consent_ledger_no_delete;",
]
