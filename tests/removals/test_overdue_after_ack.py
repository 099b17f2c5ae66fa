"""An acknowledgement stops the engine's reminders and overdue handler, but it does not answer
what was asked: a removal notice whose deadline passes with only an acknowledgement is overdue
for their guild's staff (list, dashboard, counts) and on their timeline. A final answer —
complied or disputed — settles it, even when it came after the deadline."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from notices.deadlines import deadlines_run
from notices.models import Notice, NoticeAnswer
from notices.services import answer_record
from removals import selectors, services, stats
from removals.models import RemovalRequest
from tests import factories

OVERDUE = reverse("removals-staff:overdue")
STAFF_DASHBOARD = reverse("portal:staff-dashboard")


def _notice(request, developer):
    return Notice.objects.get(topic=request.topic, developer=developer, kind=Notice.Kind.NOTICE)


def _lane(timeline, developer):
    return next(lane for lane in timeline.lanes if lane.developer == developer)


def _deadline_passes(request, *, days_ago=3):
    """Move the notices' deadline into the past and let the engine run, as beat would."""
    Notice.objects.filter(topic=request.topic, kind=Notice.Kind.NOTICE).update(
        answer_due_at=timezone.now() - timedelta(days=days_ago, hours=1)
    )
    deadlines_run(now=timezone.now())


@pytest.fixture
def approved(make_request, guild_staff):
    removal = make_request()
    services.request_approve(actor=guild_staff, request=removal)
    return removal


def test_acknowledged_then_the_deadline_passes_is_overdue_everywhere(
    client, approved, creator, guild_staff, developer, other_developer, settings
):
    settings.NOTICES_REMINDER_OFFSETS = []
    theirs = _notice(approved, developer)
    answer_record(notice=theirs, kind=NoticeAnswer.Kind.ACKNOWLEDGED, via=NoticeAnswer.Via.LINK)
    answer_record(
        notice=_notice(approved, other_developer),
        kind=NoticeAnswer.Kind.COMPLIED,
        statement="Removed from our 2026 corpus.",
        via=NoticeAnswer.Via.LINK,
    )
    _deadline_passes(approved)
    theirs.refresh_from_db()
    # The engine's view: answered, never marked overdue.
    assert theirs.answered_at is not None and theirs.overdue_at is None

    # The staff's list and counts.
    scope = stats.requests_in_scope(guild_staff)
    assert list(stats.overdue_notices(scope)) == [theirs]
    assert [(o.name, o.count) for o in stats.overdue_by_developer(scope)] == [("Example AI Ltd", 1)]
    dashboard = stats.developer_figures(scope)
    assert dashboard.overdue_total == 1
    assert {d.name: d.overdue for d in dashboard.developers}["Example AI Ltd"] == 1
    assert selectors.staff_counts(guild_staff)["removals_overdue"] == 1

    client.force_login(guild_staff)
    page = client.get(OVERDUE).content.decode()
    assert "1 notice overdue" in page
    assert "Example AI Ltd" in page and "Other Models Inc" not in page
    assert "Acknowledged on" in page and "no final answer" in page
    assert "3 days" in page
    assert f'{OVERDUE}">1</a>' in client.get(STAFF_DASHBOARD).content.decode()

    # Their lane.
    lane = _lane(selectors.request_timeline(approved), developer)
    acknowledged = timezone.localtime(theirs.answers.get().created_at)
    assert lane.state == (f"Overdue — acknowledged on {acknowledged:%-d %B %Y}, no final answer")
    assert lane.tone == "bad" and lane.badge == "danger"
    assert "Due by" not in lane.next_step
    overdue_step = next(s for s in lane.steps if s.kind == "overdue")
    assert overdue_step.at == theirs.answer_due_at
    assert "without a final answer" in overdue_step.note
    client.force_login(creator)
    creator_page = client.get(approved.get_absolute_url()).content.decode()
    assert "Overdue — acknowledged on" in creator_page


