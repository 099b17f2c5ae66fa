"""The effective decision for (work, use, developer): the one place it is computed.

Every page, machine-readable signal, API answer and notice asks this module. The rules, in order:

1. an active licence grant to *that developer* covering the work and the use → allowed, under
   that licence (a grant for ``train-ai`` also covers ``train-genai``, a kind of it);
2. otherwise the work's override for the use;
3. otherwise the creator's default for the use;
4. otherwise the built-in default (every AI use denied, search allowed).

Then the implication: ``train-genai`` is a kind of ``train-ai``, so it is never more open than
``train-ai`` (deny > licence > allow) unless a grant allows it.

"Any developer" (``developer=None``) is what public signals use: grants never apply to it.
Archived works keep their decisions.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Q
from django.utils import timezone

from .models import LicenceGrant, Preference
from .vocabulary import DEFAULTS, PLAIN, STRICTNESS, USES, Choice, Use


@dataclass(frozen=True)
class Decision:
    use: str
    choice: str  # Choice value: allow, deny or licence
    source: str  # "grant", "override", "default", "built-in" or "implied"
    licence_ref: str = ""
    grant_id: int | None = None

    @property
    def allowed(self) -> bool:
        return self.choice == Choice.ALLOW

    @property
    def label(self) -> str:
        return Choice(self.choice).label

    @property
    def use_label(self) -> str:
        return Use(self.use).label

    def plain(self, kind: str = "work") -> str:
        text = PLAIN[(self.use, self.choice)].format(kind=kind)
        if self.source == "grant":
            return f"{text[:-1]} — under licence {self.licence_ref}."
        return text


def _grant_covers(grant: LicenceGrant, work_id: int, use: str, grant_work_ids: set[int]) -> bool:
    if not (grant.all_works or work_id in grant_work_ids):
        return False
    return use in grant.uses or (use == "train-genai" and "train-ai" in grant.uses)


def decisions_resolve(
    *, work_id: int, defaults: dict[str, str], overrides: dict[str, str], grants: list
) -> dict[str, Decision]:
    """The rules above for one work, from what was read: the owner's ``defaults`` and the
    work's ``overrides`` (use → choice), and ``grants`` — ``(grant, ids of the works it names)``
    for the active grants of the owner to the developer asked about (any object with ``pk``,
    ``all_works``, ``uses`` and ``licence_ref`` will do)."""
    decisions: dict[str, Decision] = {}
    for use in USES:
        granted = next((g for g, ids in grants if _grant_covers(g, work_id, use, ids)), None)
        if granted is not None:
            decisions[use] = Decision(
                use, Choice.ALLOW, "grant", licence_ref=granted.licence_ref, grant_id=granted.pk
            )
        elif use in overrides:
            decisions[use] = Decision(use, overrides[use], "override")
        elif use in defaults:
            decisions[use] = Decision(use, defaults[use], "default")
        else:
            decisions[use] = Decision(use, DEFAULTS[use], "built-in")
    genai, general = decisions["train-genai"], decisions["train-ai"]
    if genai.source != "grant" and STRICTNESS[general.choice] > STRICTNESS[genai.choice]:
        decisions["train-genai"] = Decision("train-genai", general.choice, "implied")
    return decisions


def _read(works: list, *, developer, on: date | None):
    """What the rules need for ``works``: the owners' defaults and the works' overrides
    (``{owner or work pk: {use: choice}}``) and, with a developer, the owners' grants to it
    (``{owner pk: [(grant, ids of these works it names)]}``)."""
    on = on or timezone.localdate()
    owner_ids = {w.owner_id for w in works}
    work_ids = [w.pk for w in works]

    # The owners' defaults and the works' overrides, in one query.
    defaults: dict[int, dict[str, str]] = defaultdict(dict)
    overrides: dict[int, dict[str, str]] = defaultdict(dict)
    rows = Preference.objects.filter(
        Q(owner_id__in=owner_ids, work__isnull=True) | Q(work_id__in=work_ids)
    ).values_list("owner_id", "work_id", "use", "choice")
    for owner_id, work_id, use, choice in rows:
        if work_id is None:
            defaults[owner_id][use] = choice
        else:
            overrides[work_id][use] = choice

    grants_by_owner: dict[int, list] = defaultdict(list)
    if developer is not None:
        grants = list(
            LicenceGrant.objects.active_on(on)
            .filter(developer=developer, owner_id__in=owner_ids)
            .order_by("pk")
        )
        # Which of *these* works each grant names, as ids: a grant may name thousands of
        # works, and only membership matters here.
        named: dict[int, set[int]] = defaultdict(set)
        listed = [grant.pk for grant in grants if not grant.all_works]
        if listed:
            rows = LicenceGrant.works.through.objects.filter(
                licencegrant_id__in=listed, work_id__in=work_ids
            ).values_list("licencegrant_id", "work_id")
            for grant_id, work_id in rows:
                named[grant_id].add(work_id)
        for grant in grants:
            ids = set() if grant.all_works else named[grant.pk]
            grants_by_owner[grant.owner_id].append((grant, ids))
    return defaults, overrides, grants_by_owner


def decisions_for_works(
    works: Iterable, *, developer=None, on: date | None = None
) -> dict[int, dict[str, Decision]]:
    """``{work.pk: {use: Decision}}`` for many works in a constant number of queries (three,
    or one for "any developer"), whatever their number and owners."""
    mine, _ = decisions_with_public(works, developer=developer, on=on)
    return mine


def decisions_with_public(
    works: Iterable, *, developer=None, on: date | None = None
) -> tuple[dict[int, dict[str, Decision]], dict[int, dict[str, Decision]]]:
    """``(decisions for developer, public decisions)``, each ``{work.pk: {use: Decision}}``,
    from the same queries as ``decisions_for_works`` — a registry answer shows both (the
    public one in the work's signals). A work whose owner granted the developer nothing has
    the same decisions in both (the same dict)."""
    works = list(works)
    if not works:
        return {}, {}
    defaults, overrides, grants = _read(works, developer=developer, on=on)
    mine: dict[int, dict[str, Decision]] = {}
    public: dict[int, dict[str, Decision]] = {}
    for work in works:
        owner_defaults, work_overrides = defaults[work.owner_id], overrides[work.pk]
        public[work.pk] = decisions_resolve(
            work_id=work.pk, defaults=owner_defaults, overrides=work_overrides, grants=[]
        )
        owner_grants = grants.get(work.owner_id)
        mine[work.pk] = (
            decisions_resolve(
                work_id=work.pk,
                defaults=owner_defaults,
                overrides=work_overrides,
                grants=owner_grants,
            )
            if owner_grants
            else public[work.pk]
        )
    return mine, public


def decisions_for_work(work, *, developer=None, on: date | None = None) -> dict[str, Decision]:
    return decisions_for_works([work], developer=developer, on=on)[work.pk]


def decide(work, use: str, *, developer=None, on: date | None = None) -> Decision:
    return decisions_for_work(work, developer=developer, on=on)[use]


def defaults_for(owner) -> dict[str, Decision]:
    """The creator's defaults as decisions (what a work with no override gets, for anyone)."""
    rows = dict(
        Preference.objects.filter(owner=owner, work__isnull=True).values_list("use", "choice")
    )
    return decisions_resolve(work_id=0, defaults=rows, overrides={}, grants=[])
