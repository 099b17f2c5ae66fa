"""Detection: record a conflict for each pair of two creators' works that look the same."""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse

from accounts import mail
from accounts.models import AuditEvent, User

from ..access import route_between, verified_guild_ids
from ..fingerprints import to_unsigned64
from ..models import Conflict, Work, WorkFile, WorkIdentifier
from .index import max_distance_checked, phash_near

logger = logging.getLogger(__name__)

IDENTIFIER_KINDS = [choice.value for choice in WorkIdentifier.Scheme]
# At most one "possible conflict" email per creator in this many seconds: a ZIP import of 20,000
# photos (one service call each) or its images' processing must not send 20,000 emails. Each
# work's page lists its conflicts whether an email went out or not.
# The setting ``WORKS_CONFLICT_EMAIL_INTERVAL`` (seconds) overrides the default.
FOUND_EMAIL_INTERVAL = 15 * 60
KIND_PHRASES = {
    "isbn": "the same ISBN",
    "isrc": "the same ISRC",
    "iswc": "the same ISWC",
    "doi": "the same DOI",
    "url": "the same web address",
    "sha256": "the same file",
    "phash": "a very similar image",
}


@dataclass
class _Facts:
    owner_id: int
    created_at: object
    title: str
    public_id: str


def _match_key(match: dict) -> tuple:
    # One perceptual-hash entry per pair (each work has one file: a new file replaces it).
    return ("phash",) if match["kind"] == "phash" else (match["kind"], match["value"])


def _merge(existing: list[dict], new: list[dict]) -> list[dict]:
    merged = {_match_key(m): m for m in existing}
    for match in new:
        merged[_match_key(match)] = match
    return list(merged.values())


def _ordered(facts: dict[int, _Facts], x: int, y: int) -> tuple[int, int]:
    """(earlier, later): lower ``created_at`` first, the lower pk on a tie."""
    return tuple(sorted((x, y), key=lambda pk: (facts[pk].created_at, pk)))


def _found_matches(by_id: dict[int, Work]) -> dict[tuple[int, int], list[dict]]:
    """``{(batch work, other work): [match, …]}`` for every work sharing something with a
    work of the batch (the owners are compared later). At most 5 queries for any batch."""
    found: dict[tuple[int, int], list[dict]] = defaultdict(list)

    holders: dict[tuple[str, str], set[int]] = defaultdict(set)
    for work_id, scheme, value in WorkIdentifier.objects.filter(work_id__in=by_id).values_list(
        "work_id", "scheme", "value"
    ):
        holders[(scheme, value)].add(work_id)
    if holders:
        wanted: dict[str, set[str]] = defaultdict(set)
        for scheme, value in holders:
            wanted[scheme].add(value)
        condition = Q()
        for scheme, values in wanted.items():  # the (scheme, value) index, one range per scheme
            condition |= Q(scheme=scheme, value__in=sorted(values))
        for other_id, scheme, value in WorkIdentifier.objects.filter(condition).values_list(
            "work_id", "scheme", "value"
        ):
            for work_id in holders[(scheme, value)]:
                if work_id != other_id:
                    found[(work_id, other_id)].append({"kind": scheme, "value": value})

    by_sha: dict[str, set[int]] = defaultdict(set)
    hashes: dict[int, int] = {}
    for work_id, sha256, phash in WorkFile.objects.filter(work_id__in=by_id).values_list(
        "work_id", "sha256", "phash"
    ):
        if sha256:
            by_sha[sha256].add(work_id)
        if phash is not None:
            hashes[work_id] = to_unsigned64(phash)
    if by_sha:
        for other_id, sha256 in WorkFile.objects.filter(sha256__in=sorted(by_sha)).values_list(
            "work_id", "sha256"
        ):
            for work_id in by_sha[sha256]:
                if work_id != other_id:
                    found[(work_id, other_id)].append({"kind": "sha256", "value": sha256})
    if hashes:
        limit = max_distance_checked(None)
        for work_id, other_id, other_hash, distance in phash_near(hashes, limit):
            if work_id != other_id:
                found[(work_id, other_id)].append(
                    {"kind": "phash", "hashes": (hashes[work_id], other_hash), "distance": distance}
                )
    return found


