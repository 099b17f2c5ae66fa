"""Every change to a removal request: one transaction each, a ``RemovalEvent`` row for their
timeline (who, when, why) and an ``AuditEvent`` for staff decisions; emails and notices leave
through ``transaction.on_commit`` (the notice engine's outbox rows are written in the same
transaction as the approval).

The state machine is in ``TRANSITIONS``: every service checks its transition on the row it has
locked (``select_for_update``), so two clicks, two tabs or two reviewers cannot apply the same
step twice — approving twice sends nothing twice.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone

from accounts.acting import Capacity, capacity
from accounts.models import Guild, Mandate, User
from accounts.services import audit_record
from consent import services as consent_services
from notices.deliveries import publishing_together
from notices.models import AIDeveloper, Notice, NoticeAnswer
from notices.services import notice_create
from works.conflicts import blocked_work_ids
from works.models import Work
from works.services import claims_verify_many

from . import letters, updates
from .access import can_moderate, creator_guild_ids, has_mandate, staff_guild_ids
from .manifest import grants_by_developer, manifest_build
from .models import Ask, RemovalEvent, RemovalEvidence, RemovalRequest

logger = logging.getLogger(__name__)

Status = RemovalRequest.Status
Action = RemovalEvent.Action

TRANSITIONS: dict[str, set[str]] = {
    "submit": {Status.DRAFT, Status.NEEDS_INFO},
    "withdraw": {Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO},
    "review": {Status.SUBMITTED},
    "ask_info": {Status.SUBMITTED, Status.IN_REVIEW},
    "approve": {Status.SUBMITTED, Status.IN_REVIEW},
    # A request sent back and never answered can be rejected too, so none stays open forever.
    "reject": {Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO},
    # A contested request (issue 20) is still approved: its notices stand.
    "retract": {Status.APPROVED, Status.CONTESTED},
    "close": {Status.APPROVED, Status.CONTESTED},
}

# What a deny override covers for each ask (credit and compensation change no AI use).
ASK_USES = {
    Ask.CEASE: ["train-genai", "train-ai", "ai-input"],
    Ask.DATASETS: ["train-genai", "train-ai"],
    Ask.MODELS: ["train-genai", "train-ai"],
    Ask.INFERENCE: ["ai-input"],
}
# Steps they may choose to be emailed at; decisions that need them (asked for more information,
# rejected) are always emailed.
NOTIFY_CHOICES = [
    (Action.APPROVED, "When it is approved and the notices go out"),
    (Action.ANSWERED, "When a developer answers"),
    (Action.OVERDUE, "When an answer is overdue"),
    (Action.CLOSED, "When the request is closed"),
]
DEFAULT_NOTIFY = [Action.APPROVED, Action.ANSWERED, Action.OVERDUE, Action.CLOSED]
EVIDENCE_MAX_FILES = 10
TEXT_MAX = 10_000


def _locked(request: RemovalRequest) -> RemovalRequest:
    return RemovalRequest.objects.select_for_update().get(pk=request.pk)


STEP_WORDS = {
    "submit": "sent for review",
    "withdraw": "withdrawn",
    "review": "taken for review",
    "ask_info": "sent back for more information",
    "approve": "approved",
    "reject": "rejected",
    "retract": "retracted",
    "close": "closed",
}


def _check_transition(request: RemovalRequest, step: str) -> None:
    if request.status not in TRANSITIONS[step]:
        raise ValidationError(
            f"A request that is {request.get_status_display().lower()} cannot be "
            f"{STEP_WORDS[step]}."
        )


def _event(request, action, *, actor=None, note="", developer=None, notice=None, at=None):
    return RemovalEvent.objects.create(
        request=request,
        action=action,
        actor=actor,
        note=note,
        developer=developer,
        notice=notice,
        at=at or timezone.now(),
    )


def _tell_creator(request: RemovalRequest, template: str, context: dict, *, step=None) -> None:
    """Email them about a step — always for ``step=None``, else only if they chose that step.
    Recorded now, in this transaction; sent with the request's other updates of the same
    minute as one email (``removals.updates``)."""
    if step is not None and step not in request.notify_steps:
        return
    updates.update_add(request=request, kind=template, context=context)


def acting_as(request: RemovalRequest, actor: User, at) -> Capacity:
    """How ``actor`` acted on their request at ``at``: as staff of one of their guilds (named), or
    as a portal administrator — what their page and their emails say (issue 19)."""
    return capacity(member_id=request.creator_id, actor_id=actor.pk, at=at) or Capacity()


def _clean_text(value: str, label: str) -> str:
    value = (value or "").strip()
    if len(value) > TEXT_MAX:
        raise ValidationError(f"Keep {label} under {TEXT_MAX:,} characters.")
    return value


# --- Who files --------------------------------------------------------------------------------


def _filing_mandate(actor: User, creator: User) -> Mandate | None:
    """None when they file themselves; the mandate when staff file for them; else refused."""
    if actor.pk == creator.pk:
        return None
    mandate = (
        Mandate.objects.active()
        .filter(creator=creator, guild_id__in=staff_guild_ids(actor))
        .order_by("granted_at")
        .first()
    )
    if mandate is None:
        raise PermissionDenied("Guild staff file for a member only under their mandate.")
    return mandate


def _require_filer(actor: User, request: RemovalRequest) -> None:
    if actor.pk == request.creator_id:
        return
    if actor.pk == request.filed_by_id and has_mandate(actor, request.creator_id):
        return
    raise PermissionDenied("Only the creator (or staff under their mandate) change this request.")


# --- Drafts -------------------------------------------------------------------------------------


@transaction.atomic
def draft_create(*, actor: User, creator: User, title: str = "") -> RemovalRequest:
    mandate = _filing_mandate(actor, creator)
    request = RemovalRequest(
        creator=creator,
        filed_by=actor,
        mandate=mandate,
        title=" ".join((title or "").split())[:200],
        notify_steps=list(DEFAULT_NOTIFY),
        answer_due_days=settings.REMOVALS_ANSWER_DUE_DAYS,
    )
    request.full_clean(exclude=["creator", "filed_by", "mandate", "works", "developers"])
    request.save(force_insert=True)
    note = f"Filed by guild staff under the mandate to {mandate.guild.name}." if mandate else ""
    _event(request, Action.CREATED, actor=actor, note=note)
    if mandate is not None:
        audit_record(
            actor=actor,
            action="removal.file_for_member",
            obj=request,
            after={"creator": creator.pk, "mandate": mandate.pk},
        )
        _tell_creator(request, "filed_for_you", {"guild": mandate.guild, "actor": actor})
    return request


@transaction.atomic
def draft_update(
    *,
    actor: User,
    request: RemovalRequest,
    title: str | None = None,
    works: Iterable[Work] | None = None,
    developers: Iterable[AIDeveloper] | None = None,
    all_developers: bool | None = None,
    asks: Iterable[str] | None = None,
    where_used: str | None = None,
    notify_steps: Iterable[str] | None = None,
) -> RemovalRequest:
    """Change a draft (or a request sent back for more information). Only what is given
    changes; works must be theirs and not archived; developers active."""
    request = _locked(request)
    _require_filer(actor, request)
    if request.status not in RemovalRequest.EDITABLE:
        raise ValidationError("Only a draft, or a request sent back to you, can be changed.")
    fields = []
    if title is not None:
        request.title = " ".join(title.split())[:200]
        fields.append("title")
    if asks is not None:
        asks = list(dict.fromkeys(asks))
        unknown = [a for a in asks if a not in Ask.values]
        if unknown:
            raise ValidationError(f"Unknown request: {', '.join(unknown)}.")
        request.asks = asks
        fields.append("asks")
    if where_used is not None:
        request.where_used = _clean_text(where_used, "where the works were used")
        fields.append("where_used")
    if all_developers is not None:
        request.all_developers = bool(all_developers)
        fields.append("all_developers")
    if notify_steps is not None:
        allowed = {value for value, _ in NOTIFY_CHOICES}
        request.notify_steps = [s for s in dict.fromkeys(notify_steps) if s in allowed]
        fields.append("notify_steps")
    if fields:
        request.save(update_fields=[*fields, "updated_at"])
    if works is not None:
        works = list(works)
        foreign = [w for w in works if w.owner_id != request.creator_id]
        if foreign:
            raise ValidationError("A request can only name the creator's own works.")
        if any(w.status == Work.Status.ARCHIVED for w in works):
            raise ValidationError("Archived works cannot be named in a request.")
        request.works.set(works)
    if developers is not None:
        developers = list(developers)
        if any(not d.is_active for d in developers):
            raise ValidationError("Inactive developers receive no notices.")
        request.developers.set(developers)
    return request


def evidence_add(
    *, actor: User, request: RemovalRequest, upload: UploadedFile, note: str = ""
) -> RemovalEvidence:
    """Attach a file showing where a work was used. Checked by content (images, PDF, text),
    size-limited, and counted in the creator's storage allowance like their works' files (the
    upload handler refuses it while it streams in; this is the check a script meets too);
    refused files leave nothing behind."""
    from works.services import quota_left
    from works.uploads import over_quota_message

    from .evidence import vet_upload

    filetype, digest, size = vet_upload(upload)
    with transaction.atomic():
        request = _locked(request)
        _require_filer(actor, request)
        if request.status not in RemovalRequest.EDITABLE:
            raise ValidationError("Evidence can be added only to a draft or a request sent back.")
        if request.evidence.count() >= EVIDENCE_MAX_FILES:
            raise ValidationError(f"A request carries at most {EVIDENCE_MAX_FILES} files.")
        left = quota_left(user=request.creator)
        if size > left:
            raise ValidationError(over_quota_message(left), code="quota")
        evidence = RemovalEvidence(
            request=request,
            filename=filetype.safe_name(upload.name),
            content_type=filetype.content_type,
            size=size,
            sha256=digest,
            note=" ".join((note or "").split())[:300],
        )
        upload.seek(0)
        evidence.file.save(evidence.filename, upload, save=False)
        try:
            evidence.save(force_insert=True)
        except Exception:
            evidence.file.delete(save=False)
            raise
    return evidence


@transaction.atomic
def evidence_remove(*, actor: User, evidence: RemovalEvidence) -> None:
    request = _locked(evidence.request)
    _require_filer(actor, request)
    if request.status not in RemovalRequest.EDITABLE:
        raise ValidationError("Evidence can be removed only from a draft or a request sent back.")
    path = evidence.file.name
    evidence.delete()
    transaction.on_commit(lambda: evidence.file.storage.delete(path), robust=True)


# --- Their steps ----------------------------------------------------------------------------------


@transaction.atomic
def request_submit(
    *, actor: User, request: RemovalRequest, good_faith: bool, accurate: bool, answer: str = ""
) -> RemovalRequest:
    """Send the request to their guild's staff (again, with their answer, after they asked for more
    information). They confirm the good-faith and accuracy statements each time."""
    request = _locked(request)
    _require_filer(actor, request)
    _check_transition(request, "submit")
    problems = []
    works = list(request.works.all())
    if not works:
        problems.append("Choose at least one of your works.")
    elif any(w.status == Work.Status.ARCHIVED for w in works):
        problems.append("Remove archived works from the request.")
    if not request.all_developers and not request.developers.filter(is_active=True).exists():
        problems.append("Choose at least one AI developer, or all of them.")
    if not request.asks:
        problems.append("Say what you ask the developers to do.")
    if not (good_faith and accurate):
        problems.append("Confirm both statements: they are part of the formal notice.")
    resubmission = request.status == Status.NEEDS_INFO
    answer = _clean_text(answer, "your answer")
    if resubmission and not answer:
        problems.append("Answer the staff's question before sending the request back.")
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    request.status = Status.SUBMITTED
    request.good_faith = request.accurate = True
    request.submitted_at = request.submitted_at or now
    request.reviewer = None
    request.save(
        update_fields=[
            "status",
            "good_faith",
            "accurate",
            "submitted_at",
            "reviewer",
            "updated_at",
        ]
    )
    if resubmission:
        _event(request, Action.INFO_GIVEN, actor=actor, note=answer, at=now)
    else:
        _event(request, Action.SUBMITTED, actor=actor, at=now)
    return request


@transaction.atomic
def request_withdraw(*, actor: User, request: RemovalRequest, reason: str = "") -> RemovalRequest:
    request = _locked(request)
    _require_filer(actor, request)
    _check_transition(request, "withdraw")
    request.status = Status.WITHDRAWN
    request.closed_at = timezone.now()
    request.save(update_fields=["status", "closed_at", "updated_at"])
    _event(request, Action.WITHDRAWN, actor=actor, note=_clean_text(reason, "the reason"))
    return request


# --- Moderation ---------------------------------------------------------------------------------


def _require_moderator(actor: User, request: RemovalRequest) -> None:
    if not can_moderate(actor, request):
        raise PermissionDenied("You do not moderate this request.")


def _staff_decision(request, actor, action, *, reason="", after=None):
    audit_record(
        actor=actor,
        action=f"removal.{action}",
        obj=request,
        before={"status": request.status},
        after={"status": action, **(after or {})},
        reason=reason,
    )


@transaction.atomic
def review_start(*, actor: User, request: RemovalRequest) -> RemovalRequest:
    """A moderator takes the request: the others see who reviews it."""
    request = _locked(request)
    _require_moderator(actor, request)
    _check_transition(request, "review")
    request.status = Status.IN_REVIEW
    request.reviewer = actor
    request.save(update_fields=["status", "reviewer", "updated_at"])
    _event(request, Action.REVIEW_STARTED, actor=actor)
    return request


@transaction.atomic
def info_request(*, actor: User, request: RemovalRequest, question: str) -> RemovalRequest:
    request = _locked(request)
    _require_moderator(actor, request)
    _check_transition(request, "ask_info")
    question = _clean_text(question, "the question")
    if not question:
        raise ValidationError({"question": "Ask your question: the creator will read it."})
    _staff_decision(request, actor, Status.NEEDS_INFO, reason=question)
    request.status = Status.NEEDS_INFO
    request.save(update_fields=["status", "updated_at"])
    event = _event(request, Action.INFO_REQUESTED, actor=actor, note=question)
    by = acting_as(request, actor, event.at)
    _tell_creator(request, "info_requested", {"question": question, "by": by})
    return request


@transaction.atomic
def request_reject(*, actor: User, request: RemovalRequest, reason: str) -> RemovalRequest:
    request = _locked(request)
    _require_moderator(actor, request)
    _check_transition(request, "reject")
    reason = _clean_text(reason, "the reason")
    if not reason:
        raise ValidationError({"reason": "Say why: the creator will read it."})
    _staff_decision(request, actor, Status.REJECTED, reason=reason)
    now = timezone.now()
    request.status = Status.REJECTED
    request.decided_at = request.closed_at = now
    request.decided_by = actor
    request.decision_reason = reason
    request.save(
        update_fields=[
            "status",
            "decided_at",
            "closed_at",
            "decided_by",
            "decision_reason",
            "updated_at",
        ]
    )
    _event(request, Action.REJECTED, actor=actor, note=reason, at=now)
    _tell_creator(request, "rejected", {"reason": reason, "by": acting_as(request, actor, now)})
    return request


def addressed_developers(request: RemovalRequest) -> list[AIDeveloper]:
    """Who the request goes to: every active developer (all), or those they chose that are
    still active."""
    developers = AIDeveloper.objects.filter(is_active=True).order_by("name", "pk")
    if not request.all_developers:
        developers = developers.filter(removal_requests=request)
    return list(developers)


def approval_problems(request: RemovalRequest) -> list[str]:
    """What stands in the way of approving (a blocking conflict, a rejected claim)."""
    works = list(request.works.all())
    problems = []
    blocked = blocked_work_ids(works)
    for work in works:
        if work.pk in blocked:
            problems.append(
                f"“{work.title}” is held by a conflict with an earlier, verified claim."
            )
        elif work.claim_state == Work.Claim.REJECTED:
            problems.append(f"The claim to “{work.title}” was rejected.")
        elif work.status == Work.Status.ARCHIVED:
            problems.append(f"“{work.title}” was archived since the request was sent.")
    return problems


def reviewing_guild(request: RemovalRequest, reviewer: User) -> Guild | None:
    """The guild whose staff reviewed their request: the reviewer's guild among theirs (None when
    a superuser reviewed it)."""
    common = creator_guild_ids(request.creator_id) & staff_guild_ids(reviewer)
    if not common:
        return None
    return Guild.objects.filter(pk__in=common).order_by("name").first()


def agent_guild(request: RemovalRequest, guild: Guild | None) -> Guild | None:
    """``guild`` when it may write as their agent — they gave it a mandate that stands — else
    None: then they ask in their own name and the letter says the guild verified their claims."""
    if guild is None:
        return None
    mandated = Mandate.objects.active().filter(creator_id=request.creator_id, guild=guild)
    return guild if mandated.exists() else None


def notice_key(request: RemovalRequest, developer: AIDeveloper) -> str:
    return f"removal:{request.pk}:developer:{developer.pk}"


def retraction_key(request: RemovalRequest, developer_id: int) -> str:
    return f"removal:{request.pk}:retraction:{developer_id}"


@transaction.atomic
def request_approve(
    *, actor: User, request: RemovalRequest, note: str = "", grants_acknowledged: bool = False
) -> list[Notice]:
    """Approve: verify their self-declared claims, then — in this same transaction — one notice
    per addressed developer (deadline ``answer_due_days``), all published together on commit.

    Refused while a work is blocked by a conflict or its claim was rejected, and, when the creator
    gave one of the developers a licence grant on these works, until the reviewer has seen
    that (``grants_acknowledged``)."""
    request = _locked(request)
    _require_moderator(actor, request)
    _check_transition(request, "approve")
    problems = approval_problems(request)
    if problems:
        raise ValidationError(problems)
    developers = addressed_developers(request)
    if not developers:
        raise ValidationError("None of the addressed developers is active any more.")
    works = list(request.works.select_related("owner"))
    grants = grants_by_developer(
        owner_id=request.creator_id,
        work_ids=[w.pk for w in works],
        developer_ids=[d.pk for d in developers],
    )
    if any(grants.values()) and not grants_acknowledged:
        raise ValidationError(
            "The creator gave a licence to one of these developers: confirm you have seen it."
        )
    verified = claims_verify_many(
        actor=actor,
        works=works,
        reason=f"Checked in the review of removal request {request.pk}.",
        access_checked=True,  # they are in ``actor``'s queue (stranded requests: superusers)
        notify=False,  # told below, in the same email as the approval
    )
    now = timezone.now()
    by = acting_as(request, actor, now)
    if verified:
        _event(
            request,
            Action.CLAIM_VERIFIED,
            actor=actor,
            note=", ".join(w.title for w in verified),
            at=now,
        )
        _tell_creator(
            request,
            "claims_verified",
            {
                "works": verified,
                "by": by,
                "works_url": f"{settings.SITE_URL}{reverse('works:list')}",
            },
        )
    manifest = manifest_build([w.pk for w in works])
    guild = reviewing_guild(request, actor)
    agent = agent_guild(request, guild)
    due = now + timedelta(days=request.answer_due_days)
    legal_basis = letters.legal_basis(guild)
    listing = letters.works_listing(manifest)  # built once, shared by every letter
    evidence = list(request.evidence.all())
    notices = []
    with publishing_together():
        for developer in developers:
            letter = letters.removal_letter(
                request=request,
                developer=developer,
                manifest=manifest,
                grants=grants[developer.pk],
                guild=guild,
                agent=agent,
                legal_basis=legal_basis,
                due=due,
                listing=listing,
                evidence=evidence,
            )
            notices.append(
                notice_create(
                    developer=developer,
                    topic=request.topic,
                    key=notice_key(request, developer),
                    subject=letter.subject,
                    text=letter.text,
                    html=letter.html,
                    attachments=[
                        ("works.csv", manifest.csv_bytes, "text/csv"),
                        ("works.json", manifest.json_bytes, "application/json"),
                        ("request.json", letter.request_json, "application/json"),
                    ],
                    reply_to=(guild.contact_email if guild and guild.contact_email else ""),
                    answer_due_at=due,
                )
            )
    request.status = Status.APPROVED
    request.decided_at = now
    request.decided_by = actor
    request.decision_reason = _clean_text(note, "the note")
    request.save(
        update_fields=["status", "decided_at", "decided_by", "decision_reason", "updated_at"]
    )
    _staff_decision(
        request,
        actor,
        Status.APPROVED,
        reason=request.decision_reason,
        after={"notices": len(notices), "claims_verified": len(verified)},
    )
    _event(request, Action.APPROVED, actor=actor, note=request.decision_reason, at=now)
    RemovalEvent.objects.bulk_create(
        RemovalEvent(request=request, action=Action.SENT, developer=d, notice=n, at=now)
        for d, n in zip(developers, notices, strict=True)
    )
    _tell_creator(
        request,
        "approved",
        {
            "developers": developers,
            "due": due,
            "offer_deny": bool(deny_uses(request)),
            "by": by,
        },
        step=Action.APPROVED,
    )
    return notices


# --- After approval -----------------------------------------------------------------------------


def notified_developer_ids(request: RemovalRequest) -> list[int]:
    """The developers that were sent this request's notice — exactly those a retraction goes
    to."""
    prefix = f"removal:{request.pk}:developer:"
    return list(
        Notice.objects.filter(topic=request.topic, kind=Notice.Kind.NOTICE, key__startswith=prefix)
        .order_by("developer_id")
        .values_list("developer_id", flat=True)
        .distinct()  # a developer asked again after a contest has two notices
    )


@transaction.atomic
def request_retract(*, actor: User, request: RemovalRequest, reason: str = "") -> list[Notice]:
    """The creator takes the request back after approval: a retraction notice on the same topic to
    every developer notified before (and only them)."""
    request = _locked(request)
    _require_filer(actor, request)
    _check_transition(request, "retract")
    reason = _clean_text(reason, "the reason")
    now = timezone.now()
    developers = AIDeveloper.objects.filter(pk__in=notified_developer_ids(request))
    notices = []
    with publishing_together():
        for developer in developers:
            letter = letters.retraction_letter(request=request, developer=developer, reason=reason)
            notices.append(
                notice_create(
                    developer=developer,
                    topic=request.topic,
                    key=retraction_key(request, developer.pk),
                    subject=letter.subject,
                    text=letter.text,
                    html=letter.html,
                    answerable=False,
                    to_inactive=True,  # it was asked, so it hears the request is withdrawn
                )
            )
    # Nothing more is asked of anyone: the open notices stop their reminders and escalation.
    Notice.objects.filter(topic=request.topic, overdue_handled_at__isnull=True).update(
        overdue_handled_at=now
    )
    request.status = Status.RETRACTED
    request.closed_at = now
    request.save(update_fields=["status", "closed_at", "updated_at"])
    _event(request, Action.RETRACTED, actor=actor, note=reason, at=now)
    return notices


@transaction.atomic
def request_close(*, actor: User | None, request: RemovalRequest, reason: str) -> RemovalRequest:
    """Staff close an approved request (with a reason), or the portal does when every
    developer has given a final answer (``actor`` None)."""
    request = _locked(request)
    if actor is not None:
        _require_moderator(actor, request)
    _check_transition(request, "close")
    reason = _clean_text(reason, "the reason")
    if actor is not None and not reason:
        raise ValidationError({"reason": "Say why the request is closed."})
    if actor is not None:
        _staff_decision(request, actor, Status.CLOSED, reason=reason)
    now = timezone.now()
    # A closed request asks nothing more: its open notices stop their reminders and escalation.
    Notice.objects.filter(topic=request.topic, overdue_handled_at__isnull=True).update(
        overdue_handled_at=now
    )
    request.status = Status.CLOSED
    request.closed_at = now
    request.save(update_fields=["status", "closed_at", "updated_at"])
    _event(request, Action.CLOSED, actor=actor, note=reason)
    _tell_creator(request, "closed", {"reason": reason}, step=Action.CLOSED)
    return request


def deny_uses(request: RemovalRequest) -> list[str]:
    uses = []
    for ask in request.asks:
        uses.extend(ASK_USES.get(ask, []))
    return list(dict.fromkeys(uses))


@transaction.atomic
def deny_overrides_record(*, actor: User, request: RemovalRequest) -> int:
    """What the approval offers them: record ``deny`` overrides matching what they asked, for
    the request's works, through the consent services (so the ledger has them). Returns the
    number of ledger entries written."""
    request = _locked(request)
    _require_filer(actor, request)
    if request.status not in (Status.APPROVED, Status.CLOSED):
        raise ValidationError("Only an approved request's works get its choices.")
    works = list(request.works.all())
    written = 0
    for use in deny_uses(request):
        entry = consent_services.bulk_apply(
            actor=actor, owner=request.creator, works=works, use=use, choice="deny"
        )
        written += entry is not None
    return written


# --- Handlers the notice engine calls (registered in apps.py) -----------------------------------


def _request_for_notice(notice: Notice) -> RemovalRequest | None:
    try:
        pk = int(notice.topic.split(":", 1)[1])
    except (IndexError, ValueError):
        return None
    return RemovalRequest.objects.select_related("creator").filter(pk=pk).first()


def notice_overdue(notice: Notice) -> None:
    """The answer is overdue: on their timeline, and in their guild's queue of overdue notices
    (``selectors.overdue_notices``), emailed to them if they chose so."""
    request = _request_for_notice(notice)
    if request is None:
        return
    _event(request, Action.OVERDUE, developer=notice.developer, notice=notice)
    _tell_creator(
        request,
        "overdue",
        {"developer": notice.developer, "acknowledged": notice.answered_at is not None},
        step=Action.OVERDUE,
    )


def acknowledged_overdue_run(now=None) -> int:
    """Beat job. The engine calls ``notice_overdue`` only for notices nobody answered; one that
    was acknowledged but never complied with nor disputed passes its deadline silently there.
    For removals that is still overdue (``stats.overdue_filter``): put it on their timeline and
    tell them, once per notice. Returns how many were found."""
    from .stats import overdue_filter

    now = now or timezone.now()
    approved = RemovalRequest.objects.filter(
        status__in=[Status.APPROVED, Status.CONTESTED]
    ).annotate(
        notice_topic=Concat(Value("removal:"), Cast("pk", CharField()), output_field=CharField())
    )
    already = RemovalEvent.objects.filter(action=Action.OVERDUE, notice_id=OuterRef("pk"))
    found = (
        Notice.objects.filter(
            kind=Notice.Kind.NOTICE,
            topic__in=approved.values("notice_topic"),
            answered_at__isnull=False,  # the unanswered ones are the engine's (notice_overdue)
        )
        .filter(overdue_filter(now))
        .exclude(Exists(already))
        .select_related("developer")
        .order_by("answer_due_at", "pk")[:500]
    )
    count = 0
    for notice in found:
        with transaction.atomic():
            notice_overdue(notice)
        count += 1
    return count


def staff_may_act_on_notice(user: User, notice: Notice) -> bool:
    """Who moderates a request may see its notices on the engine's staff page and record the
    answers that reached the guild by email or letter (the letters name the guild as contact)."""
    request = _request_for_notice(notice)
    return request is not None and can_moderate(user, request)


def staff_notice_topics(user: User):
    """The same rule for the engine's lists: the topics of the requests ``user`` moderates, as
    a subquery."""
    from .access import moderated_requests
    from .stats import request_topics

    return request_topics(moderated_requests(user))


def is_party_to_notice(user: User, notice: Notice) -> bool:
    """The notice carries their own request, or one ``user`` filed: they record no answer to it
    through a staff route, even as a registry manager or superuser."""
    request = _request_for_notice(notice)
    return request is not None and user.pk in (request.creator_id, request.filed_by_id)


def notice_answered(answer: NoticeAnswer) -> None:
    """A developer answered: on their timeline (with its statement). A "complied" opens the
    creator's window to accept or contest it (``contests``); the request closes itself once
    every notified developer's answer is settled — disputed, or complied and accepted or not
    contested in time."""
    from . import contests

    notice = answer.notice
    request = _request_for_notice(notice)
    if request is None:
        return
    _event(
        request,
        Action.ANSWERED,
        developer=notice.developer,
        notice=notice,
        note=f"{answer.get_kind_display()}: {answer.statement}".rstrip(": "),
        at=answer.created_at,
    )
    contest = contests.complied_recorded(request, answer)
    _tell_creator(
        request,
        "answered",
        {
            "answer": answer,
            "developer": notice.developer,
            "contest_by": contest.window_ends_at if contest else None,
        },
        # Asked to accept or contest: told whatever steps they chose.
        step=None if contest else Action.ANSWERED,
    )
    contests.close_if_settled(request)
