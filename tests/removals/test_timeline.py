"""Their request as a timeline per developer — filed, reviewed, sent, delivered, acknowledged,
complied or disputed (with the developer's statement), overdue — beside the request's own
events, in a constant number of queries whatever the number of developers."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notices.deadlines import deadlines_run
from notices.models import Delivery, NoticeAnswer
from notices.services import answer_record
from removals import contests, selectors, services
from tests import factories


@pytest.fixture
def creator_client(client, creator):
    client.force_login(creator)
    return client


def _delivered(notice, at=None):
    at = at or timezone.now()
    Delivery.objects.filter(notice=notice).update(status=Delivery.Status.DELIVERED, delivered_at=at)
    return at


def _lane(timeline, developer):
    return next(lane for lane in timeline.lanes if lane.developer == developer)


def test_the_timeline_shows_the_dispute_and_its_statement_once_answered(
    creator_client, make_request, guild_staff, developer, other_developer
):
    removal = make_request()
    notices = services.request_approve(actor=guild_staff, request=removal, note="Claims checked.")
    theirs = next(n for n in notices if n.developer == developer)
    delivered_at = _delivered(theirs)
    answer_record(notice=theirs, kind=NoticeAnswer.Kind.ACKNOWLEDGED, via="link")
    answer_record(
        notice=theirs,
        kind=NoticeAnswer.Kind.DISPUTED,
        statement="We licensed <i>these</i> from the publisher in 2023.",
        via="link",
    )

    page = creator_client.get(removal.get_absolute_url()).content.decode()

    assert "Disputed" in page
    assert "We licensed &lt;i&gt;these&lt;/i&gt; from the publisher in 2023." in page
    assert "Their statement" in page
    assert "Delivered by email" in page
    assert f'<time datetime="{timezone.localtime(delivered_at):%Y-%m-%dT%H:%M:%S}' in page
    assert "Reviewed: approved" in page and "Claims checked." in page
    # The other developer has not answered: it waits, with its deadline.
    timeline = selectors.request_timeline(removal)
    other = _lane(timeline, other_developer)
    assert other.state == "Sent" and "Due by" in other.next_step
    lane = _lane(timeline, developer)
    assert lane.state == "Disputed" and lane.tone == "bad"
    assert [s.kind for s in lane.steps] == [
        "submitted",
        "approved",
        "sent",
        "delivered",
        "acknowledged",
        "disputed",
    ]


def test_compliance_closes_the_lane_and_the_request_when_all_have_answered(
    creator_client, make_request, guild_staff, developer, other_developer
):
    removal = make_request()
    for notice in services.request_approve(actor=guild_staff, request=removal):
        answer_record(notice=notice, kind="complied", statement="Removed from v4.", via="link")
    # Issue 20: each "complied" waits for the creator to accept it (or to let the time to
    # contest it pass) before the request closes.
    removal.refresh_from_db()
    assert removal.status == "approved"
    for contest in removal.compliance_contests.all():
        contests.compliance_accept(actor=removal.creator, contest=contest)

    timeline = selectors.request_timeline(removal)
    page = creator_client.get(removal.get_absolute_url()).content.decode()

    assert {lane.state for lane in timeline.lanes} == {"Complied"}
    assert "Removed from v4." in page
    assert "Closed" in page and "Every developer has answered." in page


def test_an_overdue_notice_shows_on_its_developers_lane(
    make_request, guild_staff, developer, other_developer, settings
):
    settings.NOTICES_REMINDER_OFFSETS = []
    removal = make_request()
    notices = services.request_approve(actor=guild_staff, request=removal)
    theirs = next(n for n in notices if n.developer == developer)
    answer_record(
        notice=next(n for n in notices if n.developer == other_developer),
        kind="acknowledged",
        via="link",
    )

    deadlines_run(now=theirs.answer_due_at + timedelta(days=1))

    timeline = selectors.request_timeline(removal)
    lane = _lane(timeline, developer)
    assert lane.state == "Overdue"
    assert lane.steps[-1].label == "Answer overdue"
    assert _lane(timeline, other_developer).state == "Acknowledged"
    # Overdue steps live in the lanes, not among the request's own events.
    assert "overdue" not in [s.kind for s in timeline.events]


def test_before_approval_each_developer_waits_for_the_review(
    creator_client, make_request, guild_staff, developer, other_developer
):
    removal = make_request()
    services.info_request(actor=guild_staff, request=removal, question="Which edition?")

    timeline = selectors.request_timeline(removal)
    page = creator_client.get(removal.get_absolute_url()).content.decode()

    assert [lane.developer for lane in timeline.lanes] == [developer, other_developer]
    assert {lane.state for lane in timeline.lanes} == {"Not sent yet"}
    assert "The notice goes out when your guild&#x27;s staff approve the request." in page
    assert "Reviewed: more information asked" in page and "Which edition?" in page
    assert [s.kind for s in timeline.events] == ["created", "submitted", "info_requested"]


def test_a_rejection_shows_its_reason(creator_client, make_request, guild_staff):
    removal = make_request()
    services.request_reject(actor=guild_staff, request=removal, reason="The claim is disputed.")
    removal.refresh_from_db()

    page = creator_client.get(removal.get_absolute_url()).content.decode()

    assert "Why it was rejected" in page and "The claim is disputed." in page
    assert {lane.state for lane in selectors.request_timeline(removal).lanes} == {"Not sent"}


def test_a_retraction_shows_on_every_notified_lane(
    make_request, creator, guild_staff, developer, other_developer
):
    removal = make_request()
    services.request_approve(actor=guild_staff, request=removal)
    services.request_retract(actor=creator, request=removal, reason="Agreed a licence.")

    timeline = selectors.request_timeline(removal)

    assert {lane.state for lane in timeline.lanes} == {"Retracted"}
    assert all(lane.steps[-1].label == "Retraction sent" for lane in timeline.lanes)
    assert timeline.events[-1].label == "Retracted" and timeline.events[-1].by == "you"


def _approved_request(creator, guild_staff, n_developers):
    developers = []
    for _ in range(n_developers):
        developer = factories.AIDeveloperFactory()
        factories.DeveloperContactFactory(developer=developer)
        developers.append(developer)
    works = [factories.WorkFactory(owner=creator) for _ in range(2)]
    removal = services.draft_create(actor=creator, creator=creator)
    services.draft_update(
        actor=creator, request=removal, works=works, developers=developers, asks=["cease"]
    )
    services.request_submit(actor=creator, request=removal, good_faith=True, accurate=True)
    notices = services.request_approve(actor=guild_staff, request=removal)
    for notice in notices:
        _delivered(notice)
        answer_record(notice=notice, kind="acknowledged", via="link")
    removal.refresh_from_db()
    return removal


def test_the_timeline_takes_the_same_queries_for_2_and_30_developers(
    creator_client, creator, guild_staff
):
    small = _approved_request(creator, guild_staff, 2)
    large = _approved_request(creator, guild_staff, 30)
    counts = {}
    for removal in (small, large):
        with CaptureQueriesContext(connection) as selector_queries:
            timeline = selectors.request_timeline(removal)
        assert len(timeline.lanes) in (2, 30)
        with CaptureQueriesContext(connection) as page_queries:
            response = creator_client.get(removal.get_absolute_url())
        assert response.status_code == HTTPStatus.OK
        counts[len(timeline.lanes)] = (len(selector_queries), len(page_queries))

    assert counts[2] == counts[30]
    assert counts[2][0] <= 5
