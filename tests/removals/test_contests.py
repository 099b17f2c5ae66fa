"""Issue 20: a developer's "complied" is not the last word. The creator accepts it or contests
it within REMOVALS_CONTEST_DAYS; a contest sends the request back to their guild's staff, who
ask the developer again; a window nobody used lapses and the request closes — through the
services, every bad step refused with nothing changed."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import AuditEvent
from notices.models import Delivery, Notice
from notices.services import answer_record
from removals import contests, services
from removals.models import ComplianceContest, CreatorUpdate, RemovalEvent, RemovalRequest

Status = RemovalRequest.Status
State = ComplianceContest.State


@pytest.fixture
def approved(make_request, guild_staff):
    request = make_request()
    first, second = services.request_approve(actor=guild_staff, request=request)
    return request, first, second


def _complied(notice, statement="Removed from our datasets."):
    answer, _ = answer_record(notice=notice, kind="complied", statement=statement, via="link")
    return answer.compliance_contest


def _disputed(notice):
    answer_record(notice=notice, kind="disputed", statement="Licensed elsewhere.", via="link")


def _snapshot(request):
    request.refresh_from_db()
    return (
        request.status,
        list(request.events.values_list("action", flat=True)),
        list(request.compliance_contests.values_list("state", "reason")),
        Notice.objects.filter(topic=request.topic).count(),
    )


def test_complied_opens_a_window_and_tells_the_creator_with_the_date(approved, settings):
    settings.REMOVALS_CONTEST_DAYS = 30
    request, first, _ = approved
    contest = _complied(first)
    assert contest.state == State.OPEN
    assert contest.window_ends_at == contest.answer.created_at + timedelta(days=30)
    update = CreatorUpdate.objects.filter(request=request, kind="answered").get()
    assert f"contest it with your reason by {contest.window_ends_at:%-d %B %Y}" in update.text
    request.refresh_from_db()
    assert request.status == Status.APPROVED


def test_complied_alone_no_longer_closes_the_request(approved):
    request, first, second = approved
    _complied(first)
    _disputed(second)
    request.refresh_from_db()
    assert request.status == Status.APPROVED  # the creator's window on the "complied" is open


def test_accepting_the_last_open_answer_closes_the_request(approved, creator):
    request, first, second = approved
    contest = _complied(first)
    _disputed(second)
    contests.compliance_accept(actor=creator, contest=contest)
    request.refresh_from_db()
    contest.refresh_from_db()
    assert contest.state == State.ACCEPTED
    assert request.status == Status.CLOSED
    actions = list(request.events.values_list("action", flat=True))
    assert actions[-2:] == [RemovalEvent.Action.ACCEPTED, RemovalEvent.Action.CLOSED]


def test_accepting_one_of_two_leaves_the_request_open(approved, creator):
    request, first, second = approved
    contests.compliance_accept(actor=creator, contest=_complied(first))
    _complied(second)
    request.refresh_from_db()
    assert request.status == Status.APPROVED


def test_contest_sends_the_request_back_to_the_guild(approved, creator, guild_staff):
    request, first, _ = approved
    contest = _complied(first)
    contests.compliance_contest(
        actor=creator, contest=contest, reason="  The model still\nquotes my book. "
    )
    request.refresh_from_db()
    contest.refresh_from_db()
    assert request.status == Status.CONTESTED
    assert contest.state == State.CONTESTED
    assert contest.reason == "The model still\nquotes my book."
    event = request.events.get(action=RemovalEvent.Action.CONTESTED)
    assert (event.developer_id, event.note) == (first.developer_id, contest.reason)
    # In their staff's queue, as contested.
    from removals.access import moderated_requests

    assert moderated_requests(guild_staff).filter(pk=request.pk, status="contested").exists()


@pytest.mark.parametrize(
    "reason, message",
    [
        ("", "Say why you contest it"),
        ("   \n ", "Say why you contest it"),
        ("x" * 2001, "under 2,000 characters"),
        ("bell\x07", "plain text"),
    ],
)
def test_a_bad_reason_is_refused_and_changes_nothing(approved, creator, reason, message):
    request, first, _ = approved
    contest = _complied(first)
    before = _snapshot(request)
    with pytest.raises(ValidationError, match=message):
        contests.compliance_contest(actor=creator, contest=contest, reason=reason)
    assert _snapshot(request) == before


def test_contest_after_the_window_twice_or_after_accepting_is_refused(approved, creator):
    request, first, second = approved
    late = _complied(first)
    ComplianceContest.objects.filter(pk=late.pk).update(
        window_ends_at=timezone.now() - timedelta(seconds=1)
    )
    before = _snapshot(request)
    with pytest.raises(ValidationError, match="time to contest .* ended"):
        contests.compliance_contest(actor=creator, contest=late, reason="Too late?")
    with pytest.raises(ValidationError, match="ended"):
        contests.compliance_accept(actor=creator, contest=late)
    assert _snapshot(request) == before

    contest = _complied(second)
    contests.compliance_contest(actor=creator, contest=contest, reason="Still there.")
    before = _snapshot(request)
    with pytest.raises(ValidationError, match="already contested"):
        contests.compliance_contest(actor=creator, contest=contest, reason="Again.")
    with pytest.raises(ValidationError, match="already contested"):
        contests.compliance_accept(actor=creator, contest=contest)
    assert _snapshot(request) == before


def test_a_dispute_or_acknowledgement_opens_no_window(approved):
    request, first, second = approved
    answer_record(notice=first, kind="acknowledged", via="link")
    _disputed(second)
    assert not request.compliance_contests.exists()


def test_only_the_creator_accepts_or_contests(
    approved, other_creator, guild_staff, superuser, developer_user_for
):
    request, first, _ = approved
    contest = _complied(first)
    before = _snapshot(request)
    for intruder in (other_creator, guild_staff, superuser, developer_user_for(first.developer)):
        with pytest.raises(PermissionDenied):
            contests.compliance_contest(actor=intruder, contest=contest, reason="Not mine.")
        with pytest.raises(PermissionDenied):
            contests.compliance_accept(actor=intruder, contest=contest)
    assert _snapshot(request) == before


def test_staff_ask_again_sends_a_follow_up_notice_quoting_the_reason(
    approved, creator, guild_staff
):
    request, first, _ = approved
    contest = _complied(first)
    contests.compliance_contest(actor=creator, contest=contest, reason="Still in the dataset.")
    notice = contests.compliance_ask_again(
        actor=guild_staff, contest=contest, note="Please check the 2026 snapshot."
    )
    request.refresh_from_db()
    contest.refresh_from_db()
    assert request.status == Status.APPROVED
    assert contest.state == State.ASKED_AGAIN and contest.follow_up == notice
    assert notice.developer_id == first.developer_id and notice.topic == request.topic
    assert notice.answerable and notice.answer_due_at > timezone.now() + timedelta(days=29)
    assert "Still in the dataset." in notice.text
    assert "Please check the 2026 snapshot." in notice.text
    assert "Removed from our datasets." in notice.text
    assert Delivery.objects.filter(notice=notice, recipient="legal@example-ai.example").exists()
    assert AuditEvent.objects.filter(action="removal.asked_again").exists()
    assert request.events.filter(action="asked_again", notice=notice).exists()
    assert CreatorUpdate.objects.filter(request=request, kind="asked_again").exists()
    # The developers notified are still two (no double count in retractions).
    assert sorted(services.notified_developer_ids(request)) == sorted(
        [first.developer_id, approved[2].developer_id]
    )
    # Asked twice: refused, nothing more sent.
    with pytest.raises(ValidationError, match="already asked again"):
        contests.compliance_ask_again(actor=guild_staff, contest=contest)
    assert Notice.objects.filter(topic=request.topic).count() == 3


def test_ask_again_is_for_their_guilds_staff_and_contested_answers_only(
    approved, creator, other_guild_staff, guild_staff
):
    request, first, _ = approved
    contest = _complied(first)
    with pytest.raises(ValidationError, match="Only an answer the creator contested"):
        contests.compliance_ask_again(actor=guild_staff, contest=contest)
    contests.compliance_contest(actor=creator, contest=contest, reason="Still there.")
    before = _snapshot(request)
    for intruder in (other_guild_staff, creator):
        with pytest.raises(PermissionDenied):
            contests.compliance_ask_again(actor=intruder, contest=contest)
    assert _snapshot(request) == before


def test_the_follow_up_answer_opens_a_new_window_and_settles_it(approved, creator, guild_staff):
    request, first, second = approved
    _disputed(second)
    contest = _complied(first)
    contests.compliance_contest(actor=creator, contest=contest, reason="Still there.")
    follow_up = contests.compliance_ask_again(actor=guild_staff, contest=contest)
    request.refresh_from_db()
    assert request.status == Status.APPROVED  # waiting for the follow-up's answer
    again = _complied(follow_up, "Removed from the 2026 snapshot too.")
    assert again.notice == follow_up and again.state == State.OPEN
    contests.compliance_accept(actor=creator, contest=again)
    request.refresh_from_db()
    assert request.status == Status.CLOSED


def test_the_sweep_lapses_passed_windows_once_and_closes(approved, settings):
    request, first, second = approved
    _disputed(second)
    contest = _complied(first)
    later = contest.window_ends_at + timedelta(minutes=1)
    assert contests.contest_windows_sweep(now=contest.window_ends_at - timedelta(minutes=1)) == 0
    assert contests.contest_windows_sweep(now=later) == 1
    assert contests.contest_windows_sweep(now=later) == 0  # idempotent
    request.refresh_from_db()
    contest.refresh_from_db()
    assert contest.state == State.LAPSED
    assert request.status == Status.CLOSED
    assert request.events.filter(action="contest_window_passed").count() == 1
    assert request.events.filter(action="closed").count() == 1


def test_the_sweep_leaves_contested_and_accepted_answers_alone(approved, creator):
    request, first, second = approved
    a = _complied(first)
    b = _complied(second)
    contests.compliance_contest(actor=creator, contest=a, reason="Still there.")
    contests.compliance_accept(actor=creator, contest=b)
    assert contests.contest_windows_sweep(now=timezone.now() + timedelta(days=60)) == 0
    request.refresh_from_db()
    assert request.status == Status.CONTESTED


def test_staff_may_close_a_contested_request_and_the_creator_may_retract_it(
    approved, creator, guild_staff
):
    request, first, _ = approved
    contests.compliance_contest(actor=creator, contest=_complied(first), reason="Still there.")
    request.refresh_from_db()
    services.request_close(actor=guild_staff, request=request, reason="Taken to court instead.")
    request.refresh_from_db()
    assert request.status == Status.CLOSED
    contest = request.compliance_contests.get()
    with pytest.raises(ValidationError, match="asks nothing more"):
        contests.compliance_ask_again(actor=guild_staff, contest=contest)


def test_the_lane_shows_waiting_for_you_contested_then_asked_again(approved, creator, guild_staff):
    from removals.selectors import request_timeline

    request, first, _ = approved

    def lane():
        request.refresh_from_db()
        return next(
            x for x in request_timeline(request).lanes if x.developer.pk == first.developer_id
        )

    contest = _complied(first)
    assert lane().state == "Complied — waiting for you"
    assert f"contest it by {contest.window_ends_at:%-d %B %Y}" in lane().next_step
    contests.compliance_contest(actor=creator, contest=contest, reason="Still there.")
    assert (lane().state, lane().tone) == ("Contested", "bad")
    assert "contested" in [s.kind for s in lane().steps]
    contests.compliance_ask_again(actor=guild_staff, contest=contest)
    assert lane().state == "Asked again" and "Due by" in lane().next_step
    kinds = [s.kind for s in lane().steps]
    assert {"contested", "asked_again", "follow_up"} <= set(kinds)
    contest.refresh_from_db()
    _disputed(contest.follow_up)
    assert lane().state == "Disputed"


def test_a_follow_up_past_its_deadline_shows_overdue_on_the_lane(approved, creator, guild_staff):
    from removals.selectors import request_timeline

    request, first, _ = approved
    contest = _complied(first)
    contests.compliance_contest(actor=creator, contest=contest, reason="Still there.")
    follow_up = contests.compliance_ask_again(actor=guild_staff, contest=contest)
    later = follow_up.answer_due_at + timedelta(days=1)
    request.refresh_from_db()
    lane = next(
        x
        for x in request_timeline(request, now=later).lanes
        if x.developer.pk == first.developer_id
    )
    assert (lane.state, lane.tone) == ("Overdue — asked again, no new answer", "bad")
