"""Every write to the AI-developer registry.

Whoever edits a developer's notice contacts could divert every guild's notices, so: only
registry managers and superusers write here, each write records an ``AuditEvent`` (who, when,
before, after) in its own transaction, and a new contact address counts only once it has been
confirmed through a signed link sent to it (``contact_confirm``).
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from accounts import mail
from accounts.models import User
from accounts.services import audit_record

from ..models import AIDeveloper, DeveloperContact

DEVELOPER_FIELDS = ["name", "slug", "website", "crawler_user_agents", "is_active"]
CONTACT_FIELDS = ["email", "label"]

# Path segments of the registry's own pages: a developer with one of these slugs would be
# unreachable (see ``notices/urls.py``).
RESERVED_SLUGS = frozenset({"new", "confirm", "deliveries", "notices", "invitations"})

CONTACT_CONFIRM_SALT = "notices.contact-confirm"
DEFAULT_CONFIRM_MAX_AGE = 7 * 24 * 3600
# A resend mails a third party: at most one link a minute per contact.
RESEND_INTERVAL = timedelta(minutes=1)


def _require_manager(actor: User) -> None:
    if not (actor is not None and actor.is_authenticated and actor.can_manage_registry):
        raise PermissionDenied("Only registry managers and superusers edit the registry.")


# --- Developers --------------------------------------------------------------------------------


def _normalise_user_agents(value: str) -> str:
    """One token per line, stripped, without blank lines or repeats (order kept)."""
    lines = (line.strip() for line in (value or "").splitlines())
    return "\n".join(dict.fromkeys(line for line in lines if line))


def _assign_developer_fields(developer: AIDeveloper, fields: dict) -> None:
    for name, value in fields.items():
        if name not in DEVELOPER_FIELDS:
            raise TypeError(f"unknown developer field {name!r}")
        if name in ("name", "website") and isinstance(value, str):
            value = value.strip()
        if name == "crawler_user_agents":
            value = _normalise_user_agents(value)
        setattr(developer, name, value)


def _validate_developer(developer: AIDeveloper) -> None:
    errors = {}
    if developer.slug in RESERVED_SLUGS:
        errors["slug"] = [f"“{developer.slug}” is reserved by the portal: choose another."]
    same_name = AIDeveloper.objects.filter(name__iexact=developer.name).exclude(pk=developer.pk)
    if developer.name and same_name.exists():
        errors["name"] = ["An AI developer with this name is already registered."]
    try:
        developer.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            known = errors.setdefault(field, [])
            known.extend(m for m in messages if m not in known)
    if errors:
        raise ValidationError(errors)


def _save_developer(developer: AIDeveloper) -> None:
    try:
        with transaction.atomic():
            developer.save()
    except IntegrityError:  # a concurrent save took the name or slug after our check
        raise ValidationError(
            {"slug": "An AI developer with this name or slug was registered just now."}
        ) from None


@transaction.atomic
def developer_create(*, actor: User, **fields) -> AIDeveloper:
    _require_manager(actor)
    developer = AIDeveloper()
    _assign_developer_fields(developer, fields)
    _validate_developer(developer)
    _save_developer(developer)
    audit_record(
        actor=actor,
        action="developer.create",
        obj=developer,
        after=model_to_dict(developer, fields=DEVELOPER_FIELDS),
    )
    return developer


@transaction.atomic
def developer_update(*, actor: User, developer: AIDeveloper, **fields) -> AIDeveloper:
    """Edit a developer; the audit row holds the editable fields before and after."""
    _require_manager(actor)
    developer = AIDeveloper.objects.select_for_update().get(pk=developer.pk)
    before = model_to_dict(developer, fields=DEVELOPER_FIELDS)
    _assign_developer_fields(developer, fields)
    _validate_developer(developer)
    after = model_to_dict(developer, fields=DEVELOPER_FIELDS)
    if before == after:
        return developer
    _save_developer(developer)
    audit_record(actor=actor, action="developer.update", obj=developer, before=before, after=after)
    return developer


# --- Contacts and their confirmation -----------------------------------------------------------


def contact_token_make(*, contact: DeveloperContact) -> str:
    """A signed, timestamped token naming the contact and its address."""
    return signing.dumps({"c": contact.pk, "e": contact.email}, salt=CONTACT_CONFIRM_SALT)


def contact_confirm_url(*, contact: DeveloperContact) -> str:
    path = reverse("notices:contact-confirm", args=[contact_token_make(contact=contact)])
    return f"{settings.SITE_URL}{path}"


def confirm_max_age() -> int:
    return getattr(settings, "REGISTRY_CONTACT_CONFIRM_MAX_AGE", DEFAULT_CONFIRM_MAX_AGE)


class ContactLinkError(Exception):
    """A confirmation link that cannot be used. ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _invalid_link() -> ContactLinkError:
    return ContactLinkError(
        400,
        "This confirmation link is not valid. Check that you copied the whole link from the "
        "email, or ask the portal to send a new one.",
    )


def _gone_link(message: str) -> ContactLinkError:
    return ContactLinkError(410, message)


