"""An organisation's people: invitations by registry managers, accepted through a signed link,
and the organisation's own digest setting.

A person acts for one organisation at most (``DeveloperMember`` is one-to-one with the user).
They join by following the link mailed to the invited address, signed in with an account that
owns that address as a *verified* email address, so nobody joins an organisation with an
address they do not hold. Every write runs in one transaction with its audit row.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts import mail
from accounts.models import User
from accounts.services import audit_record

from ..access import can_manage_developer
from ..models import AIDeveloper, DeveloperInvitation, DeveloperMember

INVITATION_SALT = "notices.developer-invitation"


def _require_manager(actor: User | None) -> None:
    if not (actor is not None and actor.is_authenticated and actor.can_manage_registry):
        raise PermissionDenied("Only registry managers and superusers invite people.")


def invitation_max_age() -> int:
    return settings.NOTICES_INVITATION_MAX_AGE


def invitation_expires_at(invitation: DeveloperInvitation):
    return invitation.created_at + timedelta(seconds=invitation_max_age())


def invitation_is_expired(invitation: DeveloperInvitation, now=None) -> bool:
    return (now or timezone.now()) >= invitation_expires_at(invitation)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _verified_owner_filter(email: str) -> Q:
    """Users who hold ``email``: as their login address or as a verified address."""
    return Q(email__iexact=email) | Q(
        emailaddress__email__iexact=email, emailaddress__verified=True
    )


# --- Invitations -------------------------------------------------------------------------------


def invitation_token_make(*, invitation: DeveloperInvitation) -> str:
    """A signed, timestamped token naming the invitation and its address."""
    return signing.dumps({"i": invitation.pk, "e": invitation.email}, salt=INVITATION_SALT)


def invitation_url(*, invitation: DeveloperInvitation) -> str:
    path = reverse("developer:invitation", args=[invitation_token_make(invitation=invitation)])
    return f"{settings.SITE_URL}{path}"


class InvitationLinkError(ValidationError):
    """An invitation link that cannot be used by anyone. ``status`` is the HTTP status to
    answer with: 400 for a link that was never valid, 410 for one that no longer is."""

    def __init__(self, status: int, message: str, code: str):
        super().__init__(message, code=code)
        self.status = status
        self.message = message


def _invalid_link() -> InvitationLinkError:
    return InvitationLinkError(
        400,
        "This invitation link is not valid. Check that you copied the whole link from the "
        "email, or ask the portal's registry managers for a new invitation.",
        "invalid",
    )


def invitation_expired_error() -> InvitationLinkError:
    return InvitationLinkError(
        410,
        "This invitation has expired. Ask the portal's registry managers to invite you again.",
        "expired",
    )


def invitation_for_token(*, token: str, for_update: bool = False) -> DeveloperInvitation:
    """The invitation a token names, open or accepted; raises ``InvitationLinkError`` for a
    forged, expired or revoked one. Reads only: opening the link (which mail scanners do)
    changes nothing."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=invitation_max_age())
    except signing.SignatureExpired:
        raise invitation_expired_error() from None
    except (signing.BadSignature, ValueError, TypeError):
        raise _invalid_link() from None
    if not (
        isinstance(data, dict) and isinstance(data.get("i"), int) and isinstance(data.get("e"), str)
    ):
        raise _invalid_link()
    invitations = DeveloperInvitation.objects.select_related("developer", "invited_by")
    if for_update:
        invitations = invitations.select_for_update(of=("self",))  # invited_by may be null
    invitation = invitations.filter(pk=data["i"]).first()
    if invitation is None:
        raise InvitationLinkError(410, "This invitation no longer exists.", "gone")
    if invitation.email.lower() != data["e"].lower():
        raise _invalid_link()
    if invitation.revoked_at:
        raise InvitationLinkError(
            410,
            "This invitation was withdrawn. Ask the portal's registry managers if you expected "
            "to join.",
            "revoked",
        )
    return invitation


