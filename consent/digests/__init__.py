"""Consent digests: for one AI developer and one period, the works whose effective decision *for
that developer* changed, with the consent-ledger entries that changed them (docs/digests.md).

How a digest is built (``digest_build``):

1. **Candidates** are the works touched by ledger entries written in [start, end): a
   ``default.set`` touches every work of its creator, ``override.set`` its work, ``bulk.apply``
   its works, a ``grant.*`` entry *of this developer* its works (or all the creator's works).
   A licence grant of this developer whose force differs at start and at end (created, revoked,
   started or ended in the period — by its dates, even when the beat wrote its entry late) adds
   its works too. ``credit.set`` changes no decision and touches nothing. Works registered at or
   after ``start`` are left out: a new work is not a changed decision.
2. **Decisions at both ends** are reconstructed, not read "now": from the current preference
   rows, the entries written after ``end`` and then those of the period are undone in reverse
   order (their ``before`` is exact for defaults and overrides, and for a ``bulk.apply`` whose
   works all had one previous choice; otherwise the ledger cannot tell and the choice is
   *unknown*). A grant is in force at an instant when it existed and was not yet revoked then
   and the local date just before it lies within its dates. Both ends go through
   ``decisions.decisions_resolve``, the one place the rules live. So the same period rebuilt
   later (the full export) lists the same works.
3. A candidate is **listed** when, for some use, its choice or licence differs between start and
   end, or either is unknown (listed conservatively, ``previous`` null for that use).

Everything runs in batches of ``BATCH`` works, in a number of queries that grows with the
batches, never with the works.
"""

from .build import (
    BATCH,
    WORK_FIELDS,
    Digest,
    LedgerWindow,
    Touch,
    digest_build,
    entry_touches,
    page_url_template,
    work_object,
)
from .files import CSV_COLUMNS, FORMAT, csv_document, json_document
from .periods import Period, period_latest, period_of_day, period_of_week, period_parse
from .send import EMPTY_MEMORY, SETTLE, digest_key, digest_send, digests_send, export_urls

__all__ = [
    "BATCH",
    "CSV_COLUMNS",
    "EMPTY_MEMORY",
    "FORMAT",
    "SETTLE",
    "WORK_FIELDS",
    "Digest",
    "LedgerWindow",
    "Period",
    "Touch",
    "csv_document",
    "digest_build",
    "digest_key",
    "digest_send",
    "digests_send",
    "entry_touches",
    "export_urls",
    "json_document",
    "page_url_template",
    "period_latest",
    "period_of_day",
    "period_of_week",
    "period_parse",
    "work_object",
]
