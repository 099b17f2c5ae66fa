"""Bulk work on a creator's catalogue (issue 20): the works list's actions on many works at
once, and the staff's bulk verification of the claims in their queue.

The works list posts which works — the ticked rows (their public ids), or "all matching",
which re-runs the list's own filters here, on the server (``selectors.works_matching``), so
2,000 works never travel as 2,000 ids — and an action. Every action gets a queryset of the
creator's own works and does its work in one transaction with a constant number of queries
(bulk updates and inserts), writing what the one-work path writes: an audit row per work, the
registry's change feed (``works_changed``), the consent ledger's one entry for a bulk choice.

The actions of ``works`` are here (archive, make active again, ask the guild to verify); the
apps above it add theirs through ``works.extensions.register_bulk_action`` (an AI choice from
``consent``, a removal request from ``removals``): ``works`` imports neither.
"""

from dataclasses import dataclass
from itertools import groupby

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record_many

from . import extensions, selectors
from .extensions import BulkAction, BulkDone
from .listeners import works_changed
from .models import ClaimEvidence, Work
from .services import claims_verify_many

TICKED_MAX = 500  # public ids one form may carry; "all matching" has no limit
CLAIMS_MAX = 200  # claims verified at once from the staff's queue


def _works(count: int) -> str:
    return f"{count:,} work{'s' if count != 1 else ''}"


# --- Which works --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    works: QuerySet  # the creator's works chosen, plain (no joins, no order)
    count: int
    matching: bool  # "all matching the filters" rather than the ticked rows


def selection_resolve(
    *, owner: User, matching: bool, ids: list[str], filters: dict | None
) -> Selection:
    """The works a bulk action applies to: every work of ``owner`` the list's filters
    (``filters``: its valid cleaned data) match, or exactly the ticked ``ids``. Raises
    ``ValidationError`` — and nothing is done — when nothing is chosen, or when a ticked id is
    not one of ``owner``'s works (another creator's, or none)."""
    if matching:
        if filters is None:
            raise ValidationError("The filters are not valid: correct them on the list first.")
        works = selectors.works_matching(owner, filters)
    else:
        ids = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))
        if not ids:
            raise ValidationError(
                "Tick the works to act on first, or choose all the works matching your filters."
            )
        if len(ids) > TICKED_MAX:
            raise ValidationError(
                f"Tick at most {TICKED_MAX} works, or choose all the works matching your filters."
            )
        works = Work.objects.filter(owner=owner, public_id__in=ids)
    works = works.select_related(None).prefetch_related(None).order_by()
    count = works.count()
    if not matching and count != len(ids):
        missing = len(ids) - count
        raise ValidationError(
            f"{_works(missing)} of the {len(ids)} ticked {'is' if missing == 1 else 'are'} not "
            "among yours: nothing was changed."
        )
    if not count:
        raise ValidationError("No work matches your filters: there is nothing to do.")
    return Selection(works=works, count=count, matching=matching)


# --- The actions of works ------------------------------------------------------------------------


def _require_owner(actor: User, owner: User) -> None:
    if actor.pk != owner.pk:
        raise PermissionDenied("Only the creator changes their works.")


def works_set_status(*, actor: User, owner: User, works: QuerySet, archived: bool) -> list[Work]:
    """``work_set_status`` for many works: those not yet in the status change, each with its
    ``work.status`` audit row; the change feed hears of them. Returns the works changed."""
    _require_owner(actor, owner)
    status = Work.Status.ARCHIVED if archived else Work.Status.ACTIVE
    with transaction.atomic():
        targets = list(
            works.filter(owner=owner)
            .exclude(status=status)
            .select_for_update()
            .only("pk", "public_id", "owner_id", "title", "status")
        )
        if not targets:
            return []
        Work.objects.filter(pk__in=[w.pk for w in targets]).update(
            status=status, updated_at=timezone.now()
        )
        audit_record_many(
            actor=actor,
            action="work.status",
            rows=[(w, {"status": w.status}, {"status": status}) for w in targets],
        )
        for work in targets:
            work.status = status
        works_changed(targets)
    return targets