def contact_for_token(*, token: str, for_update: bool = False) -> DeveloperContact:
    """The contact a confirmation token names; raises ``ContactLinkError`` otherwise.

    Reads only: the GET of a link (which mail scanners pre-fetch) must change nothing.
    """
    try:
        data = signing.loads(token, salt=CONTACT_CONFIRM_SALT, max_age=confirm_max_age())
    except signing.SignatureExpired:
        raise _gone_link(
            "This confirmation link has expired. Ask the portal's registry managers to send a "
            "new one."
        ) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise _invalid_link() from None
    if not isinstance(data, dict):
        raise _invalid_link()
    if not (isinstance(data.get("c"), int) and isinstance(data.get("e"), str)):
        raise _invalid_link()
    contacts = DeveloperContact.objects.select_related("developer")
    if for_update:
        contacts = contacts.select_for_update()
    contact = contacts.filter(pk=data["c"]).first()
    if contact is None:
        raise _gone_link("This address is no longer a notice contact: there is nothing to confirm.")
    if contact.email.lower() != data["e"].lower():
        raise _invalid_link()
    if contact.removed_at:
        raise _gone_link(
            "This address was removed from the registry, so there is nothing to confirm."
        )
    return contact


@transaction.atomic
def contact_confirm(*, token: str) -> tuple[DeveloperContact, bool]:
    """Confirm the address a token names. Returns the contact and whether it was confirmed
    just now (``False`` when it already was: the first time is kept)."""
    contact = contact_for_token(token=token, for_update=True)
    if contact.confirmed_at:
        return contact, False
    contact.confirmed_at = timezone.now()
    contact.save(update_fields=["confirmed_at"])
    audit_record(
        actor=None,
        action="contact.confirm",
        obj=contact,
        before={"state": "awaiting confirmation"},
        after={"state": "confirmed", "email": contact.email},
        reason=f"Confirmed through the link sent to {contact.email}.",
    )
    return contact, True


def _send_confirmation(*, actor: User, contact: DeveloperContact) -> None:
    contact.confirmation_sent_at = timezone.now()
    contact.save(update_fields=["confirmation_sent_at"])
    mail.queue_templated(
        "notices/email/contact_confirm",
        [contact.email],
        {
            "actor": actor.label,
            "developer": contact.developer.name,
            "contact": contact,
            "confirm_url": contact_confirm_url(contact=contact),
            "max_age_days": max(1, confirm_max_age() // (24 * 3600)),
        },
    )


@transaction.atomic
def contact_add(
    *, actor: User, developer: AIDeveloper, email: str, label: str = ""
) -> DeveloperContact:
    """Add an address, unconfirmed, and mail it a confirmation link once committed."""
    _require_manager(actor)
    email = (email or "").strip().lower()
    label = (label or "").strip()
    contact = DeveloperContact(developer=developer, email=email, label=label, added_by=actor)
    duplicate = ValidationError(
        {"email": f"{email} is already a notice contact of {developer.name}."}
    )
    if DeveloperContact.objects.current().filter(developer=developer, email__iexact=email).exists():
        raise duplicate
    contact.full_clean(exclude=["added_by", "removed_by"])
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise duplicate from None
    audit_record(
        actor=actor,
        action="contact.add",
        obj=contact,
        after={
            "developer": developer.name,
            "email": email,
            "label": label,
            "state": "awaiting confirmation",
        },
    )
    _send_confirmation(actor=actor, contact=contact)
    return contact


@transaction.atomic
def contact_resend(*, actor: User, contact: DeveloperContact) -> DeveloperContact:
    """Mail the confirmation link again (a new one: the old one stays valid until it expires)."""
    _require_manager(actor)
    contact = (
        DeveloperContact.objects.select_for_update().select_related("developer").get(pk=contact.pk)
    )
    if contact.removed_at:
        raise ValidationError("This address was removed: add it again instead.")
    if contact.confirmed_at:
        raise ValidationError(f"{contact.email} is already confirmed.")
    sent = contact.confirmation_sent_at
    if sent and timezone.now() - sent < RESEND_INTERVAL:
        raise ValidationError("A link was sent less than a minute ago: give it time to arrive.")
    audit_record(actor=actor, action="contact.resend", obj=contact, after={"email": contact.email})
    _send_confirmation(actor=actor, contact=contact)
    return contact


@transaction.atomic
def contact_remove(*, actor: User, contact: DeveloperContact) -> DeveloperContact:
    """Stop sending notices to an address. The row stays, for the record."""
    _require_manager(actor)
    contact = (
        DeveloperContact.objects.select_for_update().select_related("developer").get(pk=contact.pk)
    )
    if contact.removed_at:
        return contact
    before = {**model_to_dict(contact, fields=CONTACT_FIELDS), "state": contact.state}
    contact.removed_at = timezone.now()
    contact.removed_by = actor
    contact.save(update_fields=["removed_at", "removed_by"])
    audit_record(
        actor=actor,
        action="contact.remove",
        obj=contact,
        before=before,
        after={**model_to_dict(contact, fields=CONTACT_FIELDS), "state": contact.state},
    )
    return contact
