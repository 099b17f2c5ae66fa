"""Every write to accounts, profiles and guilds. Each service runs in one transaction, takes
the acting user, and records an ``AuditEvent`` in that same transaction."""

from collections.abc import Callable, Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from . import mail
from .models import (
    AuditEvent,
    CreatorName,
    CreatorProfile,
    Guild,
    GuildMembership,
    GuildStaffAppointment,
    User,
)


def _jsonable(data: dict) -> dict:
    return {
        key: (value if isinstance(value, (str, int, float, bool, type(None))) else str(value))
        for key, value in data.items()
    }


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
) -> AuditEvent:
    """Append one audit row. Call it inside the transaction that makes the change."""
    event = _audit_row(actor, action, obj, before, after, reason)
    event.save(force_insert=True)
    return event


def _audit_row(actor, action, obj, before, after, reason) -> AuditEvent:
    return AuditEvent(
        actor=actor,
        actor_label=actor.email if actor else "system",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_label=str(obj)[:300],
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        reason=reason,
    )


def audit_record_many(
    *,
    actor: User | None,
    action: str,
    rows: Iterable[tuple[object, dict | None, dict | None]],
    reason: str = "",
) -> list[AuditEvent]:
    """``audit_record`` for many objects at once — one row each, ``(obj, before, after)``, the
    same rows the one-at-a-time path writes — in one insert. Inside the transaction that makes
    the change (a bulk action on 2,000 works: ``works.bulk``)."""
    return AuditEvent.objects.bulk_create(
        [_audit_row(actor, action, obj, before, after, reason) for obj, before, after in rows]
    )


# --- Listeners ---------------------------------------------------------------------------------

# Apps above ``accounts`` that publish something of a creator's (the works registry's change
# feed: their works, their credit name) register here from their ``AppConfig.ready``:
# ``listener(user=, deleted=)`` runs inside the transaction that changed their published names
# (``deleted=False``) or is about to delete their account (``deleted=True``, their records still
# there). ``accounts`` imports none of them.
_account_listeners: list[Callable[..., None]] = []


def register_account_listener(listener: Callable[..., None]) -> None:
    if listener not in _account_listeners:
        _account_listeners.append(listener)


def _account_changed(user: User, *, deleted: bool) -> None:
    for listener in _account_listeners:
        listener(user=user, deleted=deleted)


# --- Creator profile ---------------------------------------------------------------------------

PROFILE_FIELDS = [
    "display_name",
    "credit_name",
    "pronouns",
    "pseudonyms",
    "isni",
    "website",
    "bio",
]
PUBLISHED_PROFILE_FIELDS = ["display_name", "credit_name"]  # their works' credit name
NAME_FIELDS = ["display_name", "credit_name", "pseudonyms"]  # kept folded in CreatorName


def profile_get_or_create(*, user: User) -> CreatorProfile:
    profile, _ = CreatorProfile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def profile_update(*, actor: User, profile: CreatorProfile, **fields) -> CreatorProfile:
    if actor.pk != profile.user_id:
        raise PermissionDenied("Only the creator edits their profile.")
    # As stored: a form bound to ``profile`` has already set the new values on that instance.
    profile = CreatorProfile.objects.select_for_update().get(pk=profile.pk)
    before = model_to_dict(profile, fields=PROFILE_FIELDS)
    for name, value in fields.items():
        if name not in PROFILE_FIELDS:
            raise TypeError(f"unknown profile field {name!r}")
        setattr(profile, name, value)
    profile.full_clean()
    profile.save()
    after = model_to_dict(profile, fields=PROFILE_FIELDS)
    if any(before[name] != after[name] for name in NAME_FIELDS):
        profile_names_sync(profile=profile)
    if before != after:
        audit_record(actor=actor, action="profile.update", obj=profile, before=before, after=after)
    if any(before[name] != after[name] for name in PUBLISHED_PROFILE_FIELDS):
        _account_changed(profile.user, deleted=False)
    return profile


def profile_names_sync(*, profile: CreatorProfile) -> None:
    """Make the profile's ``CreatorName`` rows exactly its folded names, in the caller's
    transaction. Every write of a credit name, display name or pseudonyms calls it:
    ``profile_update``, and the demo data and test factories that create profiles."""
    wanted = profile.names_folded
    current = set(CreatorName.objects.filter(profile=profile).values_list("name_folded", flat=True))
    if current - wanted:
        CreatorName.objects.filter(profile=profile, name_folded__in=current - wanted).delete()
    CreatorName.objects.bulk_create(
        [CreatorName(profile=profile, name_folded=name) for name in sorted(wanted - current)],
        ignore_conflicts=True,  # a concurrent sync of the same profile wrote it first
    )


