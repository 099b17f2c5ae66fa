"""Every change to consent: defaults, per-work overrides, bulk apply, credit, licence grants,
the start and end of a grant's period, and mandates. Each runs in one transaction, appends one
consent-ledger entry in that transaction, and sends the creator a receipt carrying the entry's
hash once it commits.

Each change to a creator's consent first locks their ledger chain's head (``ledger.lock``) and
only then reads what is current: changes at once to one creator run one after the other, so a
repeated change writes nothing and every entry's "before" is what the previous one left. Locks
are always taken in that order — their chain, then their preferences or grant — so two changes
never wait on each other in a circle."""

from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import mail
from accounts.models import GuildStaffAppointment, Mandate, User
from accounts.services import audit_record
from notices.models import AIDeveloper
from works.models import Work

from . import ledger
from .models import CreditPreference, LicenceGrant, Preference
from .vocabulary import DEFAULTS, USES, Choice

CHOICES = {c.value for c in Choice}
CREDIT_FIELDS = ["credit_line", "attribution_required", "link", "licensing_contact", "terms_url"]


# --- Who may act for a creator -----------------------------------------------------------------


def can_act_for(actor: User, owner: User) -> bool:
    """The creator themselves, or staff of a guild they gave an active mandate."""
    if actor.pk == owner.pk:
        return True
    mandated = Mandate.objects.active().filter(creator=owner).values("guild_id")
    return GuildStaffAppointment.objects.active().filter(user=actor, guild__in=mandated).exists()


def _require_can_act(actor: User, owner: User) -> None:
    if not can_act_for(actor, owner):
        raise PermissionDenied("You may change these preferences only with the creator's mandate.")


def _receipt(entry, *, owner: User, actor: User | None, summary: str) -> None:
    """The consent receipt: a copy outside the portal, carrying the entry's hash. When staff
    acted under their mandate, the email says so."""
    mail.queue_templated(
        "consent/email/receipt",
        [owner.email],
        {
            "entry": entry,
            "summary": summary,
            "by_staff": actor is not None and actor.pk != owner.pk,
            "actor_label": entry.actor_label,
            "history_url": f"{settings.SITE_URL}{reverse('consent:history')}",
        },
    )


def _check_choices(choices: dict[str, str | None]) -> None:
    for use, choice in choices.items():
        if use not in USES:
            raise ValidationError(f"Unknown use “{use}”.")
        if choice is not None and choice not in CHOICES:
            raise ValidationError(f"Unknown choice “{choice}”.")


# --- Defaults and overrides --------------------------------------------------------------------


@transaction.atomic
def defaults_set(*, actor: User, owner: User, choices: dict[str, str]):
    """Set the creator's default for some uses (a use left out keeps its default)."""
    _require_can_act(actor, owner)
    _check_choices(choices)
    ledger.lock(owner)
    current = dict(
        Preference.objects.select_for_update()
        .filter(owner=owner, work__isnull=True)
        .values_list("use", "choice")
    )
    # Compared with what applies now (the built-in default when they never chose): saying again
    # what already holds is no change, and writes no entry.
    changed = {use: c for use, c in choices.items() if current.get(use, DEFAULTS[use]) != c}
    if not changed:
        return None
    for use, choice in changed.items():
        Preference.objects.update_or_create(
            owner=owner, work=None, use=use, defaults={"choice": choice}
        )
    entry = ledger.append(
        owner=owner,
        actor=actor,
        action="default.set",
        scope={"kind": "default"},
        before={use: current.get(use) for use in changed},
        after=changed,
        scope_label="Your defaults for all your works",
    )
    _receipt(entry, owner=owner, actor=actor, summary="Your default choices changed.")
    return entry


@transaction.atomic
def override_set(*, actor: User, work: Work, choices: dict[str, str | None]):
    """Override the default for one work; a choice of None removes the override (the work
    follows the default again)."""
    owner = work.owner
    _require_can_act(actor, owner)
    _check_choices(choices)
    ledger.lock(owner)
    current = dict(
        Preference.objects.select_for_update().filter(work=work).values_list("use", "choice")
    )
    changed = {use: c for use, c in choices.items() if current.get(use) != c}
    if not changed:
        return None
    for use, choice in changed.items():
        if choice is None:
            Preference.objects.filter(work=work, use=use).delete()
        else:
            Preference.objects.update_or_create(
                owner=owner, work=work, use=use, defaults={"choice": choice}
            )
    entry = ledger.append(
        owner=owner,
        actor=actor,
        action="override.set",
        scope={"kind": "work", "work": work.public_id},
        before={use: current.get(use) for use in changed},
        after=changed,
        scope_label=work.title,
    )
    _receipt(entry, owner=owner, actor=actor, summary=f"Your choices for “{work.title}” changed.")
    return entry