def test_complied_after_the_deadline_is_not_overdue(
    client, approved, creator, guild_staff, developer, other_developer, settings
):
    settings.NOTICES_REMINDER_OFFSETS = []
    theirs = _notice(approved, developer)
    answer_record(notice=theirs, kind=NoticeAnswer.Kind.ACKNOWLEDGED, via=NoticeAnswer.Via.LINK)
    _deadline_passes(approved)  # Other Models never answered: the engine marks it overdue
    assert list(stats.overdue_notices(stats.requests_in_scope(guild_staff))) == [
        theirs,
        _notice(approved, other_developer),
    ]

    # Both answer late, finally.
    answer_record(
        notice=theirs,
        kind=NoticeAnswer.Kind.COMPLIED,
        statement="Removed, late.",
        via=NoticeAnswer.Via.LINK,
    )
    answer_record(
        notice=_notice(approved, other_developer),
        kind=NoticeAnswer.Kind.DISPUTED,
        statement="We never had them.",
        via=NoticeAnswer.Via.LINK,
    )

    scope = stats.requests_in_scope(guild_staff, everything_for_superusers=True)
    assert list(stats.overdue_notices(scope)) == []
    assert stats.developer_figures(scope).overdue_total == 0
    assert selectors.staff_counts(guild_staff)["removals_overdue"] == 0
    client.force_login(guild_staff)
    assert "No answer is overdue" in client.get(OVERDUE).content.decode()

    timeline = selectors.request_timeline(approved)
    assert _lane(timeline, developer).state == "Complied"
    assert _lane(timeline, other_developer).state == "Disputed"
    assert not any(lane.overdue for lane in timeline.lanes)
    client.force_login(creator)
    assert "Overdue —" not in client.get(approved.get_absolute_url()).content.decode()


def test_acknowledged_before_an_unpassed_deadline_is_not_overdue(
    client, approved, guild_staff, developer
):
    answer_record(
        notice=_notice(approved, developer),
        kind=NoticeAnswer.Kind.ACKNOWLEDGED,
        via=NoticeAnswer.Via.LINK,
    )

    assert selectors.staff_counts(guild_staff)["removals_overdue"] == 0
    lane = _lane(selectors.request_timeline(approved), developer)
    assert lane.state == "Acknowledged" and "Due by" in lane.next_step


def test_a_request_closed_before_the_deadline_is_overdue_nowhere(approved, guild_staff, developer):
    answer_record(
        notice=_notice(approved, developer),
        kind=NoticeAnswer.Kind.ACKNOWLEDGED,
        via=NoticeAnswer.Via.LINK,
    )
    services.request_close(actor=guild_staff, request=approved, reason="Settled by phone.")
    _deadline_passes(approved, days_ago=3)
    RemovalRequest.objects.filter(pk=approved.pk).update(
        closed_at=timezone.now() - timedelta(days=5)
    )
    approved.refresh_from_db()

    assert selectors.staff_counts(guild_staff)["removals_overdue"] == 0
    lane = _lane(selectors.request_timeline(approved), developer)
    assert lane.state == "Acknowledged" and not lane.overdue


def test_other_guilds_staff_do_not_count_it(approved, other_guild_staff, developer):
    answer_record(
        notice=_notice(approved, developer),
        kind=NoticeAnswer.Kind.ACKNOWLEDGED,
        via=NoticeAnswer.Via.LINK,
    )
    _deadline_passes(approved)

    assert selectors.staff_counts(other_guild_staff)["removals_overdue"] == 0