def _archive(*, actor, owner, works, data) -> BulkDone:
    done = works_set_status(actor=actor, owner=owner, works=works, archived=True)
    if not done:
        return BulkDone("They are all archived already: nothing changed.")
    return BulkDone(
        f"{_works(len(done))} archived. Archived works stay on record: "
        "show them with “Show: Archived works”."
    )


def _restore(*, actor, owner, works, data) -> BulkDone:
    done = works_set_status(actor=actor, owner=owner, works=works, archived=False)
    if not done:
        return BulkDone("They are all active already: nothing changed.")
    return BulkDone(f"{_works(len(done))} active again.")


def claims_request_many(
    *, actor: User, owner: User, works: QuerySet, url: str = "", statement: str = ""
) -> list[Work]:
    """``claim_request`` for many works with the same evidence (a link, a statement — no file):
    the works whose claim is not verified yet go to their guild's staff; a claim already waiting
    keeps its place in the queue, a rejected one is asked again. One evidence row and one
    ``claim.request`` audit row a work. Returns the works asked for."""
    _require_owner(actor, owner)
    url, statement = (url or "").strip(), (statement or "").strip()
    if not (url or statement):
        raise ValidationError(
            {
                "statement": "Give your evidence: a link, or a statement (for example from your "
                "publisher)."
            }
        )
    now = timezone.now()
    with transaction.atomic():
        targets = list(
            works.filter(owner=owner)
            .exclude(claim_state=Work.Claim.VERIFIED)
            .select_for_update()
            .only("pk", "public_id", "owner_id", "title", "claim_state")
        )
        if not targets:
            raise ValidationError("These works' claims are all verified already.")
        ids = [w.pk for w in targets]
        evidence = [
            ClaimEvidence(work=w, url=url, statement=statement, added_by=actor) for w in targets
        ]
        evidence[0].full_clean(exclude=["file", "work"])
        ClaimEvidence.objects.bulk_create(evidence)
        waiting = Q(claim_state=Work.Claim.SELF_DECLARED, claim_requested_at__isnull=False)
        Work.objects.filter(pk__in=ids).update(
            # More evidence for a waiting claim keeps its place in the queue.
            claim_requested_at=Case(
                When(waiting, then=F("claim_requested_at")), default=Value(now)
            ),
            claim_state=Work.Claim.SELF_DECLARED,
            claim_decided_at=None,
            claim_decided_by=None,
            claim_reason="",
            updated_at=now,
        )
        audit_record_many(
            actor=actor,
            action="claim.request",
            rows=[
                (w, None, {"evidence": str(e)[:200]})
                for w, e in zip(targets, evidence, strict=True)
            ],
        )
        asked_again = [w for w in targets if w.claim_state != Work.Claim.SELF_DECLARED]
        works_changed(asked_again)  # a rejected claim is self-declared again
    return targets


def _claim_fields(owner) -> dict[str, forms.Field]:
    return {
        "url": forms.URLField(
            label="A link that shows the works are yours",
            required=False,
            max_length=2000,
            assume_scheme="https",
            help_text="e.g. your publisher's list of your books, or a record label's page.",
        ),
        "statement": forms.CharField(
            label="Statement",
            required=False,
            max_length=5000,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="Anything that helps staff check: contract details, your publisher's "
            "statement… Every work chosen gets this evidence.",
        ),
    }


def _ask_verify(*, actor, owner, works, data) -> BulkDone:
    total = works.count()
    done = claims_request_many(
        actor=actor,
        owner=owner,
        works=works,
        url=data.get("url", ""),
        statement=data.get("statement", ""),
    )
    skipped = total - len(done)
    rest = f" {_works(skipped)} already verified left as they are." if skipped else ""
    return BulkDone(f"{_works(len(done))} sent to your guild's staff for verification.{rest}")


