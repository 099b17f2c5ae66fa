"""What ``removals`` adds to the works list (``works.extensions``): the bulk action "Add to a
removal request" — the works chosen go into a new draft, or into one of the creator's drafts
(or a request sent back to them), through ``draft_create`` and ``draft_update`` as on the
draft's own page. ``works`` imports nothing of ``removals``: this is registered from
``RemovalsConfig.ready``."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse

from works.extensions import BulkAction, BulkDone
from works.models import Work

from .models import RemovalRequest

NEW = "new"


def _drafts(owner):
    return RemovalRequest.objects.filter(
        creator=owner, status__in=RemovalRequest.EDITABLE
    ).order_by("-created_at", "-pk")


def _fields(owner) -> dict[str, forms.Field]:
    choices = [(NEW, "A new draft")]
    for draft in _drafts(owner).only("pk", "title", "status", "created_at")[:50]:
        name = draft.title or "Untitled draft"
        started = f"started {draft.created_at:%-d %b %Y}"
        sent_back = ", sent back to you" if draft.status == RemovalRequest.Status.NEEDS_INFO else ""
        choices.append((str(draft.pk), f"{name} ({started}{sent_back})"))
    return {
        "removal": forms.ChoiceField(
            label="Which request",
            choices=choices,
            initial=NEW,
            widget=forms.RadioSelect,
            help_text="Nothing is sent until you review the request and submit it.",
        )
    }


def _light(works: QuerySet) -> QuerySet:
    return works.only("pk", "public_id", "owner_id", "status", "title")


@transaction.atomic
def _apply(*, actor, owner, works: QuerySet, data: dict) -> BulkDone:
    from . import services

    total = works.count()
    active = list(_light(works.filter(status=Work.Status.ACTIVE)))
    if not active:
        raise ValidationError(
            "Archived works cannot be named in a request: make them active again first."
        )
    if data["removal"] == NEW:
        request = services.draft_create(actor=actor, creator=owner)
    else:
        request = _drafts(owner).filter(pk=data["removal"]).first()
        if request is None:
            raise ValidationError("That draft can no longer be changed: choose another.")
    current = list(_light(request.works.all()))
    merged = {w.pk: w for w in [*current, *active]}
    services.draft_update(actor=actor, request=request, works=list(merged.values()))
    added = len(merged) - len(current)
    plural = "s" if added != 1 else ""
    message = f"{added:,} work{plural} added to the request ({len(merged):,} in all)."
    if total > len(active):
        message += f" {total - len(active):,} archived left out: a request names active works."
    return BulkDone(
        message + " Nothing is sent until you submit it.",
        url=reverse("removals:edit", args=[request.pk]),
    )


REMOVAL_BULK = BulkAction(
    name="removal",
    label="Add to a removal request",
    confirm="Add {count} to the request",
    apply=_apply,
    fields=_fields,
    position=40,
)
