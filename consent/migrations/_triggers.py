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

# SQLite (the embedded default) refuses updates of the hashed columns too. It does not refuse
# DELETE in the database: SQLite has no TRUNCATE, so emptying a database (Django's ``flush``, as
# test runs do between tests) deletes rows one by one, and a DELETE trigger would make that
# impossible. Deletion is refused in code (``LedgerEntry.delete``, ``LedgerEntryQuerySet.delete``)
# and detected by ``verify_ledger``; PostgreSQL, where ``flush`` truncates, refuses it as well.
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