BUILT_IN = [
    BulkAction(
        name="archive", label="Archive", confirm="Archive {count}", apply=_archive, position=10
    ),
    BulkAction(
        name="restore",
        label="Make active again",
        confirm="Make {count} active again",
        apply=_restore,
        position=20,
    ),
    BulkAction(
        name="verify",
        label="Ask your guild to verify",
        confirm="Ask to verify {count}",
        apply=_ask_verify,
        fields=_claim_fields,
        position=60,
    ),
]


def actions() -> list[BulkAction]:
    """Every action of the works list's bulk form, in menu order."""
    return sorted([*BUILT_IN, *extensions.bulk_actions], key=lambda a: a.position)


def action_named(name: str) -> BulkAction | None:
    return next((a for a in actions() if a.name == name), None)


def bulk_run(
    *, actor: User, owner: User, action: BulkAction, selection: Selection, data: dict
) -> BulkDone:
    """Do ``action`` to the works chosen. Each action runs in one transaction of its own (a
    refusal changes nothing): no savepoint more around it."""
    _require_owner(actor, owner)
    return action.apply(actor=actor, owner=owner, works=selection.works, data=data)


# --- Forms --------------------------------------------------------------------------------------


class BulkForm(forms.Form):
    """The works list's bulk form: which works, and which action."""

    action = forms.ChoiceField(label="Action", choices=())
    selection = forms.ChoiceField(
        label="Which works",
        required=False,  # none: the works ticked
        choices=[("ticked", "The works ticked"), ("matching", "All the works matching")],
        initial="ticked",
        widget=forms.RadioSelect,
    )
    work = forms.MultipleChoiceField(required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Choose an action")] + [
            (a.name, a.label) for a in actions()
        ]
        self.fields["action"].error_messages["invalid_choice"] = (
            "There is no such action: choose one from the list."
        )
        self.fields["action"].error_messages["required"] = "Choose what to do with the works."
        # Ids are checked against the creator's works (``selection_resolve``), not a list here.
        self.fields["work"].valid_value = lambda value: True

    @property
    def chosen_action(self) -> BulkAction:
        return action_named(self.cleaned_data["action"])

    @property
    def matching(self) -> bool:
        return self.cleaned_data["selection"] == "matching"


def action_form(action: BulkAction, owner: User, data=None) -> forms.Form:
    """The confirmation page's fields of ``action`` (none for archive)."""
    form = forms.Form(data, auto_id="bulk_%s")
    form.fields.update(action.fields(owner))
    return form


# --- Staff: verifying many claims ------------------------------------------------------------


def claims_verify_selected(*, actor: User, ids: list[str], reason: str) -> list[Work]:
    """Verify the claims ``ids`` (public ids) from ``actor``'s queue, with one reason: only
    claims waiting in their queue — their own guild's members', never their own — else nothing
    is verified. Each creator's claims go through ``claims_verify_many`` (the one rule of who
    verifies: one audit row and one email per creator)."""
    ids = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))
    reason = (reason or "").strip()
    if not ids:
        raise ValidationError("Tick the claims to verify first.")
    if len(ids) > CLAIMS_MAX:
        raise ValidationError(f"Verify at most {CLAIMS_MAX} claims at once.")
    if not reason:
        raise ValidationError(
            {"reason": "Say how you checked these claims: it is kept with each decision."}
        )
    with transaction.atomic():
        works = list(
            selectors.claim_queue(actor)
            .filter(public_id__in=ids)
            .select_related(None)
            .only("pk", "public_id", "owner_id", "title", "claim_state", "claim_requested_at")
            .order_by("owner_id", "pk")
        )
        if len(works) != len(ids):
            missing = len(ids) - len(works)
            raise ValidationError(
                f"{missing} of the {len(ids)} claims ticked {'is' if missing == 1 else 'are'} "
                "not waiting for you: nothing was verified."
            )
        verified = []
        for _owner, theirs in groupby(works, key=lambda w: w.owner_id):
            verified += claims_verify_many(actor=actor, works=list(theirs), reason=reason)
    return verified
