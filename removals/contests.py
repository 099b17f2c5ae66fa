"""A developer's "complied" is not the last word (issue 20).

When a developer answers a removal notice with "complied", the creator is told and has
``REMOVALS_CONTEST_DAYS`` days to **accept** it (it stands; the request closes once every
developer's answer is settled) or **contest** it with a reason: the request goes back to their
guild's staff (status ``contested``, in their queue), who may **ask the developer again** — a
follow-up notice on the same topic, delivered, reminded and tracked like the first. When the
window passes with neither, the sweep settles it (``contest_windows_sweep``, beat, idempotent).

Each step is one transaction on the locked request, with a ``RemovalEvent`` (the timeline) and,
for staff, an ``AuditEvent``; the follow-up notice is written in that same transaction (the
engine's outbox) and the creator's email leaves through ``removals.updates``.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from notices.deliveries import publishing_together
from notices.models import Notice, NoticeAnswer
from notices.services import notice_create

from . import letters
from .models import ComplianceContest, RemovalEvent, RemovalRequest

Status = RemovalRequest.Status
Action = RemovalEvent.Action
State = ComplianceContest.State

REASON_MAX = 2_000
# A request whose developers' answers may still be accepted, contested or asked again.
LIVE = (Status.APPROVED, Status.CONTESTED)


def contest_days() -> int:
    return settings.REMOVALS_CONTEST_DAYS


def follow_up_key(request: RemovalRequest, developer_id: int, contest_id: int) -> str:
    return f"removal:{request.pk}:developer:{developer_id}:again:{contest_id}"


def _day(value) -> str:
    return f"{timezone.localtime(value):%-d %B %Y}"


def clean_reason(reason: str) -> str:
    """Plain text: lines kept, spaces within a line collapsed, control characters refused."""
    lines = [" ".join(line.split()) for line in (reason or "").strip().splitlines()]
    reason = "\n".join(lines).strip()
    if not reason:
        raise ValidationError({"reason": "Say why you contest it: your guild's staff read it."})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason under {REASON_MAX:,} characters."})
    if any(ord(c) < 32 and c not in "\n\t" for c in reason):
        raise ValidationError({"reason": "The reason must be plain text."})
    return reason


# --- Called by services.notice_answered ---------------------------------------------------------


def complied_recorded(request: RemovalRequest, answer: NoticeAnswer) -> ComplianceContest | None:
    """A developer answered "complied" on one of the request's notices (its first one or a
    follow-up): open the creator's window. An earlier window of the same developer still open
    or contested is replaced by this one. Inside the answer's transaction."""
    if answer.kind != NoticeAnswer.Kind.COMPLIED or request.status not in LIVE:
        return None
    notice = answer.notice
    now = timezone.now()
    ComplianceContest.objects.filter(
        request=request,
        developer_id=notice.developer_id,
        state__in=[State.OPEN, State.CONTESTED],
    ).update(state=State.SUPERSEDED, decided_at=now)
    contest, _ = ComplianceContest.objects.get_or_create(
        answer=answer,
        defaults={
            "request": request,
            "developer_id": notice.developer_id,
            "notice": notice,
            "window_ends_at": answer.created_at + timedelta(days=contest_days()),
        },
    )
    _refresh_status(request)
    return contest


# --- Settling and closing -----------------------------------------------------------------------


def _refresh_status(request: RemovalRequest) -> None:
    """``contested`` while one of its developers' "complied" is contested and not yet asked
    again; ``approved`` otherwise (for a request still live)."""
    if request.status not in LIVE:
        return
    contested = request.compliance_contests.filter(state=State.CONTESTED).exists()
    status = Status.CONTESTED if contested else Status.APPROVED
    if status != request.status:
        request.status = status
        request.save(update_fields=["status", "updated_at"])