def _send_invitation(*, actor: User, invitation: DeveloperInvitation) -> None:
    mail.queue_templated(
        "notices/email/invitation",
        [invitation.email],
        {
            "actor": actor.label,
            "developer": invitation.developer.name,
            "invitation": invitation,
            "accept_url": invitation_url(invitation=invitation),
            "max_age_days": max(1, invitation_max_age() // (24 * 3600)),
        },
    )


@transaction.atomic
def invitation_create(*, actor: User, developer: AIDeveloper, email: str) -> DeveloperInvitation:
    """Invite ``email`` to act for ``developer`` and mail it a link once committed.

    Refused when the address already belongs to someone who acts for an organisation, or when
    it has an invitation still open (revoke that one to send a new link). An open invitation
    that has expired is withdrawn and replaced."""
    _require_manager(actor)
    email = normalise_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid email address."}) from None

    member = (
        DeveloperMember.objects.select_related("developer")
        .filter(user__in=User.objects.filter(_verified_owner_filter(email)))
        .first()
    )
    if member is not None:
        where = (
            "already acts for this organisation"
            if member.developer_id == developer.pk
            else f"already acts for {member.developer.name}"
        )
        raise ValidationError({"email": f"{email} {where}."}, code="member")

    now = timezone.now()
    for open_one in (
        DeveloperInvitation.objects.open()
        .select_for_update()
        .select_related("developer")
        .filter(email__iexact=email)
    ):
        if invitation_is_expired(open_one, now):
            open_one.revoked_at = now
            open_one.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor,
                action="invitation.revoke",
                obj=open_one,
                before={"state": "open"},
                after={"state": "revoked", "email": open_one.email},
                reason="Expired, replaced by a new invitation.",
            )
            continue
        same = open_one.developer_id == developer.pk
        where = "this organisation" if same else open_one.developer.name
        sent = date_format(timezone.localtime(open_one.created_at), "j F Y")
        raise ValidationError(
            {
                "email": (
                    f"{email} already has an open invitation to {where}, sent {sent}. "
                    "Revoke it to send a new link."
                )
            },
            code="invited",
        )

    invitation = DeveloperInvitation(developer=developer, email=email, invited_by=actor)
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:  # a concurrent invitation of the same address
        raise ValidationError({"email": f"{email} was invited just now."}, code="invited") from None
    audit_record(
        actor=actor,
        action="invitation.create",
        obj=invitation,
        after={"developer": developer.slug, "email": email, "state": "open"},
    )
    _send_invitation(actor=actor, invitation=invitation)
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: DeveloperInvitation) -> DeveloperInvitation:
    """Withdraw an open invitation: its link stops working. Revoking twice changes nothing."""
    _require_manager(actor)
    invitation = (
        DeveloperInvitation.objects.select_for_update()
        .select_related("developer")
        .get(pk=invitation.pk)
    )
    if invitation.revoked_at:
        return invitation
    if invitation.accepted_at:
        raise ValidationError(
            f"{invitation.email} has already accepted: remove the person instead.",
            code="accepted",
        )
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="invitation.revoke",
        obj=invitation,
        before={"state": "open"},
        after={"state": "revoked", "email": invitation.email},
    )
    return invitation


