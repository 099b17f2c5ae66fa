"""Reads for the creator's side of removal requests: their list, and the timeline of one request
— one lane per developer (filed, reviewed, sent, delivered, answered, overdue) beside the
request's own events. Each is a constant number of queries, whatever the number of requests,
developers or events."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import (
    CharField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from accounts.acting import acted_for_guild, capacity
from accounts.acting import words as acting_words
from accounts.models import GuildMembership, Mandate, User
from consent.models import Preference
from notices.models import AIDeveloper, Delivery, Notice, NoticeAnswer
from notices.selectors import answers_by_topic

from .access import staff_guild_ids
from .models import ComplianceContest, RemovalEvent, RemovalRequest
from .services import deny_uses

Status = RemovalRequest.Status
Action = RemovalEvent.Action

# How each status looks (a badge class of portal.css) and reads to them, in a sentence.
STATUS_TONE = {
    Status.DRAFT: "secondary",
    Status.SUBMITTED: "warning",
    Status.IN_REVIEW: "warning",
    Status.NEEDS_INFO: "danger",
    Status.APPROVED: "primary",
    Status.REJECTED: "danger",
    Status.WITHDRAWN: "secondary",
    Status.RETRACTED: "secondary",
    Status.CLOSED: "success",
    Status.CONTESTED: "danger",
}
STATUS_WORDS = {
    Status.DRAFT: "A draft: nothing has been sent. Finish it and send it for review.",
    Status.SUBMITTED: "Waiting for your guild's staff to review it.",
    Status.IN_REVIEW: "Your guild's staff are reviewing it.",
    Status.NEEDS_INFO: "Your guild's staff asked you a question: answer it to send the "
    "request back to them.",
    Status.APPROVED: "Approved: the notices went to the developers, and each is followed "
    "to an answer.",
    Status.REJECTED: "Rejected by your guild's staff: no notice was sent.",
    Status.WITHDRAWN: "You withdrew it before a decision: no notice was sent.",
    Status.RETRACTED: "You retracted it: a retraction notice went to every developer notified.",
    Status.CLOSED: "Closed: every developer answered, or the staff closed it.",
    Status.CONTESTED: "You contested a developer's answer: your guild's staff decide whether "
    "to ask that developer again.",
}


def _reviewers(request: RemovalRequest) -> str:
    """Who reviews their request: their guild's staff, or — when none of their guilds has anyone
    who may (``access.can_moderate``) — the portal's administrators."""
    from .access import _eligible_staff, creator_guild_ids

    guilds = creator_guild_ids(request.creator_id)
    if guilds and (
        _eligible_staff(
            guilds, creator_id=request.creator_id, filed_by_id=request.filed_by_id
        ).exists()
    ):
        return "your guild's staff"
    return "the portal's administrators"


def status_words(request: RemovalRequest) -> str:
    """``STATUS_WORDS`` for their request, naming who actually reviews it and who decided it (a
    portal administrator is never called "your guild's staff")."""
    status = request.status
    if status in (Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO):
        who = _reviewers(request)
        if who != "your guild's staff":
            return (
                STATUS_WORDS[status]
                .replace("your guild's staff", who)
                .replace("Your guild's staff", who[:1].upper() + who[1:])
            )
        return STATUS_WORDS[status]
    if status in (Status.APPROVED, Status.REJECTED) and request.decided_by_id:
        by = capacity(
            member_id=request.creator_id, actor_id=request.decided_by_id, at=request.decided_at
        )
        if status == Status.REJECTED:
            return f"Rejected by {by}: no notice was sent."
        return (
            f"Approved by {by}: the notices went to the developers, and each is followed to an "
            "answer."
        )
    return STATUS_WORDS[status]


def _topic_of(outer: str = "pk"):
    return Concat(Value("removal:"), Cast(OuterRef(outer), CharField()), output_field=CharField())