def settled_developer_ids(request: RemovalRequest) -> set[int]:
    """The developers whose answer is settled: on the latest notice asking them (the first, or
    the follow-up after a contest), the latest final answer is "disputed", or "complied" that
    the creator accepted or let pass (an answer from before contests existed has no window and
    stands). Three queries."""
    prefix = f"removal:{request.pk}:developer:"
    current: dict[int, int] = {}
    for notice_id, developer_id in (
        Notice.objects.filter(topic=request.topic, kind=Notice.Kind.NOTICE, key__startswith=prefix)
        .order_by("created_at", "pk")
        .values_list("pk", "developer_id")
    ):
        current[developer_id] = notice_id  # the latest wins
    last: dict[int, NoticeAnswer] = {}
    for answer in NoticeAnswer.objects.filter(
        notice_id__in=current.values(),
        kind__in=[NoticeAnswer.Kind.COMPLIED, NoticeAnswer.Kind.DISPUTED],
    ).order_by("created_at", "pk"):
        last[answer.notice_id] = answer
    states = dict(
        ComplianceContest.objects.filter(answer_id__in=[a.pk for a in last.values()]).values_list(
            "answer_id", "state"
        )
    )
    settled = set()
    for developer_id, notice_id in current.items():
        answer = last.get(notice_id)
        if answer is None:
            continue
        if (
            answer.kind == NoticeAnswer.Kind.DISPUTED
            or states.get(answer.pk, State.ACCEPTED) in ComplianceContest.SETTLED
        ):
            settled.add(developer_id)
    return settled


def close_if_settled(request: RemovalRequest) -> bool:
    """Close an approved request once every notified developer's answer is settled."""
    from .services import notified_developer_ids, request_close

    if request.status != Status.APPROVED:
        return False
    notified = set(notified_developer_ids(request))
    if notified and notified <= settled_developer_ids(request):
        request_close(actor=None, request=request, reason="Every developer has answered.")
        return True
    return False


# --- The creator's steps ------------------------------------------------------------------------


def _locked_pair(contest: ComplianceContest) -> tuple[RemovalRequest, ComplianceContest]:
    request = RemovalRequest.objects.select_for_update().get(pk=contest.request_id)
    contest = (
        ComplianceContest.objects.select_for_update()
        .select_related("developer", "answer")
        .get(pk=contest.pk)
    )
    return request, contest


def _check_open(request: RemovalRequest, contest: ComplianceContest, now) -> None:
    if contest.state == State.ACCEPTED:
        raise ValidationError("You already accepted this answer.")
    if contest.state in (State.CONTESTED, State.ASKED_AGAIN):
        raise ValidationError("You already contested this answer.")
    if contest.state == State.SUPERSEDED:
        raise ValidationError(f"{contest.developer.name} has answered again since: see below.")
    if contest.state == State.LAPSED or contest.window_ends_at <= now:
        raise ValidationError(
            f"The time to contest {contest.developer.name}'s answer ended on "
            f"{_day(contest.window_ends_at)}: it stands."
        )
    if request.status not in LIVE:
        raise ValidationError(
            f"A request that is {request.get_status_display().lower()} asks nothing more of "
            "the developers."
        )


@transaction.atomic
def compliance_accept(*, actor: User, contest: ComplianceContest) -> ComplianceContest:
    """The creator accepts a developer's "complied": it stands; the request closes if every
    developer's answer is now settled."""
    from .services import _event, _require_filer

    request, contest = _locked_pair(contest)
    _require_filer(actor, request)
    now = timezone.now()
    _check_open(request, contest, now)
    contest.state = State.ACCEPTED
    contest.decided_at = now
    contest.decided_by = actor
    contest.save(update_fields=["state", "decided_at", "decided_by"])
    _event(
        request,
        Action.ACCEPTED,
        actor=actor,
        developer=contest.developer,
        notice=contest.notice,
        at=now,
    )
    close_if_settled(request)
    return contest


@transaction.atomic
def compliance_contest(
    *, actor: User, contest: ComplianceContest, reason: str
) -> ComplianceContest:
    """The creator contests a developer's "complied", with a reason, within the window: the
    request goes back to their guild's staff (status ``contested``)."""
    from .services import _event, _require_filer

    request, contest = _locked_pair(contest)
    _require_filer(actor, request)
    now = timezone.now()
    _check_open(request, contest, now)
    reason = clean_reason(reason)
    contest.state = State.CONTESTED
    contest.reason = reason
    contest.decided_at = now
    contest.decided_by = actor
    contest.save(update_fields=["state", "reason", "decided_at", "decided_by"])
    _refresh_status(request)
    _event(
        request,
        Action.CONTESTED,
        actor=actor,
        developer=contest.developer,
        notice=contest.notice,
        note=reason,
        at=now,
    )
    return contest


# --- The staff's step ---------------------------------------------------------------------------


