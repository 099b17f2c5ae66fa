"""The consent ledger: one append-only hash chain per creator.

Each entry is a small JSON document — who (an opaque id), on whose behalf, when, what (the
action and its scope), before and after — written once as *canonical JSON text* (keys sorted,
no spaces, UTF-8) and stored as that text. Its hash is

    SHA-256( previous entry's hash (64 hex digits) + "\\n" + canonical text )

with 64 zeros before the first entry. The text is never re-serialised from a JSON column
(PostgreSQL's ``jsonb`` reorders keys), so anyone holding the text and the hashes can check the
chain with nothing but a SHA-256 tool. Appending locks the chain's head row, so two changes at
once cannot fork it; the database lets the head move only to the entry just appended
(``migrations/_triggers.py``), and once the change commits the new head is written outside the
database too (``anchors.py``), so that a chain rewound by someone who switched the triggers off
is still caught by ``verify_ledger``. Consent writes take the same lock first (``lock``), before
reading what they change.

Names of people and works are kept *beside* the hashed text (``actor_label``, ``scope_label``):
deleting an account blanks them and the chain still verifies.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import anchors
from .models import LedgerChain, LedgerEntry

GENESIS = "0" * 64
FORMAT_VERSION = 1

# Apps above ``consent`` that follow consent changes (the works registry's change feed) register
# here from their ``AppConfig.ready``: ``listener(owner=, action=, scope=)`` runs inside the
# transaction of every entry appended — every consent change goes through ``append``.
_append_listeners: list[Callable[..., None]] = []


def register_append_listener(listener: Callable[..., None]) -> None:
    if listener not in _append_listeners:
        _append_listeners.append(listener)


def canonical_json(payload: dict) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def lock(owner) -> LedgerChain:
    """Lock ``owner``'s chain head for the rest of the transaction, creating it first if they have
    none. Every consent write calls this *before* reading what is current, so that two changes
    at once run one after the other: the second reads what the first wrote (a repeated change
    then writes nothing, and every entry's "before" is the previous entry's "after").

    Creating is race-safe: ``chain_id`` is unique, so of two first changes at once one inserts
    the row and the other's insert waits for it, fails, and reads the row instead — then waits
    for the lock."""
    chain, _ = LedgerChain.objects.get_or_create(chain_id=owner.ref, defaults={"owner": owner})
    return LedgerChain.objects.select_for_update().get(pk=chain.pk)


@transaction.atomic
def append(
    *,
    owner,
    actor,
    action: str,
    scope: dict,
    before,
    after,
    actor_label: str = "",
    scope_label: str = "",
    at=None,
) -> LedgerEntry:
    """Append one entry to ``owner``'s chain. ``actor`` is a user or None (the portal itself,
    e.g. the beat job recording a grant's period); staff acting under a mandate are the actor
    and the entry says on whose behalf."""
    chain = lock(owner)
    at = at or timezone.now()
    seq = chain.length + 1
    payload = {
        "v": FORMAT_VERSION,
        "chain": str(chain.chain_id),
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": f"user:{actor.ref}" if actor is not None else "portal",
        "on_behalf_of": f"user:{owner.ref}",
        "action": action,
        "scope": scope,
        "before": before,
        "after": after,
    }
    canonical = canonical_json(payload)
    digest = entry_hash(chain.head_hash, canonical)
    entry = LedgerEntry.objects.create(
        chain=chain,
        seq=seq,
        canonical=canonical,
        prev_hash=chain.head_hash,
        hash=digest,
        created_at=at,
        actor_label=actor_label or (actor.label if actor is not None else "The portal"),
        scope_label=scope_label[:300],
    )
    LedgerChain.objects.filter(pk=chain.pk).update(length=seq, head_hash=digest)
    for listener in _append_listeners:
        listener(owner=owner, action=action, scope=scope)
    # The head leaves the database once the change is committed (before its receipt is queued).
    transaction.on_commit(
        partial(anchors.record, chain=str(chain.chain_id), length=seq, head_hash=digest),
        robust=True,  # a log that cannot be written must not turn the saved change into an error
    )
    return entry


@dataclass(frozen=True)
class ChainReport:
    chain_id: str
    length: int
    ok: bool
    broken_at: int | None = None  # seq of the first entry that does not verify
    problem: str = ""
    anchored: bool = False  # compared with the anchor log


def verify_chain(chain: LedgerChain, anchor: anchors.Anchor | None = None) -> ChainReport:
    """Walk the chain from its start, recomputing every hash from the stored text; then, given
    the chain's longest anchored head, check that the database still holds it: that many
    entries, the last of them with that hash."""
    anchored_hash = None
    prev = GENESIS
    expected_seq = 1
    count = 0
    for entry in chain.entries.order_by("seq").iterator(chunk_size=2000):
        count += 1

        def broken(problem: str, entry=entry) -> ChainReport:
            return ChainReport(str(chain.chain_id), chain.length, False, entry.seq, problem)

        if entry.seq != expected_seq:
            return broken(f"entry {expected_seq} is missing (found {entry.seq})")
        if entry.prev_hash != prev:
            return broken("its link to the previous entry does not match")
        try:
            payload = json.loads(entry.canonical)
        except ValueError:
            return broken("its text is not valid JSON")
        if canonical_json(payload) != entry.canonical:
            return broken("its text is not in canonical form")
        if payload.get("seq") != entry.seq or payload.get("chain") != str(chain.chain_id):
            return broken("its text names another place in the ledger")
        if entry_hash(prev, entry.canonical) != entry.hash:
            return broken("its hash does not match its text (the entry was altered)")
        if anchor is not None and entry.seq == anchor.length:
            anchored_hash = entry.hash
        prev = entry.hash
        expected_seq += 1
    if count != chain.length or prev != chain.head_hash:
        return ChainReport(
            str(chain.chain_id),
            chain.length,
            False,
            count + 1 if count < chain.length else chain.length,
            "the chain's head does not match its last entry (entries removed or added)",
        )
    if anchor is None:
        return ChainReport(str(chain.chain_id), chain.length, True)

    def tampered(broken_at: int, problem: str) -> ChainReport:
        return ChainReport(str(chain.chain_id), chain.length, False, broken_at, problem, True)

    if count < anchor.length:
        return tampered(
            count + 1,
            f"rewound: the anchor log holds {anchor.length} entries (head {anchor.head_hash}, "
            f"anchored {anchor.at}), the database {count}",
        )
    if anchored_hash != anchor.head_hash:
        return tampered(
            anchor.length,
            f"rewritten: entry {anchor.length} is not the one anchored {anchor.at} "
            f"(hash {anchor.head_hash}, the database has {anchored_hash})",
        )
    return ChainReport(str(chain.chain_id), chain.length, True, anchored=True)


def verify_all(anchor_set: anchors.AnchorSet | None = None):
    """Verify every chain in the database; with anchors, against them too, and report every
    anchored chain the database no longer has."""
    heads = anchor_set.heads if anchor_set is not None else {}
    seen = set()
    for chain in LedgerChain.objects.order_by("pk").iterator():
        chain_id = str(chain.chain_id)
        seen.add(chain_id)
        yield verify_chain(chain, heads.get(chain_id))
    for chain_id, anchor in heads.items():
        if chain_id not in seen:
            yield ChainReport(
                chain_id,
                0,
                False,
                None,
                f"missing from the database (deleted): the anchor log holds {anchor.length} "
                f"entries (head {anchor.head_hash}, anchored {anchor.at})",
                True,
            )


def entries_for(owner):
    chain = LedgerChain.objects.filter(chain_id=owner.ref).first()
    if chain is None:
        return LedgerEntry.objects.none()
    return chain.entries.order_by("-seq")


def forget_labels(user) -> int:
    """When an account is deleted: blank the names kept beside the chain, and their name where
    they acted in others' chains (as staff under a mandate). The hashed entries, which hold only
    opaque ids, stay and still verify."""
    return LedgerEntry.objects.filter(
        Q(chain__chain_id=user.ref) | Q(canonical__contains=f'"actor":"user:{user.ref}"')
    ).erase_labels()