def _notice_count(*, answered: bool) -> Coalesce:
    notices = Notice.objects.filter(
        topic=_topic_of(), kind=Notice.Kind.NOTICE, answerable=True
    ).order_by()
    if answered:
        notices = notices.filter(answered_at__isnull=False)
    counted = notices.values("topic").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _works_count() -> Coalesce:
    through = RemovalRequest.works.through
    counted = (
        through.objects.filter(removalrequest_id=OuterRef("pk"))
        .order_by()
        .values("removalrequest_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def requests_for_creator(user: User) -> QuerySet[RemovalRequest]:
    """Their requests, newest first, each with how many works it names and how many of its
    notices were answered. The counts are subqueries evaluated only for the rows shown, and the
    developers are prefetched: three queries a page, whatever the number of requests."""
    return (
        RemovalRequest.objects.filter(creator=user)
        .annotate(
            works_count=_works_count(),
            notices_count=_notice_count(answered=False),
            answered_count=_notice_count(answered=True),
        )
        .prefetch_related(
            Prefetch("developers", queryset=AIDeveloper.objects.only("pk", "name").order_by("name"))
        )
        .order_by("-created_at", "-pk")
    )


def filed_for_members(staff: User) -> QuerySet[RemovalRequest]:
    """The requests ``staff`` filed for members, while the member's mandate to one of their
    guilds stands (the others are no longer theirs to see)."""
    mandated = Mandate.objects.active().filter(guild_id__in=staff_guild_ids(staff))
    return (
        RemovalRequest.objects.filter(filed_by=staff)
        .exclude(creator=staff)
        .filter(creator__in=mandated.values("creator_id"))
        .select_related("creator", "creator__creator_profile")
        .annotate(works_count=_works_count())
        .order_by("-created_at", "-pk")
    )


def mandated_members(staff: User) -> QuerySet[Mandate]:
    """The members staff may file for: verified members of one of their guilds who gave that
    guild an active mandate (oldest mandate per member first)."""
    guilds = staff_guild_ids(staff)
    verified = GuildMembership.objects.filter(
        status=GuildMembership.Status.VERIFIED, guild_id=OuterRef("guild_id")
    ).filter(user_id=OuterRef("creator_id"))
    return (
        Mandate.objects.active()
        .filter(guild_id__in=guilds, creator__is_active=True)
        .exclude(creator=staff)
        .filter(Exists(verified))
        .select_related("creator", "creator__creator_profile", "guild")
        .order_by("creator__email", "guild__name", "granted_at")
    )


# --- The timeline -------------------------------------------------------------------------------


TONE_BADGES = {"good": "success", "bad": "danger", "waiting": "warning", "done": "primary"}


@dataclass
class Step:
    """One dot on a timeline. ``tone``: ``done``, ``good``, ``bad`` or ``waiting``."""

    kind: str
    label: str
    at: datetime | None
    note: str = ""
    by: str = ""
    tone: str = "done"
    note_label: str = ""


@dataclass
class Lane:
    """One developer's part of the request: its notice followed from filing to answer."""

    developer: AIDeveloper
    notice: Notice | None
    steps: list[Step] = field(default_factory=list)
    state: str = "Not sent yet"
    tone: str = "waiting"
    next_step: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    answers: list[NoticeAnswer] = field(default_factory=list)
    retraction: Notice | None = None
    # Its deadline passed without a final answer (complied or disputed), acknowledged or not.
    overdue: bool = False
    # Its latest "complied" open to the creator's contest, and the notices asking again.
    contest: ComplianceContest | None = None
    follow_ups: list[Notice] = field(default_factory=list)

    @property
    def badge(self) -> str:
        """The badge class (portal.css) of its state."""
        return TONE_BADGES.get(self.tone, "secondary")


@dataclass
class Timeline:
    request: RemovalRequest
    events: list[Step]
    lanes: list[Lane]
    notices: list[Notice]
    deliveries: list[Delivery]
    answers: list[NoticeAnswer]

    @property
    def notified_count(self) -> int:
        return sum(1 for lane in self.lanes if lane.notice is not None)


def _who(event: RemovalEvent, request: RemovalRequest) -> str:
    """Who took the step, as they read it: you, the portal, or the staff who did — named by the
    guild they then acted for, or "a portal administrator" (issue 19: never "your guild's
    staff" for a superuser who is not). Reads ``acted_for`` (``events_with_actors``)."""
    if event.actor_id is None:
        return "the portal"
    if event.actor_id == request.creator_id:
        return "you"
    if event.actor_id == request.filed_by_id:
        return "guild staff, for you"
    return acting_words(
        getattr(event, "acted_for", None) or "", administrator=event.actor.is_superuser
    )


def events_with_actors(request: RemovalRequest) -> QuerySet[RemovalEvent]:
    """Their request's events, oldest first, each with its actor and the guild the actor then
    acted for (``acted_for``): one query."""
    return (
        RemovalEvent.objects.filter(request=request)
        .select_related("developer", "actor")
        .annotate(
            acted_for=acted_for_guild(member="request__creator_id", actor="actor_id", at="at")
        )
        .order_by("at", "pk")
    )


EVENT_NOTE_LABELS = {
    Action.INFO_REQUESTED: "Their question",
    Action.INFO_GIVEN: "Your answer",
    Action.REJECTED: "Reason",
    Action.APPROVED: "Note",
    Action.WITHDRAWN: "Reason",
    Action.RETRACTED: "Reason",
    Action.CLOSED: "Reason",
    Action.CLAIM_VERIFIED: "Works",
    Action.CONTESTED: "Reason",
    Action.ASKED_AGAIN: "Staff note",
}
EVENT_TONES = {
    Action.REJECTED: "bad",
    Action.INFO_REQUESTED: "waiting",
    Action.APPROVED: "good",
    Action.CLOSED: "good",
    Action.CLAIM_VERIFIED: "good",
    Action.CONTESTED: "bad",
    Action.ACCEPTED: "good",
    Action.ASKED_AGAIN: "waiting",
    Action.CONTEST_WINDOW_PASSED: "good",
}
# A developer's "complied" and what became of it (issue 20): in that developer's lane too.
CONTEST_ACTIONS = (
    Action.CONTESTED,
    Action.ACCEPTED,
    Action.ASKED_AGAIN,
    Action.CONTEST_WINDOW_PASSED,
)
# Request events that also open every developer's lane: when it was filed and how it was
# reviewed.
LANE_ACTIONS = {
    Action.SUBMITTED: "Filed",
    Action.INFO_REQUESTED: "Reviewed: more information asked",
    Action.INFO_GIVEN: "Information given",
    Action.APPROVED: "Reviewed: approved",
    Action.REJECTED: "Reviewed: rejected",
}
ANSWER_TONES = {
    NoticeAnswer.Kind.ACKNOWLEDGED: "done",
    NoticeAnswer.Kind.COMPLIED: "good",
    NoticeAnswer.Kind.DISPUTED: "bad",
}
FINAL_ANSWERS = (NoticeAnswer.Kind.COMPLIED, NoticeAnswer.Kind.DISPUTED)


def _event_step(event: RemovalEvent, request: RemovalRequest, *, label: str = "") -> Step:
    return Step(
        kind=event.action,
        label=label or event.get_action_display(),
        at=event.at,
        note=event.note,
        note_label=EVENT_NOTE_LABELS.get(event.action, "Note"),
        by=_who(event, request),
        tone=EVENT_TONES.get(event.action, "done"),
    )


def _notice_role(notice: Notice, request: RemovalRequest) -> str:
    if notice.kind == Notice.Kind.REMINDER:
        return "reminder"
    if ":retraction:" in notice.key:
        return "retraction"
    if ":again:" in notice.key:
        return "follow_up"  # asked again after the creator contested its "complied"
    return "notice"


def _deadline_missed(
    notice: Notice, request: RemovalRequest, answers: list[NoticeAnswer], now: datetime
) -> bool:
    """The notice's deadline passed, while the request was still open, with no final answer
    (complied or disputed) by then — an acknowledgement alone does not meet it. As in
    ``stats.overdue_filter``, from the lane's own rows: no query."""
    due = notice.answer_due_at
    if due is None or due > now:
        return False
    if request.closed_at is not None and request.closed_at <= due:
        return False  # retracted or closed before the deadline: nothing was asked any more
    return not any(a.kind in FINAL_ANSWERS and a.created_at <= due for a in answers)


def _lane_for(
    developer: AIDeveloper,
    *,
    request: RemovalRequest,
    shared: list[Step],
    notice: Notice | None,
    reminders: list[Notice],
    retraction: Notice | None,
    deliveries: dict[int, list[Delivery]],
    answers: list[NoticeAnswer],
    now: datetime,
    follow_ups: list[Notice] = (),
    events: list[Step] = (),
    contest: ComplianceContest | None = None,
) -> Lane:
    lane = Lane(
        developer=developer,
        notice=notice,
        retraction=retraction,
        contest=contest,
        follow_ups=list(follow_ups),
    )
    steps = list(shared) + list(events)
    for follow_up in lane.follow_ups:
        steps.append(Step("follow_up", "Asked again: new notice sent", follow_up.created_at))
        for delivery in deliveries.get(follow_up.pk, []):
            if delivery.delivered_at is not None:
                how = delivery.get_channel_display().lower()
                steps.append(
                    Step("delivered", f"New notice delivered by {how}", delivery.delivered_at)
                )
    if notice is not None:
        lane.deliveries = deliveries.get(notice.pk, [])
        lane.answers = answers
        steps.append(Step("sent", "Notice sent", notice.created_at, tone="done"))
        for delivery in lane.deliveries:
            how = delivery.get_channel_display().lower()
            if delivery.delivered_at is not None:
                steps.append(Step("delivered", f"Delivered by {how}", delivery.delivered_at))
            elif delivery.status == Delivery.Status.FAILED:
                steps.append(
                    Step(
                        "failed",
                        f"Delivery by {how} failed",
                        delivery.created_at,
                        note="Your guild's staff see failed deliveries and send them again.",
                        note_label="What happens",
                        tone="bad",
                    )
                )
        for reminder in reminders:
            steps.append(Step("reminder", "Reminder sent", reminder.created_at))
        final = any(a.kind in FINAL_ANSWERS for a in answers)
        if notice.overdue_at is not None:  # the engine's: no answer at all by the deadline
            lane.overdue = not final
            steps.append(
                Step(
                    "overdue",
                    "Answer overdue",
                    notice.overdue_at,
                    note="The deadline passed without an answer; your guild's staff follow it up.",
                    note_label="What happens",
                    tone="bad",
                )
            )
        elif _deadline_missed(notice, request, answers, now):
            lane.overdue = not final
            steps.append(
                Step(
                    "overdue",
                    "Answer overdue",
                    notice.answer_due_at,
                    note=(
                        "The deadline passed without a final answer (complied or disputed); "
                        "your guild's staff follow it up."
                    ),
                    note_label="What happens",
                    tone="bad",
                )
            )
        for answer in answers:
            steps.append(
                Step(
                    answer.kind,
                    answer.get_kind_display(),
                    answer.created_at,
                    note=answer.statement,
                    note_label="Their statement",
                    by=(
                        "recorded by guild staff"
                        if answer.via == NoticeAnswer.Via.STAFF
                        else f"{developer.name} ({answer.get_via_display().lower()})"
                    ),
                    tone=ANSWER_TONES.get(answer.kind, "done"),
                )
            )
    if retraction is not None:
        steps.append(Step("retraction", "Retraction sent", retraction.created_at))
        for delivery in deliveries.get(retraction.pk, []):
            if delivery.delivered_at is not None:
                how = delivery.get_channel_display().lower()
                steps.append(
                    Step("delivered", f"Retraction delivered by {how}", delivery.delivered_at)
                )
    steps.sort(key=lambda s: (s.at is None, s.at))
    lane.steps = steps
    _lane_state(lane, request)
    _contest_state(lane, request, now)
    return lane


def _contest_state(lane: Lane, request: RemovalRequest, now: datetime) -> None:
    """What the creator made of the lane's latest "complied" (issue 20), over the answer's own
    state: waiting for them, contested, or asked again and waiting for the new answer."""
    contest = lane.contest
    if contest is None or lane.retraction is not None:
        return
    State = ComplianceContest.State
    live = request.status in (Status.APPROVED, Status.CONTESTED)
    if contest.state == State.OPEN and contest.window_ends_at > now and live:
        by = f"{timezone.localtime(contest.window_ends_at):%-d %B %Y}"
        lane.state, lane.tone = "Complied — waiting for you", "waiting"
        lane.next_step = f"Accept it, or contest it by {by}."
    elif contest.state == State.CONTESTED:
        lane.state, lane.tone = "Contested", "bad"
        lane.next_step = "Your guild's staff decide whether to ask them again."
    elif contest.state == State.ASKED_AGAIN and contest.follow_up is not None:
        answered = any(
            a.notice_id == contest.follow_up_id and a.kind in FINAL_ANSWERS for a in lane.answers
        )
        due = contest.follow_up.answer_due_at
        if not answered and due is not None and due <= now and live:
            lane.state, lane.tone = "Overdue — asked again, no new answer", "bad"
            lane.overdue = True
            lane.next_step = "Your guild's staff follow it up."
        elif not answered:
            lane.state, lane.tone = "Asked again", "waiting"
            lane.next_step = f"Waiting for their new answer. Due by {due:%-d %B %Y}." if due else ""


def _lane_state(lane: Lane, request: RemovalRequest) -> None:
    notice = lane.notice
    final = [a for a in lane.answers if a.kind in FINAL_ANSWERS]
    acknowledged = [a for a in lane.answers if a.kind == NoticeAnswer.Kind.ACKNOWLEDGED]
    if lane.retraction is not None:
        lane.state, lane.tone = "Retracted", "done"
    elif notice is None:
        if request.status in (Status.REJECTED, Status.WITHDRAWN):
            lane.state, lane.tone = "Not sent", "done"
        else:
            lane.state, lane.tone = "Not sent yet", "waiting"
            lane.next_step = "The notice goes out when your guild's staff approve the request."
    elif final:
        last = final[-1]
        lane.state = last.get_kind_display()
        lane.tone = ANSWER_TONES[last.kind]
    elif lane.overdue and acknowledged:
        on = f"{timezone.localtime(acknowledged[0].created_at):%-d %B %Y}"
        lane.state, lane.tone = f"Overdue — acknowledged on {on}, no final answer", "bad"
        lane.next_step = "They have neither complied nor disputed; your guild's staff follow it up."
    elif lane.overdue:
        lane.state, lane.tone = "Overdue", "bad"
    elif lane.answers:
        lane.state, lane.tone = "Acknowledged", "done"
        lane.next_step = "Waiting for them to comply or dispute."
    elif any(d.delivered_at for d in lane.deliveries):
        lane.state, lane.tone = "Delivered", "waiting"
    elif lane.deliveries and all(d.status == Delivery.Status.FAILED for d in lane.deliveries):
        lane.state, lane.tone = "Delivery failed", "bad"
    else:
        lane.state, lane.tone = "Sent", "waiting"
    if notice is not None and not final and lane.retraction is None and notice.answer_due_at:
        lane.next_step = lane.next_step or "Waiting for an answer."
        if not lane.overdue:
            lane.next_step += f" Due by {notice.answer_due_at:%-d %B %Y}."


def request_timeline(request: RemovalRequest, now: datetime | None = None) -> Timeline:
    """Their request's events and one lane per developer. Six queries, whatever the number of
    developers, notices, deliveries and answers. A lane is overdue when its deadline passed
    without a final answer (complied or disputed), even if the developer acknowledged it."""
    now = now or timezone.now()
    events = list(events_with_actors(request))
    notices = list(
        Notice.objects.filter(topic=request.topic).select_related("developer").order_by("pk")
    )
    deliveries: dict[int, list[Delivery]] = {}
    all_deliveries = list(
        Delivery.objects.filter(notice__topic=request.topic)
        .select_related("notice", "notice__developer")
        .order_by("created_at", "pk")
    )
    for delivery in all_deliveries:
        deliveries.setdefault(delivery.notice_id, []).append(delivery)
    answers = answers_by_topic([request.topic])[request.topic]
    answers_by_notice: dict[int, list[NoticeAnswer]] = {}
    for answer in answers:
        answers_by_notice.setdefault(answer.notice_id, []).append(answer)

    # The request's own events; per-developer ones (sent, answered, overdue) live in lanes.
    request_steps = [
        _event_step(e, request)
        for e in events
        if not (e.developer_id and e.action in (Action.SENT, Action.ANSWERED, Action.OVERDUE))
    ]
    shared = [
        _event_step(e, request, label=LANE_ACTIONS[e.action])
        for e in events
        if e.action in LANE_ACTIONS
    ]

    main: dict[int, Notice] = {}
    retractions: dict[int, Notice] = {}
    reminders: dict[int, list[Notice]] = {}
    follow_ups: dict[int, list[Notice]] = {}
    for notice in notices:
        role = _notice_role(notice, request)
        if role == "notice":
            main.setdefault(notice.developer_id, notice)
        elif role == "follow_up":
            follow_ups.setdefault(notice.developer_id, []).append(notice)
        elif role == "retraction":
            retractions.setdefault(notice.developer_id, notice)
        else:
            reminders.setdefault(notice.reminds_id, []).append(notice)

    if main or retractions:
        developers = {n.developer_id: n.developer for n in notices if n.kind == Notice.Kind.NOTICE}
        order = sorted(developers.values(), key=lambda d: (d.name.lower(), d.pk))
    else:
        order = _planned_developers(request)

    lane_events: dict[int, list[Step]] = {}
    for e in events:
        if e.developer_id and e.action in CONTEST_ACTIONS:
            lane_events.setdefault(e.developer_id, []).append(_event_step(e, request))
    latest_contest: dict[int, ComplianceContest] = {}
    for contest in (
        ComplianceContest.objects.filter(request=request)
        .exclude(state=ComplianceContest.State.SUPERSEDED)
        .select_related("follow_up")
        .order_by("created_at", "pk")
    ):
        latest_contest[contest.developer_id] = contest

    lanes = []
    for developer in order:
        notice = main.get(developer.pk)
        again = follow_ups.get(developer.pk, [])
        lane_answers = answers_by_notice.get(notice.pk, []) if notice else []
        for follow_up in again:
            lane_answers = lane_answers + answers_by_notice.get(follow_up.pk, [])
        lanes.append(
            _lane_for(
                developer,
                request=request,
                shared=shared,
                notice=notice,
                reminders=(
                    [r for n in [notice, *again] for r in reminders.get(n.pk, [])] if notice else []
                ),
                retraction=retractions.get(developer.pk),
                deliveries=deliveries,
                answers=sorted(lane_answers, key=lambda a: (a.created_at, a.pk)),
                now=now,
                follow_ups=again,
                events=lane_events.get(developer.pk, []),
                contest=latest_contest.get(developer.pk),
            )
        )
    return Timeline(
        request=request,
        events=request_steps,
        lanes=lanes,
        notices=notices,
        deliveries=all_deliveries,
        answers=answers,
    )


def _planned_developers(request: RemovalRequest) -> list[AIDeveloper]:
    """Before any notice: who the request is addressed to (one query)."""
    developers = AIDeveloper.objects.filter(is_active=True)
    if not request.all_developers:
        developers = developers.filter(removal_requests=request)
    return list(developers.order_by("name", "pk"))


# --- Their works, and what approving offers them ----------------------------------------------


def request_works(request: RemovalRequest):
    return request.works.select_related("file").order_by("title", "pk")


def deny_preview(request: RemovalRequest) -> tuple[list[str], int, int]:
    """``(uses, works, works_to_change)``: the AI uses the creator's asks map to, how many works the
    request names, and how many of them do not yet say ``deny`` for every one of those uses."""
    uses = deny_uses(request)
    total = request.works.count()
    if not uses or not total:
        return uses, total, 0
    settled = (
        Preference.objects.filter(work__in=request.works.values("pk"), use__in=uses, choice="deny")
        .values("work_id")
        .annotate(n=Count("use"))
        .filter(n=len(uses))
        .count()
    )
    return uses, total, total - settled


def latest_question(request: RemovalRequest) -> RemovalEvent | None:
    """The staff's latest question, while the request waits for their answer."""
    return (
        request.events.filter(action=Action.INFO_REQUESTED).order_by("-at", "-pk").first()
        if request.status == Status.NEEDS_INFO
        else None
    )


def addressed_count(request: RemovalRequest) -> int:
    if request.all_developers:
        return AIDeveloper.objects.filter(is_active=True).count()
    return request.developers.filter(is_active=True).count()


# --- Dashboards (read by portal) ---------------------------------------------------------------


def counts_for_creator(user: User) -> dict[str, int]:
    """Their requests by stage, for their dashboard: one query."""
    Status = RemovalRequest.Status
    return RemovalRequest.objects.filter(creator=user).aggregate(
        drafts=Count("pk", filter=Q(status__in=RemovalRequest.EDITABLE)),
        in_review=Count("pk", filter=Q(status__in=RemovalRequest.OPEN_FOR_REVIEW)),
        with_developers=Count("pk", filter=Q(status__in=[Status.APPROVED, Status.CONTESTED])),
        total=Count("pk"),
    )


def staff_counts(user: User) -> dict[str, int]:
    """The removal queue waiting on ``user`` and the overdue answers of the requests they
    moderate — past their deadline without a final answer, acknowledged or not, as on the
    overdue page (``stats.overdue_notices``) — for the staff and admin dashboards: two
    queries."""
    from .access import moderated_requests
    from .stats import overdue_notices

    moderated = moderated_requests(user)
    waiting = moderated.filter(
        status__in=[*RemovalRequest.OPEN_FOR_REVIEW, Status.CONTESTED]
    ).count()
    overdue = overdue_notices(moderated).count()
    return {"removals_waiting": waiting, "removals_overdue": overdue}
