"""Routing, the staff queue, decisions, the block on later actions, and the creator's view."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts import mail
from accounts.models import User
from accounts.services import audit_record

from ..access import can_handle_conflict, conflict_in_shared_guild, conflicts_handled_by
from ..identifiers import display as identifier_display
from ..listeners import works_changed
from ..models import Conflict, Work
from .detection import match_phrase, work_url

# --- Routing and the staff queue ------------------------------------------------------------


def conflict_queue(user: User, *, resolved: bool = False) -> QuerySet[Conflict]:
    """Conflicts routed to ``user``: open ones oldest first (or, with ``resolved``, the
    resolved ones, latest decision first), with both works and owners in the same query."""
    conflicts = Conflict.objects.filter(conflicts_handled_by(user)).select_related(
        "work_a__owner__creator_profile", "work_b__owner__creator_profile"
    )
    if resolved:
        return conflicts.filter(status=Conflict.Status.RESOLVED).order_by("-resolved_at", "-pk")
    return conflicts.filter(status=Conflict.Status.OPEN).order_by("created_at", "pk")


# --- Decisions ---------------------------------------------------------------------------------


def _locked(conflict: Conflict) -> Conflict:
    return (
        Conflict.objects.select_for_update(of=("self",))
        .select_related("work_a__owner", "work_b__owner")
        .get(pk=conflict.pk)
    )


def _required_reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": message})
    return reason


@transaction.atomic
def conflict_resolve(*, actor: User, conflict: Conflict, resolution: str, reason: str) -> Conflict:
    """Staff the conflict is routed to decide it, with a reason both creators read:
    ``a_stands`` / ``b_stands`` rejects the other claim; ``both_stand`` (co-authors, or rights
    in a composition and in a recording) and ``not_a_conflict`` change no claim."""
    conflict = _locked(conflict)
    if not can_handle_conflict(actor, conflict):
        raise PermissionDenied("You cannot decide this conflict.")
    if conflict.status != Conflict.Status.OPEN:
        raise ValidationError("This conflict has already been resolved.")
    if resolution not in Conflict.Resolution.values:
        raise ValidationError({"resolution": "Choose how the conflict is resolved."})
    reason = _required_reason(reason, "Say why: both creators will read it.")
    now = timezone.now()
    loser = {
        Conflict.Resolution.A_STANDS: conflict.work_b,
        Conflict.Resolution.B_STANDS: conflict.work_a,
    }.get(resolution)
    if loser is not None:
        work = Work.objects.select_for_update().get(pk=loser.pk)
        before = work.claim_state
        work.claim_state = Work.Claim.REJECTED
        work.claim_reason = reason
        work.claim_decided_by = actor
        work.claim_decided_at = now
        work.save()
        audit_record(
            actor=actor,
            action="claim.reject",
            obj=work,
            before={"claim_state": before},
            after={"claim_state": work.claim_state, "conflict": conflict.pk},
            reason=reason,
        )
        works_changed([work])
    conflict.status = Conflict.Status.RESOLVED
    conflict.resolution = resolution
    conflict.reason = reason
    conflict.resolved_by = actor
    conflict.resolved_at = now
    conflict.save()
    audit_record(
        actor=actor,
        action="conflict.resolve",
        obj=conflict,
        before={"status": Conflict.Status.OPEN},
        after={"status": conflict.status, "resolution": resolution},
        reason=reason,
    )
    for work in (conflict.work_a, conflict.work_b):
        mail.queue_templated(
            "works/email/conflict_resolved",
            [work.owner.email],
            {
                "title": work.title,
                "outcome": _outcome(conflict, work.pk),
                "reason": reason,
                "work_url": work_url(work.public_id),
            },
        )
    return conflict


@transaction.atomic
def conflict_lift_block(*, actor: User, conflict: Conflict, reason: str) -> Conflict:
    """Let the later work's creator act on it (e.g. ask for removal) while the conflict is
    still open."""
    conflict = _locked(conflict)
    if not can_handle_conflict(actor, conflict):
        raise PermissionDenied("You cannot lift the block of this conflict.")
    if conflict.status != Conflict.Status.OPEN:
        raise ValidationError("This conflict is resolved: it blocks nothing.")
    if conflict.block_lifted_at is not None:
        raise ValidationError("The block of this conflict is already lifted.")
    reason = _required_reason(reason, "Say why the block is lifted.")
    conflict.block_lifted_by = actor
    conflict.block_lifted_at = timezone.now()
    conflict.block_lift_reason = reason
    conflict.save()
    audit_record(
        actor=actor,
        action="conflict.lift_block",
        obj=conflict,
        after={"block_lifted": True},
        reason=reason,
    )
    return conflict


# --- Blocking ----------------------------------------------------------------------------------


def _blocking_condition(work: Work) -> Q:
    verified = Work.Claim.VERIFIED
    return Q(
        status=Conflict.Status.OPEN,
        block_lifted_at__isnull=True,
    ) & (
        Q(work_b=work, work_a__claim_state=verified, work_a__created_at__lt=work.created_at)
        | Q(work_a=work, work_b__claim_state=verified, work_b__created_at__lt=work.created_at)
    )


def work_blocking_conflicts(work: Work) -> QuerySet[Conflict]:
    """Open conflicts holding up actions on ``work`` (removal requests): the other claim is
    verified and was registered earlier, and staff have not lifted the block."""
    return Conflict.objects.filter(_blocking_condition(work))


def work_is_blocked(work: Work) -> bool:
    return work_blocking_conflicts(work).exists()


def blocked_work_ids(works) -> set[int]:
    """The ids among ``works`` that ``work_is_blocked`` — for many works in one query."""
    works = {w.pk: w for w in works}
    if not works:
        return set()
    verified = Work.Claim.VERIFIED
    rows = Conflict.objects.filter(
        Q(work_a_id__in=list(works)) | Q(work_b_id__in=list(works)),
        status=Conflict.Status.OPEN,
        block_lifted_at__isnull=True,
    ).values_list(
        "work_a_id",
        "work_b_id",
        "work_a__claim_state",
        "work_b__claim_state",
        "work_a__created_at",
        "work_b__created_at",
    )
    blocked = set()
    for a_id, b_id, a_claim, b_claim, a_created, b_created in rows:
        if b_id in works and a_claim == verified and a_created < b_created:
            blocked.add(b_id)
        if a_id in works and b_claim == verified and b_created < a_created:
            blocked.add(a_id)
    return blocked


# --- What the creator sees -------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictNote:
    """A conflict as one of its creators sees it: only what matched (values they registered
    themselves), the state and the outcome for them — nothing of the other work or creator."""

    pk: int
    status: str
    matched: str
    values: list[tuple[str, str]] = field(default_factory=list)  # (label, their own value)
    found_at: object = None
    outcome: str = ""
    reason: str = ""
    blocked: bool = False
    by_guild: bool = False  # routed to their guild's staff (else to the portal's administrators)

    @property
    def is_open(self) -> bool:
        return self.status == Conflict.Status.OPEN


def _outcome(conflict: Conflict, work_id: int) -> str:
    """``stands``, ``rejected``, ``both_stand`` or ``not_a_conflict``, seen from ``work_id``."""
    mine_is_a = work_id == conflict.work_a_id
    if conflict.resolution == Conflict.Resolution.A_STANDS:
        return "stands" if mine_is_a else "rejected"
    if conflict.resolution == Conflict.Resolution.B_STANDS:
        return "rejected" if mine_is_a else "stands"
    return conflict.resolution


_VALUE_LABELS = {"isbn": "ISBN", "isrc": "ISRC", "iswc": "ISWC", "doi": "DOI", "url": "Web address"}


def conflict_notes(work: Work) -> list[ConflictNote]:
    """The conflicts of the owner's ``work``, newest first, in one query."""
    conflicts = (
        Conflict.objects.filter(Q(work_a=work) | Q(work_b=work))
        .select_related("work_a", "work_b")
        .annotate(by_guild=conflict_in_shared_guild())
        .order_by("-created_at", "-pk")
    )
    notes = []
    for conflict in conflicts:
        other = conflict.work_b if conflict.work_a_id == work.pk else conflict.work_a
        values = [
            (_VALUE_LABELS[m["kind"]], identifier_display(m["kind"], m["value"]))
            for m in conflict.matches
            if m.get("kind") in _VALUE_LABELS
        ]
        blocked = (
            conflict.status == Conflict.Status.OPEN
            and conflict.block_lifted_at is None
            and other.claim_state == Work.Claim.VERIFIED
            and other.created_at < work.created_at
        )
        resolved = conflict.status == Conflict.Status.RESOLVED
        notes.append(
            ConflictNote(
                pk=conflict.pk,
                status=conflict.status,
                matched=match_phrase(conflict.matches),
                values=values,
                found_at=conflict.created_at,
                outcome=_outcome(conflict, work.pk) if resolved else "",
                reason=conflict.reason if resolved else "",
                blocked=blocked,
                by_guild=conflict.by_guild,
            )
        )
    return notes


def conflict_blocked_work(conflict: Conflict, *, ignore_lift: bool = False) -> Work | None:
    """The work ``conflict`` holds up — the later one, while the conflict is open and the
    earlier claim is verified — or ``None``. With ``ignore_lift``, even if staff lifted it."""
    if conflict.status != Conflict.Status.OPEN:
        return None
    if conflict.block_lifted_at is not None and not ignore_lift:
        return None
    for mine, other in ((conflict.work_b, conflict.work_a), (conflict.work_a, conflict.work_b)):
        if other.claim_state == Work.Claim.VERIFIED and other.created_at < mine.created_at:
            return mine
    return None