@transaction.atomic
def bulk_apply(*, actor: User, owner: User, works: Iterable[Work], use: str, choice: str | None):
    """Write the same override for one use on many works (a search result, a kind, or all):
    per-work overrides, one ledger entry listing the works. There are no kind-level rules."""
    _require_can_act(actor, owner)
    _check_choices({use: choice})
    ledger.lock(owner)
    works = [w for w in works if w.owner_id == owner.pk]
    if not works:
        raise ValidationError("No works were selected.")
    ids = [w.pk for w in works]
    before = dict(
        Preference.objects.select_for_update()
        .filter(work_id__in=ids, use=use)
        .values_list("work_id", "choice")
    )
    targets = [w for w in works if before.get(w.pk) != choice]
    if not targets:
        return None
    if choice is None:
        Preference.objects.filter(work_id__in=[w.pk for w in targets], use=use).delete()
    else:
        existing = [w.pk for w in targets if w.pk in before]
        Preference.objects.filter(work_id__in=existing, use=use).update(
            choice=choice, updated_at=timezone.now()
        )
        Preference.objects.bulk_create(
            Preference(owner=owner, work=w, use=use, choice=choice)
            for w in targets
            if w.pk not in before
        )
    entry = ledger.append(
        owner=owner,
        actor=actor,
        action="bulk.apply",
        scope={"kind": "works", "use": use, "works": sorted(w.public_id for w in targets)},
        before={"choices": sorted({before.get(w.pk) or "default" for w in targets})},
        after={use: choice},
        scope_label=f"{len(targets)} work{'s' if len(targets) != 1 else ''}",
    )
    _receipt(
        entry,
        owner=owner,
        actor=actor,
        summary=f"Your choice for {len(targets)} works changed at once.",
    )
    return entry


# --- Credit ------------------------------------------------------------------------------------


@transaction.atomic
def credit_set(*, actor: User, owner: User, **fields):
    _require_can_act(actor, owner)
    ledger.lock(owner)
    credit, _ = CreditPreference.objects.select_for_update().get_or_create(owner=owner)
    before = {name: getattr(credit, name) for name in CREDIT_FIELDS}
    for name, value in fields.items():
        if name not in CREDIT_FIELDS:
            raise TypeError(f"unknown credit field {name!r}")
        setattr(credit, name, value.strip() if isinstance(value, str) else value)
    credit.full_clean()
    after = {name: getattr(credit, name) for name in CREDIT_FIELDS}
    if before == after:
        return None
    credit.save()
    changed = [name for name in CREDIT_FIELDS if before[name] != after[name]]
    entry = ledger.append(
        owner=owner,
        actor=actor,
        action="credit.set",
        scope={"kind": "credit"},
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
        scope_label="How you are credited",
    )
    _receipt(entry, owner=owner, actor=actor, summary="Your credit preferences changed.")
    return entry


# --- Licence grants ----------------------------------------------------------------------------


def _grant_scope(grant: LicenceGrant) -> dict:
    return {
        "kind": "grant",
        "grant": grant.pk,
        "developer": grant.developer.slug,
        "works": "all" if grant.all_works else sorted(w.public_id for w in grant.works.all()),
        "uses": sorted(grant.uses),
        "licence": grant.licence_ref,
        "from": grant.starts_on.isoformat(),
        "to": grant.ends_on.isoformat() if grant.ends_on else None,
    }


@transaction.atomic
def grant_create(
    *,
    actor: User,
    owner: User,
    developer: AIDeveloper,
    uses: list[str],
    licence_ref: str,
    starts_on: date,
    ends_on: date | None = None,
    works: Iterable[Work] | None = None,
) -> LicenceGrant:
    """An exception for one developer: it may make ``uses`` of the works (all when ``works``
    is None) under the licence ``licence_ref`` from ``starts_on`` to ``ends_on``."""
    _require_can_act(actor, owner)
    uses = sorted(set(uses))
    if not uses:
        raise ValidationError({"uses": "Choose at least one use."})
    _check_choices({use: None for use in uses})
    works = None if works is None else [w for w in works if w.owner_id == owner.pk]
    if works is not None and not works:
        raise ValidationError({"works": "Choose the works the licence covers."})
    grant = LicenceGrant(
        owner=owner,
        developer=developer,
        all_works=works is None,
        uses=uses,
        licence_ref=licence_ref.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
    )
    grant.full_clean()
    ledger.lock(owner)
    today = timezone.localdate()
    if grant.starts_on <= today:
        grant.start_recorded_at = timezone.now()  # in force now: this entry records its start
    grant.save()
    if works:
        grant.works.set(works)
    entry = ledger.append(
        owner=owner,
        actor=actor,
        action="grant.create",
        scope=_grant_scope(grant),
        before=None,
        after={"in_force": grant.is_active_on(today)},
        scope_label=f"Licence {grant.licence_ref} for {developer.name}",
    )
    _receipt(
        entry,
        owner=owner,
        actor=actor,
        summary=f"You granted {developer.name} a licence ({grant.licence_ref}).",
    )
    return grant