def _oriented(match: dict, work_id: int, a: int) -> dict:
    """A match as stored: a perceptual-hash match names work_a's hash, then work_b's."""
    if match["kind"] != "phash":
        return match
    mine, other = match["hashes"]
    hash_a, hash_b = (mine, other) if work_id == a else (other, mine)
    return {
        "kind": "phash",
        "value": f"{hash_a:016x}",
        "value_b": f"{hash_b:016x}",
        "distance": match["distance"],
    }


def kinds(matches: Iterable[dict]) -> set[str]:
    return {m["kind"] for m in matches}


def _pairs_filter(pairs: Iterable[tuple[int, int]]) -> QuerySet[Conflict]:
    """The conflicts of ``pairs`` (and maybe a few more: callers keep only theirs), through
    the ``one_conflict_per_pair`` index."""
    pairs = list(pairs)
    return Conflict.objects.filter(
        work_a_id__in={a for a, _ in pairs}, work_b_id__in={b for _, b in pairs}
    )


def conflicts_detect(
    *, works: Iterable[Work] | QuerySet, actor: User | None = None
) -> list[Conflict]:
    """Record a conflict for every pair (a work of ``works``, another creator's work) that
    share an identifier, a file (SHA-256) or a near-identical image; returns the conflicts of
    those pairs, new or not.

    Batch-friendly: a constant number of queries whatever the number of works. Call it inside
    the transaction that changed the works. An existing open conflict gains the new matches;
    a resolved one is left alone unless a new *kind* of match appears, which reopens it for
    staff (the earlier outcome stays in the audit log; claim decisions it made stand). Each
    creator with a new or reopened conflict is emailed once per call, after commit."""
    by_id = {work.pk: work for work in works}
    if not by_id:
        return []
    found = _found_matches(by_id)
    if not found:
        return []

    facts = {pk: _Facts(w.owner_id, w.created_at, w.title, w.public_id) for pk, w in by_id.items()}
    others = {other for _, other in found} - set(facts)
    for pk, *values in Work.objects.filter(pk__in=others).values_list(
        "pk", "owner_id", "created_at", "title", "public_id"
    ):
        facts[pk] = _Facts(*values)

    wanted: dict[tuple[int, int], list[dict]] = {}
    for (work_id, other_id), matches in found.items():
        if other_id not in facts or facts[work_id].owner_id == facts[other_id].owner_id:
            continue  # a creator's own works never conflict
        a, b = _ordered(facts, work_id, other_id)
        oriented = [_oriented(m, work_id, a) for m in matches]
        wanted[(a, b)] = _merge(wanted.get((a, b), []), oriented)
    if not wanted:
        return []

    with transaction.atomic():
        return _record(wanted, facts, actor)


def _record(wanted, facts, actor) -> list[Conflict]:
    existing = {
        (c.work_a_id, c.work_b_id): c
        for c in _pairs_filter(wanted).select_for_update()
        if (c.work_a_id, c.work_b_id) in wanted
    }
    new_pairs = [pair for pair in wanted if pair not in existing]
    created: dict[tuple[int, int], Conflict] = {}
    if new_pairs:
        # ignore_conflicts: a concurrent detection may insert the same pair first; then its
        # row is read back below and our matches merged into it.
        Conflict.objects.bulk_create(
            [Conflict(work_a_id=a, work_b_id=b, matches=wanted[(a, b)]) for a, b in new_pairs],
            ignore_conflicts=True,
        )
        created = {
            (c.work_a_id, c.work_b_id): c
            for c in _pairs_filter(new_pairs).select_for_update()
            if (c.work_a_id, c.work_b_id) in wanted
        }

    changed: list[Conflict] = []
    audit: list[tuple[Conflict, str, dict | None]] = []
    announce: list[Conflict] = []
    for pair, conflict in created.items():
        merged = _merge(conflict.matches, wanted[pair])
        if merged != conflict.matches:  # a concurrent detection created it
            conflict.matches = merged
            changed.append(conflict)
        audit.append((conflict, "conflict.open", None))
        announce.append(conflict)
    for pair, conflict in existing.items():
        merged = _merge(conflict.matches, wanted[pair])
        if merged == conflict.matches:
            continue
        new_kinds = kinds(merged) - kinds(conflict.matches)
        before = {"matches": ", ".join(sorted(kinds(conflict.matches)))}
        conflict.matches = merged
        if conflict.status == Conflict.Status.RESOLVED:
            if not new_kinds:
                continue  # resolved with this kind of evidence already: leave it alone
            before |= {"status": conflict.status, "resolution": conflict.resolution}
            conflict.status = Conflict.Status.OPEN
            conflict.resolution = ""
            conflict.reason = ""
            conflict.resolved_by = None
            conflict.resolved_at = None
            audit.append((conflict, "conflict.reopen", before))
            announce.append(conflict)
        else:
            audit.append((conflict, "conflict.match", before))
        changed.append(conflict)
    if changed:
        Conflict.objects.bulk_update(
            changed, ["matches", "status", "resolution", "reason", "resolved_by", "resolved_at"]
        )
    _audit_many(actor, audit)
    if announce:
        _announce(announce, facts)
    return sorted([*created.values(), *existing.values()], key=lambda c: (c.created_at, c.pk))