# --- Guild membership --------------------------------------------------------------------------


@transaction.atomic
def membership_claim(*, user: User, guild: Guild, membership_number: str) -> GuildMembership:
    """A creator says they belong to ``guild``; its staff will verify or reject the claim.

    A rejected claim may be made again (e.g. with a corrected number); a pending or verified
    one may not.
    """
    membership_number = membership_number.strip()
    if not membership_number:
        raise ValidationError({"membership_number": "Give your membership number."})
    existing = GuildMembership.objects.select_for_update().filter(user=user, guild=guild).first()
    if existing and existing.status != GuildMembership.Status.REJECTED:
        raise ValidationError({"guild": f"You have already claimed membership of {guild.name}."})
    if existing:
        before = model_to_dict(existing, fields=["membership_number", "status", "reason"])
        existing.membership_number = membership_number
        existing.status = GuildMembership.Status.CLAIMED
        existing.claimed_at = timezone.now()
        existing.decided_by = None
        existing.decided_at = None
        existing.reason = ""
        existing.full_clean()
        existing.save()
        membership = existing
    else:
        before = None
        membership = GuildMembership(user=user, guild=guild, membership_number=membership_number)
        membership.full_clean()
        try:
            with transaction.atomic():
                membership.save()
        except IntegrityError:
            raise ValidationError(
                {"guild": f"You have already claimed membership of {guild.name}."}
            ) from None
    audit_record(
        actor=user,
        action="membership.claim",
        obj=membership,
        before=before,
        after={"guild": guild.name, "membership_number": membership_number, "status": "claimed"},
    )
    return membership


def is_guild_staff(user: User, guild: Guild) -> bool:
    return (
        user.is_authenticated
        and GuildStaffAppointment.objects.active().filter(user=user, guild=guild).exists()
    )


@transaction.atomic
def membership_decide(
    *, actor: User, membership: GuildMembership, verify: bool, reason: str = ""
) -> GuildMembership:
    """Guild staff verify or reject a claim of membership of *their* guild, never their own."""
    membership = (
        GuildMembership.objects.select_for_update()
        .select_related("guild", "user")
        .get(pk=membership.pk)
    )
    if not is_guild_staff(actor, membership.guild):
        raise PermissionDenied("Only this guild's staff decide its membership claims.")
    if membership.user_id == actor.pk:
        raise PermissionDenied("Nobody decides their own membership claim.")
    if membership.status != GuildMembership.Status.CLAIMED:
        raise ValidationError("This claim has already been decided.")
    reason = reason.strip()
    if not verify and not reason:
        raise ValidationError(
            {"reason": "Say why the claim is rejected: the creator will read it."}
        )
    membership.status = (
        GuildMembership.Status.VERIFIED if verify else GuildMembership.Status.REJECTED
    )
    membership.decided_by = actor
    membership.decided_at = timezone.now()
    membership.reason = reason
    membership.save()
    audit_record(
        actor=actor,
        action="membership.verify" if verify else "membership.reject",
        obj=membership,
        before={"status": "claimed"},
        after={"status": membership.status},
        reason=reason,
    )
    mail.queue_templated(
        "accounts/email/membership_decided",
        [membership.user.email],
        {
            "membership": membership,
            "dashboard_url": mail_url(reverse("portal:dashboard")),
        },
        reply_to=[membership.guild.contact_email] if membership.guild.contact_email else None,
    )
    return membership


def mail_url(path: str) -> str:
    from django.conf import settings

    return f"{settings.SITE_URL}{path}"


# --- Guilds, staff appointments and roles (superusers) -----------------------------------------

GUILD_FIELDS = ["name", "slug", "website", "contact_email"]


def _require_superuser(actor: User) -> None:
    if not (actor.is_active and actor.is_superuser):
        raise PermissionDenied("Only superusers manage guilds and roles.")


@transaction.atomic
def guild_save(*, actor: User, guild: Guild | None = None, **fields) -> Guild:
    _require_superuser(actor)
    creating = guild is None or guild.pk is None
    guild = guild or Guild()
    before = (
        None if creating else model_to_dict(Guild.objects.get(pk=guild.pk), fields=GUILD_FIELDS)
    )
    for name, value in fields.items():
        if name not in GUILD_FIELDS:
            raise TypeError(f"unknown guild field {name!r}")
        setattr(guild, name, value)
    guild.full_clean()
    guild.save()
    audit_record(
        actor=actor,
        action="guild.create" if creating else "guild.update",
        obj=guild,
        before=before,
        after=model_to_dict(guild, fields=GUILD_FIELDS),
    )
    return guild


