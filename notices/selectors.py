"""Reads about the AI-developer registry."""

from django.db.models import Count, Q, QuerySet

from accounts.models import AuditEvent

from .models import AIDeveloper


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
