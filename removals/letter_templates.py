"""Editing the legal wording of removal notices (``LetterTemplate``): the portal's default, which
superusers edit, and a guild's own, which its staff edit for the letters the guild sends as its
members' agent. Every change is audited. ``letters.legal_basis(guild)`` reads what is written
here; letters already sent keep the words they were sent with.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import Guild, User
from accounts.services import audit_record

from .access import staff_guild_ids
from .letters import DEFAULT_LEGAL_BASIS
from .models import LetterTemplate

WORDING_MAX = 10_000
DEFAULT_SCOPE = "default"


def scope_for(guild: Guild | None) -> str:
    return DEFAULT_SCOPE if guild is None else f"guild:{guild.pk}"


def can_edit_wording(user: User, guild: Guild | None) -> bool:
    """Superusers edit the portal's default; staff edit their own guild's wording."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if guild is None:
        return user.is_superuser
    return guild.pk in staff_guild_ids(user)


def editable_guilds(user: User) -> list[Guild]:
    """The guilds whose wording ``user`` edits (those they are staff of), by name."""
    return list(Guild.objects.filter(pk__in=staff_guild_ids(user)).order_by("name"))


@dataclass(frozen=True)
class Wording:
    """What the editing page shows for one scope."""

    guild: Guild | None
    template: LetterTemplate | None  # None: nothing written yet for this scope
    text: str  # what letters of this scope use now

    @property
    def is_own(self) -> bool:
        return self.template is not None and bool(self.template.legal_basis.strip())


def wording_for(guild: Guild | None) -> Wording:
    """The wording of ``guild`` (or the portal's default): its own text if it has one, else
    what its letters fall back to (the portal's default, else the built-in words)."""
    found = {
        t.scope: t
        for t in LetterTemplate.objects.filter(
            scope__in={DEFAULT_SCOPE, scope_for(guild)}
        ).select_related("updated_by")
    }
    own = found.get(scope_for(guild))
    if own is not None and own.legal_basis.strip():
        return Wording(guild, own, own.legal_basis)
    default = found.get(DEFAULT_SCOPE)
    fallback = default.legal_basis if default and default.legal_basis.strip() else ""
    return Wording(guild, own, fallback or DEFAULT_LEGAL_BASIS)


def _clean(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError(
            {"legal_basis": "Write the legal wording: every removal notice quotes it."}
        )
    if len(text) > WORDING_MAX:
        raise ValidationError(
            {"legal_basis": f"Keep the legal wording under {WORDING_MAX:,} characters."}
        )
    return text


@transaction.atomic
def legal_wording_set(*, actor: User, guild: Guild | None = None, text: str) -> LetterTemplate:
    """Write the legal wording of ``guild`` (``None``: the portal's default). Audited with the
    words before and after; the next approval's letters use it."""
    if not can_edit_wording(actor, guild):
        raise PermissionDenied("You cannot edit this wording.")
    text = _clean(text)
    scope = scope_for(guild)
    template = LetterTemplate.objects.select_for_update().filter(scope=scope).first()
    before = template.legal_basis if template is not None else None
    if template is None:
        template = LetterTemplate(scope=scope, guild=guild)
    if before == text:
        return template
    template.legal_basis = text
    template.updated_by = actor
    template.full_clean(exclude=["guild", "updated_by"], validate_unique=False)
    template.save()
    audit_record(
        actor=actor,
        action="removal.legal_wording",
        obj=template,
        before={"scope": scope, "legal_basis": before} if before is not None else None,
        after={"scope": scope, "legal_basis": text},
    )
    return template


@transaction.atomic
def legal_wording_reset(*, actor: User, guild: Guild) -> bool:
    """Drop a guild's own wording: its letters use the portal's default again. Audited.
    Returns whether there was anything to drop."""
    if guild is None:
        raise ValidationError("The portal's default wording cannot be dropped, only changed.")
    if not can_edit_wording(actor, guild):
        raise PermissionDenied("You cannot edit this wording.")
    template = LetterTemplate.objects.select_for_update().filter(scope=scope_for(guild)).first()
    if template is None:
        return False
    audit_record(
        actor=actor,
        action="removal.legal_wording_reset",
        obj=template,
        before={"scope": template.scope, "legal_basis": template.legal_basis},
        after=None,
    )
    template.delete()
    return True
