"""``answer_record``: the one way an answer is written — who may answer how, what is refused,
the same answer recorded once, reminders stopped, and the caller's handler told."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from accounts.models import AuditEvent
from notices import handlers
from notices.deadlines import deadlines_run, reminder_create
from notices.models import NoticeAnswer
from notices.services import answer_record, api_key_create, api_key_revoke

Kind, Via = NoticeAnswer.Kind, NoticeAnswer.Via


@pytest.fixture
def notice(make_notice):
    return make_notice(answer_due_at=timezone.now() + timedelta(days=10))


@pytest.fixture
def answer_calls():
    calls = []
    handlers.register_answer_handler("test", calls.append)
    yield calls
    handlers.unregister_answer_handler("test")


def test_an_answer_by_link_sets_answered_at_and_tells_the_callers_handler(notice, answer_calls):
    answer, created = answer_record(notice=notice, kind=Kind.ACKNOWLEDGED, via=Via.LINK)

    assert created and answer.via == Via.LINK and answer.user is None
    notice.refresh_from_db()
    assert notice.answered_at == answer.created_at
    assert answer_calls == [answer]


def test_the_same_answer_twice_is_recorded_once_and_the_handler_runs_once(notice, answer_calls):
    first, created = answer_record(
        notice=notice, kind=Kind.COMPLIED, statement="Removed  from\n dataset v3.", via=Via.LINK
    )
    again, created_again = answer_record(
        notice=notice, kind=Kind.COMPLIED, statement=" Removed from\n dataset  v3. ", via=Via.LINK
    )

    assert created and not created_again and again.pk == first.pk
    assert NoticeAnswer.objects.filter(notice=notice).count() == 1
    assert len(answer_calls) == 1


def test_acknowledged_then_complied_are_two_answers_and_answered_at_keeps_the_first(notice):
    ack, _ = answer_record(notice=notice, kind=Kind.ACKNOWLEDGED, via=Via.LINK)
    answer_record(notice=notice, kind=Kind.COMPLIED, statement="Done.", via=Via.LINK)

    notice.refresh_from_db()
    assert list(notice.answers.values_list("kind", flat=True)) == ["acknowledged", "complied"]
    assert notice.answered_at == ack.created_at


@pytest.mark.parametrize(
    ("kind", "statement", "message"),
    [
        ("maybe", "", "Unknown answer"),
        (Kind.COMPLIED, "   ", "Say what you did"),
        (Kind.DISPUTED, "", "reason for the dispute"),
        (Kind.DISPUTED, "x" * 10_001, "under 10,000"),
    ],
)
def test_bad_answers_are_refused_and_write_nothing(notice, kind, statement, message):
    with pytest.raises(ValidationError, match=message):
        answer_record(notice=notice, kind=kind, statement=statement, via=Via.LINK)

    notice.refresh_from_db()
    assert notice.answered_at is None and not notice.answers.exists()


def test_an_acknowledgement_after_a_dispute_is_refused(notice):
    answer_record(notice=notice, kind=Kind.DISPUTED, statement="Not your work.", via=Via.LINK)

    with pytest.raises(ValidationError, match="already answered"):
        answer_record(notice=notice, kind=Kind.ACKNOWLEDGED, via=Via.LINK)
    assert notice.answers.count() == 1


def test_a_notice_that_asks_no_answer_takes_none(make_notice):
    digest = make_notice(answerable=False)

    with pytest.raises(ValidationError, match="asks for no answer"):
        answer_record(notice=digest, kind=Kind.ACKNOWLEDGED, via=Via.LINK)


def test_an_answer_to_a_reminder_answers_the_notice_and_stops_further_reminders(notice, settings):
    settings.NOTICES_REMINDER_OFFSETS = [7 * 86400, 86400]
    reminder = reminder_create(notice, 7 * 86400)

    answer, _ = answer_record(notice=reminder, kind=Kind.ACKNOWLEDGED, via=Via.LINK)

    assert answer.notice_id == notice.pk
    counts = deadlines_run(now=notice.answer_due_at - timedelta(hours=1))
    assert counts == {"reminders": 0, "overdue": 0}
    counts = deadlines_run(now=notice.answer_due_at + timedelta(days=1))
    assert counts["overdue"] == 0


def test_dashboard_answers_come_only_from_the_organisations_people(
    notice, developer_user, other_developer_user, creator
):
    for outsider in (other_developer_user, creator):
        with pytest.raises(PermissionDenied):
            answer_record(notice=notice, kind=Kind.ACKNOWLEDGED, via=Via.DASHBOARD, user=outsider)

    answer, _ = answer_record(
        notice=notice, kind=Kind.ACKNOWLEDGED, via=Via.DASHBOARD, user=developer_user
    )
    assert answer.user == developer_user


def test_api_answers_need_an_active_key_of_the_notices_organisation(
    notice, developer_user, other_developer_user, developer, other_developer
):
    own, _ = api_key_create(actor=developer_user, developer=developer, name="pipeline")
    foreign, _ = api_key_create(actor=other_developer_user, developer=other_developer, name="x")

    with pytest.raises(PermissionDenied):
        answer_record(notice=notice, kind=Kind.ACKNOWLEDGED, via=Via.API, api_key=foreign)
    api_key_revoke(actor=developer_user, key=own)
    own.refresh_from_db()
    with pytest.raises(PermissionDenied):
        answer_record(notice=notice, kind=Kind.ACKNOWLEDGED, via=Via.API, api_key=own)
    assert not notice.answers.exists()


def test_staff_record_answers_with_how_they_arrived_and_an_audit_row(
    notice, registry_manager, guild_staff
):
    with pytest.raises(PermissionDenied):
        answer_record(
            notice=notice, kind=Kind.ACKNOWLEDGED, via=Via.STAFF, user=guild_staff, received_by="x"
        )
    with pytest.raises(ValidationError, match="how the answer arrived"):
        answer_record(notice=notice, kind=Kind.ACKNOWLEDGED, via=Via.STAFF, user=registry_manager)

    answer, _ = answer_record(
        notice=notice,
        kind=Kind.COMPLIED,
        statement="Letter of 3 March: removed.",
        via=Via.STAFF,
        user=registry_manager,
        received_by="Letter by post",
    )
    assert answer.by_staff and answer.received_by == "Letter by post"
    assert AuditEvent.objects.filter(action="notice.answer_record", actor=registry_manager).exists()


def test_a_failing_handler_refuses_the_answer(notice):
    def boom(answer):
        raise RuntimeError("caller broke")

    handlers.register_answer_handler("test", boom)
    try:
        with pytest.raises(RuntimeError):
            answer_record(notice=notice, kind=Kind.ACKNOWLEDGED, via=Via.LINK)
    finally:
        handlers.unregister_answer_handler("test")
    notice.refresh_from_db()
    assert notice.answered_at is None and not notice.answers.exists()


@pytest.mark.django_db(transaction=True)
def test_the_same_answer_posted_at_once_from_two_threads_is_recorded_once(make_notice):
    notice = make_notice()
    results, barrier = [], threading.Barrier(2)

    def post():
        barrier.wait()
        try:
            results.append(
                answer_record(notice=notice, kind=Kind.DISPUTED, statement="No.", via=Via.LINK)[1]
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False, True]
    assert NoticeAnswer.objects.filter(notice=notice).count() == 1