@transaction.atomic
def grant_revoke(*, actor: User, grant: LicenceGrant) -> LicenceGrant:
    owner = LicenceGrant.objects.select_related("owner").get(pk=grant.pk).owner
    _require_can_act(actor, owner)
    ledger.lock(owner)
    grant = LicenceGrant.objects.select_for_update().select_related("developer").get(pk=grant.pk)
    if grant.revoked_at:
        return grant
    was_active = grant.is_active_on(timezone.localdate())
    grant.revoked_at = timezone.now()
    grant.save(update_fields=["revoked_at"])
    entry = ledger.append(
        owner=grant.owner,
        actor=actor,
        action="grant.revoke",
        scope=_grant_scope(grant),
        before={"in_force": was_active},
        after={"in_force": False},
        scope_label=f"Licence {grant.licence_ref} for {grant.developer.name}",
    )
    _receipt(
        entry,
        owner=grant.owner,
        actor=actor,
        summary=f"You revoked the licence {grant.licence_ref} of {grant.developer.name}.",
    )
    return grant


def grant_periods_record(*, today: date | None = None, developer=None) -> int:
    """Beat job: append a ledger entry when a grant's period starts or ends, so everything
    downstream (digests, the change feed) sees the change when it happens. Idempotent. With
    ``developer``, only that developer's grants (the change feed brings its caller's up to date
    before answering)."""
    today = today or timezone.localdate()
    recorded = 0
    grants = LicenceGrant.objects.all()
    if developer is not None:
        grants = grants.filter(developer=developer)
    starting = grants.filter(
        start_recorded_at__isnull=True, revoked_at__isnull=True, starts_on__lte=today
    )
    for grant_id in starting.values_list("pk", flat=True)[:1000]:
        recorded += _record_period(grant_id, "start", today)
    ending = grants.filter(end_recorded_at__isnull=True, revoked_at__isnull=True, ends_on__lt=today)
    for grant_id in ending.values_list("pk", flat=True)[:1000]:
        recorded += _record_period(grant_id, "end", today)
    return recorded


@transaction.atomic
def _record_period(grant_id: int, edge: str, today: date) -> int:
    field = f"{edge}_recorded_at"
    found = LicenceGrant.objects.select_related("owner").filter(pk=grant_id).first()
    if found is None:  # gone with their account since it was listed
        return 0
    ledger.lock(found.owner)
    grant = (
        LicenceGrant.objects.select_for_update()
        .select_related("developer", "owner")
        .filter(pk=grant_id, **{f"{field}__isnull": True})
        .first()
    )
    if grant is None:
        return 0
    setattr(grant, field, timezone.now())
    grant.save(update_fields=[field])
    entry = ledger.append(
        owner=grant.owner,
        actor=None,
        action=f"grant.{edge}",
        scope=_grant_scope(grant),
        before={"in_force": edge == "end"},
        after={"in_force": edge == "start"},
        scope_label=f"Licence {grant.licence_ref} for {grant.developer.name}",
    )
    verb = "is now in force" if edge == "start" else "has ended"
    _receipt(
        entry,
        owner=grant.owner,
        actor=None,
        summary=f"The licence {grant.licence_ref} of {grant.developer.name} {verb}.",
    )
    return 1


# --- Mandates ----------------------------------------------------------------------------------


@transaction.atomic
def mandate_grant(*, creator: User, guild) -> Mandate:
    """The creator lets their guild's staff change their preferences for them (only they can)."""
    from accounts.models import GuildMembership

    if not GuildMembership.objects.filter(
        user=creator, guild=guild, status=GuildMembership.Status.VERIFIED
    ).exists():
        raise ValidationError(
            "You can give a mandate only to a guild you are a verified member of."
        )
    mandate = Mandate.objects.filter(creator=creator, guild=guild).active().first()
    if mandate:
        return mandate
    mandate = Mandate.objects.create(creator=creator, guild=guild)
    audit_record(actor=creator, action="mandate.grant", obj=mandate, after={"guild": guild.name})
    return mandate


@transaction.atomic
def mandate_revoke(*, creator: User, mandate: Mandate) -> Mandate:
    if mandate.creator_id != creator.pk:
        raise PermissionDenied("Only the creator revokes their mandate.")
    mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
    if mandate.revoked_at is None:
        mandate.revoked_at = timezone.now()
        mandate.save(update_fields=["revoked_at"])
        audit_record(
            actor=creator,
            action="mandate.revoke",
            obj=mandate,
            before={"guild": mandate.guild.name},
        )
    return mandate
