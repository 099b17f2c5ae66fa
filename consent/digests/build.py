"""Building one developer's digest of one period from the consent ledger (see the package's
docstring for the rules)."""

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain as chained

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from notices.models import AIDeveloper
from works.models import Work, WorkIdentifier

from ..decisions import Decision, decisions_resolve
from ..models import LedgerChain, LedgerEntry, LicenceGrant, Preference
from ..vocabulary import USES, Choice
from .periods import local_day_before

BATCH = 1000  # works per batch
OWNER_CHUNK = 500  # creators per "all their works" query
UNKNOWN = "unknown"  # a previous choice the ledger cannot tell (never a Choice value)
WORK_FIELDS = (
    "pk",
    "public_id",
    "title",
    "kind",
    "status",
    "claim_state",
    "owner_id",
    "owner__ref",
    "owner__creator_profile__credit_name",
    "owner__creator_profile__display_name",
)
PLACEHOLDER = "0PUBLICID0"  # public ids are letters and digits: replaced in the page's URL


@dataclass(frozen=True)
class Touch:
    """What one ledger entry may change the decision of: every work of its creator
    (``all_works``) or the works ``public_ids``; for every developer, or — a licence grant's
    entry (``grant`` its id, ``developer`` its developer's slug when it was written) — for that
    grant's developer only."""

    all_works: bool
    public_ids: tuple[str, ...] = ()
    grant: int | None = None
    developer: str | None = None


def entry_touches(action: str, scope: dict) -> Touch | None:
    """The candidate rules, for one entry (its ``action`` and ``scope``): ``default.set``
    touches every work of its creator, ``override.set`` its work, ``bulk.apply`` its works, a
    ``grant.*`` entry its grant's works (or all the creator's) for its developer only; anything
    else (``credit.set``) touches nothing (None). Digests and the works registry's change feed
    both ask this."""
    if action == "default.set":
        return Touch(all_works=True)
    if action == "override.set":
        return Touch(all_works=False, public_ids=(scope["work"],))
    if action == "bulk.apply":
        return Touch(all_works=False, public_ids=tuple(scope["works"]))
    if action.startswith("grant."):
        works = scope.get("works")
        return Touch(
            all_works=works == "all",
            public_ids=() if works == "all" else tuple(works or ()),
            grant=scope.get("grant"),
            developer=scope.get("developer") or "",
        )
    return None


@dataclass(frozen=True)
class _Op:
    """How to undo one entry for some works or a default: use → what it was before (a choice,
    None for "no preference", or UNKNOWN)."""

    in_period: bool
    before: dict


def _undo(state: dict, ops: list[_Op], *, in_period: bool) -> dict:
    state = dict(state)
    for op in reversed(ops):
        if op.in_period == in_period:
            for use, value in op.before.items():
                if value is None:
                    state.pop(use, None)
                else:
                    state[use] = value
    return state


def _undone(current: dict, ops: list[_Op]) -> tuple[dict, dict]:
    """``current`` (use → choice) as it was at the end of the period, and at its start: the
    entries written after the end undone first, then the period's."""
    at_end = _undo(current, ops, in_period=False)
    return at_end, _undo(at_end, ops, in_period=True)


