"""Reads about the AI-developer registry."""

from dataclasses import dataclass, field

from django.core.exceptions import FieldDoesNotExist
from django.db.models import CharField, Count, Q, QuerySet
from django.db.models.functions import Cast

from accounts.models import AuditEvent

from .models import AIDeveloper, DeveloperContact


def developers() -> QuerySet[AIDeveloper]:
    return AIDeveloper.objects.annotate(
        confirmed_contacts=Count(
            "contacts",
            filter=Q(contacts__confirmed_at__isnull=False, contacts__removed_at__isnull=True),
        ),
        pending_contacts=Count(
            "contacts",
            filter=Q(contacts__confirmed_at__isnull=True, contacts__removed_at__isnull=True),
        ),
    ).order_by("name")


def registry_summary() -> dict:
    return AIDeveloper.objects.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(is_active=True)),
    )


def registry_changes() -> QuerySet[AuditEvent]:
    """Every recorded edit of the registry (developers and contacts), newest first."""
    return AuditEvent.objects.filter(object_type__startswith="notices.").select_related("actor")


def developer_contacts(developer: AIDeveloper) -> QuerySet[DeveloperContact]:
    """Every contact of ``developer``, removed ones too (shown as such), oldest first."""
    return DeveloperContact.objects.filter(developer=developer).select_related(
        "added_by__creator_profile", "removed_by__creator_profile"
    )


def developer_changes(developer: AIDeveloper) -> QuerySet[AuditEvent]:
    """The audit rows of ``developer`` and of all its contacts, newest first, in one query."""
    contact_ids = (
        DeveloperContact.objects.filter(developer=developer)
        .annotate(object_id_text=Cast("pk", CharField()))
        .values("object_id_text")
    )
    return AuditEvent.objects.filter(
        Q(object_type=AIDeveloper._meta.label_lower, object_id=str(developer.pk))
        | Q(object_type=DeveloperContact._meta.label_lower, object_id__in=contact_ids)
    ).order_by("-created_at", "-pk")


ACTION_LABELS = {
    "developer.create": "Added the developer",
    "developer.update": "Edited the developer",
    "contact.add": "Added a notice contact",
    "contact.resend": "Sent the confirmation link again",
    "contact.confirm": "Address confirmed by its recipient",
    "contact.remove": "Removed a notice contact",
}


@dataclass(frozen=True)
class Change:
    field: str
    before: object
    after: object


@dataclass(frozen=True)
class HistoryEntry:
    event: AuditEvent
    what: str
    subject: str
    changes: list[Change] = field(default_factory=list)


def _field_label(name: str) -> str:
    for model in (AIDeveloper, DeveloperContact):
        try:
            return str(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:  # e.g. "state", which is no field
            continue
    return name.replace("_", " ")


def _shown(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and "\n" in value:
        return ", ".join(line for line in value.splitlines() if line)
    return value


def _changes(before: dict | None, after: dict | None) -> list[Change]:
    before, after = before or {}, after or {}
    return [
        Change(_field_label(name), _shown(before.get(name)), _shown(after.get(name)))
        for name in dict.fromkeys([*before, *after])
        if before.get(name) != after.get(name)
    ]


def developer_history(developer: AIDeveloper, limit: int = 100) -> list[HistoryEntry]:
    """``developer_changes`` ready to show: what happened, to what, and which fields changed."""
    entries = []
    for event in developer_changes(developer)[:limit]:
        is_contact = event.object_type == DeveloperContact._meta.label_lower
        subject = (event.after or event.before or {}).get("email", "") if is_contact else ""
        entries.append(
            HistoryEntry(
                event=event,
                what=ACTION_LABELS.get(event.action, event.action),
                subject=subject,
                changes=_changes(event.before, event.after),
            )
        )
    return entries