@transaction.atomic
def compliance_ask_again(*, actor: User, contest: ComplianceContest, note: str = "") -> Notice:
    """Staff of the creator's guild (or a superuser, for a stranded request) ask the developer
    again: a follow-up notice quoting the creator's reason, due in the request's
    ``answer_due_days``, written in this transaction and delivered like the first."""
    from .services import (
        _clean_text,
        _event,
        _require_moderator,
        _tell_creator,
        acting_as,
        reviewing_guild,
    )

    request, contest = _locked_pair(contest)
    _require_moderator(actor, request)
    if contest.state == State.ASKED_AGAIN:
        raise ValidationError(f"{contest.developer.name} was already asked again.")
    if contest.state != State.CONTESTED:
        raise ValidationError("Only an answer the creator contested can be asked again.")
    if request.status not in LIVE:
        raise ValidationError(
            f"A request that is {request.get_status_display().lower()} asks nothing more."
        )
    note = _clean_text(note, "the note")
    now = timezone.now()
    due = now + timedelta(days=request.answer_due_days)
    guild = reviewing_guild(request, actor)
    letter = letters.follow_up_letter(
        request=request,
        developer=contest.developer,
        answer=contest.answer,
        reason=contest.reason,
        note=note,
        guild=guild,
        due=due,
    )
    with publishing_together():
        notice = notice_create(
            developer=contest.developer,
            topic=request.topic,
            key=follow_up_key(request, contest.developer_id, contest.pk),
            subject=letter.subject,
            text=letter.text,
            html=letter.html,
            reply_to=(guild.contact_email if guild and guild.contact_email else ""),
            answer_due_at=due,
            to_inactive=True,  # it was asked and answered: it hears the answer is contested
        )
    contest.state = State.ASKED_AGAIN
    contest.follow_up = notice
    contest.asked_again_at = now
    contest.asked_again_by = actor
    contest.save(update_fields=["state", "follow_up", "asked_again_at", "asked_again_by"])
    _refresh_status(request)
    audit_record(
        actor=actor,
        action="removal.asked_again",
        obj=request,
        before={"status": Status.CONTESTED},
        after={"status": request.status, "developer": contest.developer_id, "notice": notice.pk},
        reason=note,
    )
    _event(
        request,
        Action.ASKED_AGAIN,
        actor=actor,
        developer=contest.developer,
        notice=notice,
        note=note,
        at=now,
    )
    _tell_creator(
        request,
        "asked_again",
        {"developer": contest.developer, "due": due, "by": acting_as(request, actor, now)},
    )
    return notice


# --- The sweep ----------------------------------------------------------------------------------


def contest_windows_sweep(now=None, *, limit: int = 500) -> int:
    """Beat: every "complied" whose window passed with neither acceptance nor contest is
    settled (a timeline event), and its request closes if nothing else is waiting. Each in its
    own transaction, re-checked on the locked row: running it twice, or twice at once, changes
    nothing more. Returns how many lapsed."""
    from .services import _event

    now = now or timezone.now()
    due = list(
        ComplianceContest.objects.filter(state=State.OPEN, window_ends_at__lte=now)
        .order_by("window_ends_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    count = 0
    for pk in due:
        with transaction.atomic():
            # The request first, then the window: the order the creator's steps lock them in.
            request_id = (
                ComplianceContest.objects.filter(pk=pk).values_list("request_id", flat=True).first()
            )
            if request_id is None:
                continue
            request = RemovalRequest.objects.select_for_update().get(pk=request_id)
            contest = (
                ComplianceContest.objects.select_for_update().select_related("developer").get(pk=pk)
            )
            if contest.state != State.OPEN or contest.window_ends_at > now:
                continue
            contest.state = State.LAPSED
            contest.decided_at = now
            contest.save(update_fields=["state", "decided_at"])
            if request.status in LIVE:
                _event(
                    request,
                    Action.CONTEST_WINDOW_PASSED,
                    developer=contest.developer,
                    notice=contest.notice,
                    at=now,
                )
                close_if_settled(request)
            count += 1
    return count


def contests_for_request(request: RemovalRequest) -> list[ComplianceContest]:
    """The request's latest window per developer (older, replaced ones left out), by developer
    name: one query."""
    latest: dict[int, ComplianceContest] = {}
    for contest in (
        request.compliance_contests.select_related("developer", "answer", "follow_up")
        .exclude(state=State.SUPERSEDED)
        .order_by("created_at", "pk")
    ):
        latest[contest.developer_id] = contest
    return sorted(latest.values(), key=lambda c: (c.developer.name.lower(), c.developer_id))