@transaction.atomic
def staff_appoint(*, actor: User, guild: Guild, user: User) -> GuildStaffAppointment:
    _require_superuser(actor)
    if GuildStaffAppointment.objects.active().filter(guild=guild, user=user).exists():
        raise ValidationError({"email": f"{user.email} is already staff of {guild.name}."})
    appointment = GuildStaffAppointment.objects.create(guild=guild, user=user, appointed_by=actor)
    audit_record(
        actor=actor,
        action="staff.appoint",
        obj=appointment,
        after={"guild": guild.name, "user": user.email},
    )
    return appointment


@transaction.atomic
def staff_revoke(*, actor: User, appointment: GuildStaffAppointment) -> GuildStaffAppointment:
    _require_superuser(actor)
    appointment = GuildStaffAppointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.revoked_at:
        return appointment
    appointment.revoked_at = timezone.now()
    appointment.revoked_by = actor
    appointment.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action="staff.revoke",
        obj=appointment,
        before={"guild": appointment.guild.name, "user": appointment.user.email},
    )
    return appointment


@transaction.atomic
def registry_manager_set(*, actor: User, user: User, value: bool) -> User:
    _require_superuser(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_registry_manager == value:
        return user
    before = {"is_registry_manager": user.is_registry_manager}
    user.is_registry_manager = value
    user.save(update_fields=["is_registry_manager"])
    audit_record(
        actor=actor,
        action="role.registry_manager." + ("grant" if value else "revoke"),
        obj=user,
        before=before,
        after={"is_registry_manager": value},
    )
    return user


# --- Deleting an account -----------------------------------------------------------------------

DELETED_ACCOUNT = "a deleted account"


@transaction.atomic
def account_delete(*, actor: User, user: User) -> None:
    """Delete ``user`` and everything that is theirs: profile, email addresses, memberships,
    mandates, works with their identifiers, files and evidence, imports, preferences, grants.

    The audit log keeps what was done but not who they were: where they acted, their name becomes
    "a deleted account"; where the log described their own records, what it said is blanked.
    Stored files go once the transaction commits. (Records outside this app that name them beside
    an opaque id, such as the consent ledger's labels, are the caller's to blank first.)"""
    from django.db import router
    from django.db.models import FileField
    from django.db.models.deletion import Collector

    if actor.pk != user.pk and not (actor.is_active and actor.is_superuser):
        raise PermissionDenied("Only the person themselves deletes their account.")
    user = User.objects.select_for_update().get(pk=user.pk)
    collector = Collector(using=router.db_for_write(User), origin=user)
    collector.collect([user])

    # Everything that goes with them, whatever app it lives in: its ids (to blank the audit
    # log's description of it) and its stored files.
    owned: dict[str, set[str]] = {}
    files: list[tuple] = []

    def note(model, rows) -> None:
        fields = [f for f in model._meta.concrete_fields if isinstance(f, FileField)]
        ids = owned.setdefault(model._meta.label_lower, set())
        for pk, *names in rows:
            ids.add(str(pk))
            files.extend((f.storage, name) for f, name in zip(fields, names, strict=True) if name)

    for model, instances in collector.data.items():
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, FileField)]
        note(model, ([obj.pk, *(getattr(obj, name) for name in fields)] for obj in instances))
    for queryset in collector.fast_deletes:
        model = queryset.model
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, FileField)]
        note(model, queryset.values_list("pk", *fields).iterator())

    _account_changed(user, deleted=True)
    AuditEvent.objects.filter(actor=user).update(actor_label=DELETED_ACCOUNT)
    for label, ids in owned.items():
        ids = sorted(ids)
        for start in range(0, len(ids), 500):
            AuditEvent.objects.filter(
                object_type=label, object_id__in=ids[start : start + 500]
            ).update(object_label="", before=None, after=None, reason="")
    AuditEvent.objects.create(
        actor=None,
        actor_label=DELETED_ACCOUNT if actor.pk == user.pk else actor.email,
        action="account.delete",
        object_type=User._meta.label_lower,
        object_id=str(user.pk),
    )
    collector.delete()

    def delete_files():
        for storage, name in files:
            storage.delete(str(name))

    transaction.on_commit(delete_files, robust=True)