def invitation_refusal(*, user: User, invitation: DeveloperInvitation) -> ValidationError | None:
    """Why ``user`` may not accept ``invitation`` (a ``ValidationError`` whose ``code`` says
    which refusal), or None if they may. Reads only."""
    if invitation.accepted_at:
        still_member = DeveloperMember.objects.filter(
            user=user, developer_id=invitation.developer_id
        ).exists()
        if invitation.accepted_by_id == user.pk and still_member:
            return None  # accepting again is a no-op
        # Used by someone else, or by them before they were removed: a link lets one in once.
        return InvitationLinkError(
            410,
            "This invitation has already been used. Ask the portal's registry managers if you "
            "expected to join.",
            "used",
        )
    holds = user.emailaddress_set.filter(email__iexact=invitation.email)
    if not holds.filter(verified=True).exists():
        if holds.exists():
            return ValidationError(
                f"This invitation was sent to {invitation.email}. That address is on your "
                "account but not verified yet: verify it, then open the link again.",
                code="unverified",
            )
        return ValidationError(
            f"This invitation was sent to {invitation.email}, and you are signed in with "
            "another address. Sign in with that address, or add it to your account and verify "
            "it, then open the link again.",
            code="wrong-address",
        )
    member = DeveloperMember.objects.select_related("developer").filter(user=user).first()
    if member is not None and member.developer_id != invitation.developer_id:
        return ValidationError(
            f"You already act for {member.developer.name}. A person acts for one organisation "
            "only: ask the portal's registry managers to remove you from it first.",
            code="member-elsewhere",
        )
    return None


@transaction.atomic
def invitation_accept(*, user: User, token: str) -> DeveloperMember:
    """``user`` joins the organisation the token's invitation names. The invitation is marked
    accepted in the same transaction; accepting again (the same person) returns their
    membership and changes nothing."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied("Sign in to accept an invitation.")
    invitation = invitation_for_token(token=token, for_update=True)
    refusal = invitation_refusal(user=user, invitation=invitation)
    if refusal is not None:
        raise refusal
    if invitation_is_expired(invitation) and not invitation.accepted_at:
        raise invitation_expired_error()
    member = DeveloperMember.objects.filter(user=user).first()
    if invitation.accepted_at and member is not None:
        return member
    if member is None:
        member = DeveloperMember(
            developer=invitation.developer, user=user, invited_by=invitation.invited_by
        )
        try:
            with transaction.atomic():
                member.save()
        except IntegrityError:  # they joined an organisation in another request just now
            raise ValidationError(
                "You joined an organisation just now: a person acts for one only.",
                code="member-elsewhere",
            ) from None
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        actor=user,
        action="invitation.accept",
        obj=invitation,
        before={"state": "open"},
        after={
            "state": "accepted",
            "email": invitation.email,
            "developer": invitation.developer.slug,
            "member": member.pk,
        },
    )
    return member


# --- People -------------------------------------------------------------------------------------


@transaction.atomic
def member_remove(*, actor: User, member: DeveloperMember) -> None:
    """Stop ``member`` acting for their organisation (they keep their account)."""
    _require_manager(actor)
    member = (
        DeveloperMember.objects.select_for_update()
        .select_related("developer", "user")
        .filter(pk=member.pk)
        .first()
    )
    if member is None:
        return
    audit_record(
        actor=actor,
        action="member.remove",
        obj=member,
        before={"developer": member.developer.slug, "email": member.user.email},
        after=None,
    )
    member.delete()


# --- The organisation's settings ----------------------------------------------------------------


@transaction.atomic
def digest_frequency_set(*, actor: User, developer: AIDeveloper, frequency: str) -> AIDeveloper:
    """How often ``developer`` receives its consent digest (daily, weekly, off)."""
    if not can_manage_developer(actor, developer):
        raise PermissionDenied("Only the organisation's people and registry managers set this.")
    if frequency not in AIDeveloper.DigestFrequency.values:
        raise ValidationError(
            {"digest_frequency": "Choose daily, weekly or off."}, code="invalid_choice"
        )
    developer = AIDeveloper.objects.select_for_update().get(pk=developer.pk)
    before = developer.digest_frequency
    if before == frequency:
        return developer
    developer.digest_frequency = frequency
    developer.save(update_fields=["digest_frequency", "updated_at"])
    audit_record(
        actor=actor,
        action="developer.digest_frequency",
        obj=developer,
        before={"digest_frequency": before},
        after={"digest_frequency": frequency},
    )
    return developer
