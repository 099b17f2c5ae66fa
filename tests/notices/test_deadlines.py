"""Deadlines: reminders before and at the deadline (notices too, on the same topic), overdue
after it, and the caller's handler called exactly once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notices import deliveries, handlers
from notices.deadlines import deadlines_run
from notices.models import Notice

DAY = 24 * 3600


@pytest.fixture(autouse=True)
def _offsets(settings):
    settings.NOTICES_REMINDER_OFFSETS = [7 * DAY, DAY, 0]


@pytest.fixture
def overdue_calls():
    """A handler for topics ``test:…`` that records the notices it is called with."""
    calls = []
    handlers.register_overdue_handler("test", calls.append)
    yield calls
    handlers.unregister_overdue_handler("test")


@pytest.fixture
def due_notice(make_notice):
    """A notice whose answer is due in ten days."""
    return make_notice(answer_due_at=timezone.now() + timedelta(days=10))


def _reminder_offsets(notice):
    return sorted(
        int(key.rsplit(":", 1)[1])
        for key in Notice.objects.filter(reminds=notice).values_list("key", flat=True)
    )


def test_reminders_come_at_each_offset_then_the_notice_is_overdue_and_handled_once(
    due_notice, overdue_calls
):
    due = due_notice.answer_due_at

    deadlines_run(now=due - timedelta(days=8))
    assert _reminder_offsets(due_notice) == []

    deadlines_run(now=due - timedelta(days=7) + timedelta(seconds=1))
    deadlines_run(now=due - timedelta(days=7) + timedelta(seconds=2))  # twice: still one
    assert _reminder_offsets(due_notice) == [7 * DAY]

    deadlines_run(now=due - timedelta(days=1) + timedelta(seconds=1))
    assert _reminder_offsets(due_notice) == [DAY, 7 * DAY]
    assert overdue_calls == []

    counts = deadlines_run(now=due + timedelta(seconds=1))
    assert counts == {"reminders": 1, "overdue": 1}
    assert _reminder_offsets(due_notice) == [0, DAY, 7 * DAY]
    due_notice.refresh_from_db()
    assert due_notice.overdue_at is not None and due_notice.overdue_handled_at is not None
    assert overdue_calls == [due_notice]

    deadlines_run(now=due + timedelta(hours=1))
    deadlines_run(now=due + timedelta(days=3))
    assert len(overdue_calls) == 1
    assert _reminder_offsets(due_notice) == [0, DAY, 7 * DAY]


def test_a_reminder_is_a_notice_on_the_same_topic_keyed_from_the_original(due_notice):
    deadlines_run(now=due_notice.answer_due_at - timedelta(hours=23))

    reminder = Notice.objects.get(reminds=due_notice)
    assert reminder.kind == Notice.Kind.REMINDER
    assert reminder.topic == due_notice.topic
    assert reminder.developer == due_notice.developer
    assert reminder.key == f"{due_notice.key}:reminder:{DAY}"
    assert reminder.subject == f"Reminder: {due_notice.subject}"
    assert reminder.answer_due_at is None
    assert reminder.deliveries.get().recipient == "legal@example-ai.example"


def test_the_reminder_email_threads_with_the_notice_and_restates_it(due_notice):
    deadlines_run(now=due_notice.answer_due_at - timedelta(hours=23))
    reminder = Notice.objects.get(reminds=due_notice).deliveries.get()

    deliveries.attempt(delivery_id=reminder.pk)

    [message] = mail.outbox
    original = due_notice.deliveries.get().identity
    assert message.extra_headers["In-Reply-To"] == original
    assert message.extra_headers["Message-ID"] == reminder.identity != original
    assert due_notice.text in message.body
    assert "due by" in message.body


def test_a_late_run_sends_only_the_latest_due_reminder(due_notice):
    deadlines_run(now=due_notice.answer_due_at - timedelta(hours=12))

    assert _reminder_offsets(due_notice) == [DAY]


def test_no_reminder_for_a_moment_before_the_notice_was_sent(make_notice):
    notice = make_notice(answer_due_at=timezone.now() + timedelta(days=2))

    deadlines_run(now=timezone.now() + timedelta(seconds=1))
    assert _reminder_offsets(notice) == []  # "seven days left" would be wrong

    deadlines_run(now=notice.answer_due_at - timedelta(hours=1))
    assert _reminder_offsets(notice) == [DAY]


def test_an_answered_notice_gets_no_reminder_and_is_never_overdue(due_notice, overdue_calls):
    Notice.objects.filter(pk=due_notice.pk).update(answered_at=timezone.now())

    deadlines_run(now=due_notice.answer_due_at - timedelta(hours=1))
    deadlines_run(now=due_notice.answer_due_at + timedelta(days=1))

    assert _reminder_offsets(due_notice) == []
    due_notice.refresh_from_db()
    assert due_notice.overdue_at is None and overdue_calls == []


def test_a_failing_handler_is_rolled_back_and_called_again_next_run(due_notice):
    calls = []

    def flaky(notice):
        calls.append(notice.pk)
        if len(calls) == 1:
            raise RuntimeError("escalation failed")

    handlers.register_overdue_handler("test", flaky)
    try:
        late = due_notice.answer_due_at + timedelta(minutes=1)
        deadlines_run(now=late)
        due_notice.refresh_from_db()
        assert due_notice.overdue_at is not None  # staff see it overdue…
        assert due_notice.overdue_handled_at is None  # …and the handler is owed a call

        deadlines_run(now=late + timedelta(minutes=5))
        deadlines_run(now=late + timedelta(minutes=10))
    finally:
        handlers.unregister_overdue_handler("test")

    assert calls == [due_notice.pk, due_notice.pk]
    due_notice.refresh_from_db()
    assert due_notice.overdue_handled_at is not None


def test_a_topic_without_a_handler_is_still_marked_overdue(make_notice):
    notice = make_notice(topic="digest:7", answer_due_at=timezone.now() + timedelta(days=1))

    deadlines_run(now=notice.answer_due_at + timedelta(seconds=1))

    notice.refresh_from_db()
    assert notice.overdue_at is not None and notice.overdue_handled_at is not None


def test_the_handler_goes_by_the_text_before_the_first_colon(make_notice, overdue_calls):
    other = []
    # A prefix no app uses: replacing "removal" would unhook the removals app for later tests.
    handlers.register_overdue_handler("elsewhere", other.append)
    try:
        notice = make_notice(
            topic="test:elsewhere:3", answer_due_at=timezone.now() + timedelta(days=1)
        )
        deadlines_run(now=notice.answer_due_at + timedelta(seconds=1))
    finally:
        handlers.unregister_overdue_handler("elsewhere")

    assert overdue_calls == [notice] and other == []


def test_a_prefix_with_a_colon_is_refused():
    with pytest.raises(ValueError):
        handlers.register_overdue_handler("removal:", print)


def test_every_open_notice_is_looked_at_however_many_there_are(make_notice, settings):
    settings.NOTICES_DEADLINE_BATCH = 2
    due = timezone.now() + timedelta(days=3)
    notices = [make_notice(answer_due_at=due + timedelta(seconds=i)) for i in range(5)]

    counts = deadlines_run(now=due - timedelta(hours=12))

    assert counts["reminders"] == 5
    assert all(_reminder_offsets(n) == [DAY] for n in notices)