class LedgerWindow:
    """The entries written from ``start`` on, of every chain with an entry in [start, end): what
    the period changed and what came after it, read once (one query) and shared by every
    developer's digest of the period."""

    def __init__(self, start: datetime, end: datetime):
        self.start, self.end = start, end
        self.default_ops: dict[int, list[_Op]] = defaultdict(list)  # owner → ops
        self.work_ops: dict[str, list[_Op]] = defaultdict(list)  # public id → ops
        self.all_works_of: set[int] = set()  # owners whose default changed in the period
        self.works_of: dict[int, set[str]] = defaultdict(set)  # owner → public ids touched
        self.owner_entries: dict[int, list[dict]] = defaultdict(list)  # default.set refs
        self.work_entries: dict[str, list[dict]] = defaultdict(list)  # public id → refs
        self.grant_entries: list[tuple[int, Touch, dict]] = []  # (owner, touch, ref), the period's
        self.grant_times: dict[tuple[int, str], datetime] = {}  # (grant, action) → when
        rows = (
            LedgerEntry.objects.filter(chain_id__in=self.period_chains(), created_at__gte=start)
            .order_by("chain_id", "seq")
            .values_list("chain__owner_id", "seq", "hash", "created_at", "canonical")
        )
        for owner_id, seq, digest, at, canonical in rows.iterator(chunk_size=500):
            if owner_id is not None:  # an account deleted since: their works are gone too
                self._add(owner_id, seq, digest, at, json.loads(canonical))

    def period_chains(self):
        return LedgerEntry.objects.filter(
            created_at__gte=self.start, created_at__lt=self.end
        ).values("chain_id")

    def period_owners(self):
        return LedgerChain.objects.filter(pk__in=self.period_chains()).values("owner_id")

    def _add(self, owner_id: int, seq: int, digest: str, at: datetime, payload: dict) -> None:
        action, scope, before = payload["action"], payload["scope"], payload["before"]
        in_period = at < self.end
        ref = {"seq": seq, "action": action, "at": payload["at"], "hash": digest}
        touch = entry_touches(action, scope)
        if action == "default.set":
            self.default_ops[owner_id].append(_Op(in_period, before))
        elif action in ("override.set", "bulk.apply"):
            if action == "override.set":
                op = _Op(in_period, before)
            else:
                # The entry keeps only the *set* of previous choices: exact when there is one.
                previous = before.get("choices") or []
                value = UNKNOWN if len(previous) != 1 else previous[0]
                op = _Op(in_period, {scope["use"]: None if value == "default" else value})
            for public_id in touch.public_ids:
                self.work_ops[public_id].append(op)
        elif action.startswith("grant."):
            self.grant_times.setdefault((scope.get("grant"), action), at)
        if not in_period or touch is None:  # credit.set (and anything else) changes no decision
            return
        if touch.developer is not None:
            self.grant_entries.append((owner_id, touch, ref))  # judged per developer
        elif touch.all_works:
            self.all_works_of.add(owner_id)
            self.owner_entries[owner_id].append(ref)
        else:
            for public_id in touch.public_ids:
                self.works_of[owner_id].add(public_id)
                self.work_entries[public_id].append(ref)


def _decide(work_id: int, defaults: dict, overrides: dict, grants: list) -> dict:
    """``decisions_resolve`` where an override may be UNKNOWN: use → Decision, or None when the
    ledger cannot tell (a grant still decides; ``train-genai`` follows an unknown ``train-ai``
    unless it is denied anyway)."""
    unknown = {use for use, choice in overrides.items() if choice == UNKNOWN}
    known = {use: choice for use, choice in overrides.items() if choice != UNKNOWN}
    decisions = decisions_resolve(
        work_id=work_id, defaults=defaults, overrides=known, grants=grants
    )
    result: dict[str, Decision | None] = {}
    for use, decision in decisions.items():
        doubtful = use in unknown or (
            use == "train-genai"
            and "train-ai" in unknown
            and (decision.source == "implied" or decision.choice != Choice.DENY)
        )
        result[use] = None if doubtful and decision.source != "grant" else decision
    return result


def _same(a: Decision | None, b: Decision | None) -> bool:
    return (
        a is not None and b is not None and (a.choice, a.licence_ref) == (b.choice, b.licence_ref)
    )


def _as_json(decision: Decision | None) -> dict | None:
    if decision is None:
        return None
    return {
        "choice": str(decision.choice),
        "source": decision.source,
        "licence_ref": decision.licence_ref,
    }


def page_url_template() -> str:
    """The absolute URL of a work's public page with ``PLACEHOLDER`` for its public id."""
    return settings.SITE_URL + reverse("works:public", args=[PLACEHOLDER])