def _audit_many(actor: User | None, rows: list[tuple[Conflict, str, dict | None]]) -> None:
    """``accounts.services.audit_record`` for many rows in one insert."""
    if not rows:
        return
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor,
            actor_label=actor.email if actor else "system",
            action=action,
            object_type=conflict._meta.label_lower,
            object_id=str(conflict.pk),
            object_label=str(conflict)[:300],
            before=before,
            after={
                "work_a": conflict.work_a_id,
                "work_b": conflict.work_b_id,
                "matches": ", ".join(sorted(kinds(conflict.matches))),
                "status": conflict.status,
            },
        )
        for conflict, action, before in rows
    )


def match_phrase(matches: Iterable[dict]) -> str:
    """“the same ISBN and a very similar image”: what matched, in plain words, no values."""
    phrases = []
    for kind in [*IDENTIFIER_KINDS, "sha256", "phash"]:
        if kind in kinds(matches):
            phrases.append(KIND_PHRASES[kind])
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def work_url(public_id: str) -> str:
    return f"{settings.SITE_URL}{reverse('works:detail', args=[public_id])}"


def _announce(conflicts: list[Conflict], facts: dict[int, _Facts]) -> None:
    """One email per creator, listing their works that are in a new (or reopened) conflict:
    what matched, and who will look into it — never the other creator or their work."""
    owner_ids = {facts[pk].owner_id for c in conflicts for pk in (c.work_a_id, c.work_b_id)}
    guilds = verified_guild_ids(owner_ids)
    users = dict(User.objects.filter(pk__in=owner_ids).values_list("pk", "email"))
    items: dict[int, list[dict]] = defaultdict(list)
    for conflict in conflicts:
        a, b = facts[conflict.work_a_id], facts[conflict.work_b_id]
        route, _ = route_between(guilds[a.owner_id], guilds[b.owner_id])
        for work_id, mine in ((conflict.work_a_id, a), (conflict.work_b_id, b)):
            items[mine.owner_id].append(
                {
                    "title": mine.title,
                    "url": work_url(mine.public_id),
                    "matched": match_phrase(conflict.matches),
                    "by_guild": route == "guild",
                    "earlier": work_id == conflict.work_a_id,
                }
            )
    for owner_id, owner_items in items.items():
        if users.get(owner_id):
            transaction.on_commit(
                lambda owner_id=owner_id, items=owner_items: _email_found(
                    owner_id, users[owner_id], items
                ),
                robust=True,
            )


def _email_found(owner_id: int, email: str, items: list[dict]) -> None:
    """After commit: the email, unless this creator had one in the last interval."""
    interval = getattr(settings, "WORKS_CONFLICT_EMAIL_INTERVAL", FOUND_EMAIL_INTERVAL)
    try:
        due = cache.add(f"works:conflict-found-email:{owner_id}", 1, timeout=interval)
    except Exception:  # the cache is down: better an email too many than none
        logger.warning("Cache unreachable: conflict email to user %s not throttled", owner_id)
        due = True
    if due:
        mail.queue_templated(
            "works/email/conflict_found",
            [email],
            {"items": items, "count": len(items), "interval_minutes": max(1, interval // 60)},
        )