@pytest.mark.parametrize("count", [4, 80])
def test_overdue_page_and_counts_keep_constant_queries_with_acknowledgements(
    client, guild_staff, creator, developer, other_developer, count, django_assert_max_num_queries
):
    now = timezone.now()
    requests = RemovalRequest.objects.bulk_create(
        RemovalRequest(
            creator=creator,
            filed_by=creator,
            status=RemovalRequest.Status.APPROVED,
            submitted_at=now - timedelta(days=40),
            decided_at=now - timedelta(days=40),
        )
        for _ in range(count)
    )
    notices = Notice.objects.bulk_create(
        Notice(
            developer=d,
            topic=r.topic,
            key=f"bulk:{r.pk}:{d.pk}",
            subject="Removal",
            text="…",
            answer_due_at=now - timedelta(days=3),
            answered_at=now - timedelta(days=20),
            created_at=now - timedelta(days=40),
        )
        for r in requests
        for d in (developer, other_developer)
    )
    NoticeAnswer.objects.bulk_create(
        NoticeAnswer(
            notice=n,
            kind=NoticeAnswer.Kind.ACKNOWLEDGED,
            via=NoticeAnswer.Via.LINK,
            fingerprint=f"ack-{n.pk}",
            created_at=now - timedelta(days=20),
        )
        for n in notices
    )
    client.force_login(guild_staff)

    with django_assert_max_num_queries(16):
        page = client.get(OVERDUE).content.decode()
    assert f"{2 * count} notices overdue" in page
    with django_assert_max_num_queries(3):  # their guilds, then the two counts
        assert selectors.staff_counts(guild_staff)["removals_overdue"] == 2 * count
    with django_assert_max_num_queries(16):
        assert client.get(reverse("removals-staff:stats")).status_code == HTTPStatus.OK


def test_the_timeline_of_an_acknowledged_overdue_request_takes_constant_queries(
    approved, developer, other_developer, django_assert_max_num_queries
):
    for notice in (_notice(approved, developer), _notice(approved, other_developer)):
        answer_record(notice=notice, kind=NoticeAnswer.Kind.ACKNOWLEDGED, via="link")
    _deadline_passes(approved)
    for _ in range(3):
        extra = factories.AIDeveloperFactory()
        Notice.objects.create(
            developer=extra,
            topic=approved.topic,
            key=f"extra:{extra.pk}",
            subject="Removal",
            text="…",
            answer_due_at=timezone.now() - timedelta(days=1),
        )

    with django_assert_max_num_queries(5):
        timeline = selectors.request_timeline(approved)
    states = [lane.state for lane in timeline.lanes]
    assert sum(state.startswith("Overdue — acknowledged on") for state in states) == 2
    assert states.count("Overdue") == 3


def test_the_review_page_marks_an_acknowledged_notice_past_its_deadline_overdue(
    client, approved, guild_staff, developer, other_developer, settings
):
    settings.NOTICES_REMINDER_OFFSETS = []
    answer_record(
        notice=_notice(approved, developer),
        kind=NoticeAnswer.Kind.ACKNOWLEDGED,
        via=NoticeAnswer.Via.LINK,
    )
    answer_record(
        notice=_notice(approved, other_developer),
        kind=NoticeAnswer.Kind.DISPUTED,
        statement="Not the same book.",
        via=NoticeAnswer.Via.LINK,
    )
    client.force_login(guild_staff)
    url = reverse("removals-staff:review", args=[approved.pk])
    assert 'badge-danger">Overdue' not in client.get(url).content.decode()

    _deadline_passes(approved)

    page = client.get(url).content.decode()
    assert page.count('<span class="badge badge-danger">Overdue</span>') == 1  # not the disputed


def test_an_acknowledged_notice_past_its_deadline_reaches_their_timeline_once(
    approved, developer, settings, django_capture_on_commit_callbacks, mailoutbox
):
    settings.NOTICES_REMINDER_OFFSETS = []
    answer_record(
        notice=_notice(approved, developer),
        kind=NoticeAnswer.Kind.ACKNOWLEDGED,
        via=NoticeAnswer.Via.LINK,
    )
    assert services.acknowledged_overdue_run() == 0  # not yet due

    _deadline_passes(approved)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.acknowledged_overdue_run()
    second = services.acknowledged_overdue_run()

    assert (first, second) == (1, 0)
    events = approved.events.filter(action="overdue", developer=developer)
    assert events.count() == 1
    assert any("has not answered in time" in m.subject for m in mailoutbox)