def work_object(
    work: dict, decisions: dict, identifiers: list[str], *, page_url: str | None = None
) -> dict:
    """The object published for one work — in a digest and in the works registry's answers:
    ``work`` a row of ``WORK_FIELDS``, ``decisions`` use → ``Decision`` (None: unknown),
    ``identifiers`` as ``scheme:value``, ``page_url`` from ``page_url_template()``."""
    page_url = page_url or page_url_template()
    return {
        "public_id": work["public_id"],
        "title": work["title"],
        "url": page_url.replace(PLACEHOLDER, work["public_id"]),
        "kind": work["kind"],
        "status": work["status"],
        "claim_state": work["claim_state"],
        "credit_name": work["owner__creator_profile__credit_name"]
        or work["owner__creator_profile__display_name"]
        or "",
        "identifiers": identifiers,
        "decision": {use: _as_json(decisions[use]) for use in USES},
    }


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Digest:
    """The works whose effective decision for ``developer`` changed in [start, end); ``rows()``
    yields them one dict at a time (see docs/digests.md for the fields)."""

    def __init__(self, *, developer: AIDeveloper, start: datetime, end: datetime, window=None):
        self.developer, self.start, self.end = developer, start, end
        self.window = window or LedgerWindow(start, end)
        self._defaults: dict[int, tuple[dict, dict]] = {}  # owner → (at end, at start)
        self._page_url = page_url_template()
        self.all_works_of = set(self.window.all_works_of)
        self.public_ids: dict[int, set[str]] = defaultdict(set)
        for owner_id, public_ids in self.window.works_of.items():
            self.public_ids[owner_id] |= public_ids
        self.work_pks: dict[int, set[int]] = defaultdict(set)
        self.owner_entries = defaultdict(
            list, {k: list(v) for k, v in self.window.owner_entries.items()}
        )
        self.work_entries = defaultdict(
            list, {k: list(v) for k, v in self.window.work_entries.items()}
        )
        self._load_grants()

    def _in_force(self, grant: LicenceGrant, instant: datetime) -> bool:
        times = self.window.grant_times
        created = times.get((grant.pk, "grant.create"), grant.created_at)
        revoked = times.get((grant.pk, "grant.revoke"), grant.revoked_at)
        day = local_day_before(instant)
        return (
            created < instant
            and (revoked is None or revoked >= instant)
            and grant.starts_on <= day
            and (grant.ends_on is None or day <= grant.ends_on)
        )

    def _load_grants(self) -> None:
        """This developer's grants of every creator the period concerns (two queries): which
        were in force at each end, and the works of those whose force changed."""
        start, end = self.start, self.end
        first, last = local_day_before(start), local_day_before(end)
        changed = (
            Q(created_at__gte=start, created_at__lt=end)
            | Q(revoked_at__gte=start, revoked_at__lt=end)
            | Q(starts_on__gt=first, starts_on__lte=last)
            | Q(ends_on__gte=first, ends_on__lt=last)
        )
        mine = LicenceGrant.objects.filter(developer=self.developer)
        concerned = mine.filter(
            Q(owner_id__in=self.window.period_owners())
            | Q(owner_id__in=mine.filter(changed).values("owner_id"))
        )
        grants = list(concerned.order_by("pk"))
        ids_of: dict[int, set[int]] = defaultdict(set)
        if any(not g.all_works for g in grants):
            through = LicenceGrant.works.through.objects.filter(
                licencegrant_id__in=concerned.filter(all_works=False).values("pk")
            )
            for grant_id, work_id in through.values_list("licencegrant_id", "work_id"):
                ids_of[grant_id].add(work_id)
        self.grants_at_start: dict[int, list] = defaultdict(list)
        self.grants_at_end: dict[int, list] = defaultdict(list)
        for grant in grants:
            ids = set() if grant.all_works else ids_of[grant.pk]
            at_start, at_end = self._in_force(grant, start), self._in_force(grant, end)
            if at_start:
                self.grants_at_start[grant.owner_id].append((grant, ids))
            if at_end:
                self.grants_at_end[grant.owner_id].append((grant, ids))
            if at_start != at_end:
                if grant.all_works:
                    self.all_works_of.add(grant.owner_id)
                else:
                    self.work_pks[grant.owner_id] |= ids
        grant_ids = {g.pk for g in grants}
        for owner_id, touch, ref in self.window.grant_entries:
            if touch.grant not in grant_ids and touch.developer != self.developer.slug:
                continue  # another developer's licence: nothing changes for this one
            if touch.all_works:
                self.all_works_of.add(owner_id)
                self.owner_entries[owner_id].append(ref)
            else:
                for public_id in touch.public_ids:
                    self.public_ids[owner_id].add(public_id)
                    self.work_entries[public_id].append(ref)

    # --- the candidates, in batches ------------------------------------------------------------

    def _candidate_batches(self) -> Iterator[list[dict]]:
        """The candidates registered before the period, as rows of WORK_FIELDS: every work of
        the creators in ``all_works_of`` (by keyset pages), then the other touched works."""
        works = Work.objects.filter(created_at__lt=self.start).values(*WORK_FIELDS)
        for owners in _chunks(sorted(self.all_works_of), OWNER_CHUNK):
            last = 0
            while True:
                batch = list(works.filter(owner_id__in=owners, pk__gt=last).order_by("pk")[:BATCH])
                if batch:
                    yield batch
                if len(batch) < BATCH:
                    break
                last = batch[-1]["pk"]
        rest = [o for o in self.public_ids if o not in self.all_works_of]
        public_ids = sorted(p for o in rest for p in self.public_ids[o])
        seen: set[int] = set()
        for chunk in _chunks(public_ids, BATCH):
            batch = list(works.filter(public_id__in=chunk).order_by("pk"))
            seen.update(w["pk"] for w in batch)
            yield batch
        rest = [o for o in self.work_pks if o not in self.all_works_of]
        pks = sorted({pk for o in rest for pk in self.work_pks[o]} - seen)
        for chunk in _chunks(pks, BATCH):
            yield list(works.filter(pk__in=chunk).order_by("pk"))

    def rows(self) -> Iterator[dict]:
        for batch in self._candidate_batches():
            yield from self._rows_of(batch)

    def _rows_of(self, works: list[dict]) -> Iterator[dict]:
        """The listed works of one batch, in three queries (preferences, identifiers)."""
        ids = [w["pk"] for w in works]
        new_owners = {w["owner_id"] for w in works} - self._defaults.keys()
        wanted = Q(work_id__in=ids)
        if new_owners:
            wanted |= Q(owner_id__in=new_owners, work__isnull=True)
        defaults: dict[int, dict] = defaultdict(dict)
        overrides: dict[int, dict] = defaultdict(dict)
        for owner_id, work_id, use, choice in Preference.objects.filter(wanted).values_list(
            "owner_id", "work_id", "use", "choice"
        ):
            (defaults[owner_id] if work_id is None else overrides[work_id])[use] = choice
        for owner_id in new_owners:
            ops = self.window.default_ops.get(owner_id, [])
            self._defaults[owner_id] = _undone(defaults[owner_id], ops)
        identifiers: dict[int, list[str]] = defaultdict(list)
        for work_id, scheme, value in (
            WorkIdentifier.objects.filter(work_id__in=ids)
            .order_by("work_id", "scheme", "pk")
            .values_list("work_id", "scheme", "value")
        ):
            identifiers[work_id].append(f"{scheme}:{value}")
        for work in works:
            pk, owner_id = work["pk"], work["owner_id"]
            defaults_end, defaults_start = self._defaults[owner_id]
            overrides_end, overrides_start = _undone(
                overrides[pk], self.window.work_ops.get(work["public_id"], [])
            )
            now = _decide(pk, defaults_end, overrides_end, self.grants_at_end[owner_id])
            before = _decide(pk, defaults_start, overrides_start, self.grants_at_start[owner_id])
            changed = [use for use in USES if not _same(now[use], before[use])]
            if changed:
                yield self._row(work, now, before, changed, identifiers[pk])

    def _row(self, work: dict, now: dict, before: dict, changed: list, identifiers) -> dict:
        entries = {
            ref["seq"]: ref
            for ref in chained(
                self.owner_entries.get(work["owner_id"], []),
                self.work_entries.get(work["public_id"], []),
            )
        }
        row = work_object(work, now, identifiers, page_url=self._page_url)
        decision = row.pop("decision")  # the digest's order: changed_uses before decision
        return row | {
            "changed_uses": changed,
            "decision": decision,
            "previous": {use: _as_json(before[use]) for use in USES},
            "ledger": {
                "chain": str(work["owner__ref"]),
                "entries": [entries[seq] for seq in sorted(entries)],
            },
        }


def digest_build(*, developer: AIDeveloper, start: datetime, end: datetime, window=None) -> Digest:
    """The digest of ``developer`` for [start, end) (aware datetimes). ``window`` shares one
    reading of the ledger between developers of the same period."""
    return Digest(developer=developer, start=start, end=end, window=window)
