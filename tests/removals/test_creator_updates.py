"""Issue 19: emails to a creator about one removal request that fall within the same minute
arrive as one email listing each update in order; other requests get their own email; an update
after the minute starts a new email. Updates are rows first (``CreatorUpdate``), so a lost
wake-up or a failed send loses nothing and sends nothing twice.

The worker tests run a real Celery worker and a real SMTP server; the minute is shortened to a
few seconds (``REMOVALS_UPDATES_WINDOW`` in this process, where the updates are recorded)."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.core import mail as django_mail
from django.db import connection, transaction

from accounts.models import OutboundEmail
from notices.models import Notice, NoticeAnswer
from notices.services import answer_record
from removals import services, updates
from removals.models import CreatorUpdate
from tests.services import ROOT, subprocess_database_env, wait_for

WINDOW = 4.0


def _body(message) -> str:
    return message.get_body(("plain",)).get_content()


def _notice(request, developer):
    return Notice.objects.get(topic=request.topic, kind=Notice.Kind.NOTICE, developer=developer)


def _to(smtp_server, address):
    return [m for m in smtp_server.messages if m["To"] == address]


@pytest.mark.worker
def test_three_updates_within_a_second_arrive_as_one_email_naming_all_three(
    celery_worker, smtp_server, settings, make_request, guild_staff, creator, developer
):
    settings.REMOVALS_UPDATES_WINDOW = WINDOW
    removal = make_request()

    started = time.monotonic()
    # Approval: the claims verified, the approval itself; then a developer answers at once.
    services.request_approve(actor=guild_staff, request=removal)
    answer_record(
        notice=_notice(removal, developer),
        kind=NoticeAnswer.Kind.ACKNOWLEDGED,
        statement="Received; we are checking our datasets.",
        via=NoticeAnswer.Via.LINK,
    )
    assert time.monotonic() - started < WINDOW
    assert CreatorUpdate.objects.filter(request=removal, sent_at__isnull=True).count() == 3

    [message] = wait_for(
        lambda: _to(smtp_server, creator.email), timeout=WINDOW + 30, what="the creator's email"
    )
    assert time.monotonic() - started >= WINDOW - 0.5  # not before the minute had passed
    assert message["Subject"].endswith("3 updates on your removal request “My novels”")
    body = _body(message)
    # Each update, in the order it happened, with what it said, and one link to the request.
    order = [
        body.index("1. 2 of your claims are verified"),
        body.index("2. Your removal request is approved: notices are on their way"),
        body.index("3. Example AI Ltd answered your removal request"),
    ]
    assert order == sorted(order)
    assert "is approved by Writers' Guild of Great Britain staff" in body
    assert "Received; we are checking our datasets." in body
    assert body.count(f"/requests/{removal.pk}/") == 1
    html = message.get_body(("html",)).get_content()
    assert html.count("<li>") >= 3 and "Example AI Ltd answered" in html

    # Nothing more comes for these three, however long one waits.
    time.sleep(1.5)
    assert len(_to(smtp_server, creator.email)) == 1
    assert not CreatorUpdate.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.worker
def test_updates_on_two_requests_are_two_emails_and_one_after_the_minute_is_a_new_email(
    celery_worker,
    smtp_server,
    settings,
    make_request,
    guild_staff,
    creator,
    developer,
    two_works,
):
    settings.REMOVALS_UPDATES_WINDOW = WINDOW
    first = make_request()
    second = make_request(works=two_works[:1], developers=[developer])
    services.request_approve(actor=guild_staff, request=first)
    services.info_request(actor=guild_staff, request=second, question="Which edition?")

    messages = wait_for(
        lambda: len(_to(smtp_server, creator.email)) >= 2 and _to(smtp_server, creator.email),
        timeout=WINDOW + 30,
        what="one email per request",
    )
    time.sleep(1)
    messages = _to(smtp_server, creator.email)
    assert len(messages) == 2
    by_request = {
        ("approved" if f"/requests/{first.pk}/" in _body(m) else "question"): m for m in messages
    }
    assert set(by_request) == {"approved", "question"}
    assert "Which edition?" in _body(by_request["question"])
    assert "Which edition?" not in _body(by_request["approved"])
    assert by_request["question"]["Subject"].endswith(
        "Your guild needs more information about your removal request"
    )

    # A developer answers the first request after its minute: a new email, with that alone.
    answer_record(
        notice=_notice(first, developer),
        kind=NoticeAnswer.Kind.COMPLIED,
        statement="Removed from our training sets.",
        via=NoticeAnswer.Via.LINK,
    )
    wait_for(
        lambda: len(_to(smtp_server, creator.email)) >= 3,
        timeout=WINDOW + 30,
        what="the email of the answer",
    )
    third = _to(smtp_server, creator.email)[2]
    assert third["Subject"].endswith("Example AI Ltd answered your removal request")
    assert "Removed from our training sets." in _body(third)
    assert "is approved" not in _body(third)


def test_an_update_waits_for_its_minute_then_the_sweep_sends_it_once(
    settings, make_request, guild_staff, creator, django_capture_on_commit_callbacks
):
    settings.REMOVALS_UPDATES_WINDOW = 60
    removal = make_request()
    django_mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.info_request(actor=guild_staff, request=removal, question="Which edition?")
    # The wake-up ran (eagerly) before the minute: nothing is sent yet, the update waits.
    [update] = CreatorUpdate.objects.filter(request=removal)
    assert update.sent_at is None and not OutboundEmail.objects.filter(to=creator.email).exists()

    assert updates.updates_send(request_id=removal.pk) == pytest.approx(60, abs=2)
    later = update.due_at
    with django_capture_on_commit_callbacks(execute=True):
        assert updates.updates_sweep(now=later) == 1
        assert updates.updates_sweep(now=later) == 0  # sent: a second sweep finds nothing
        assert updates.updates_send(request_id=removal.pk, now=later) is None
    [email] = OutboundEmail.objects.filter(to=creator.email)
    assert "needs more information" in email.subject
    assert [m.subject for m in django_mail.outbox if creator.email in m.to] == [email.subject]


_SEND_IN_A_PROCESS = """
import sys
import django
django.setup()
from django.utils.dateparse import parse_datetime
from removals import updates
updates.updates_send(request_id=int(sys.argv[1]), now=parse_datetime(sys.argv[2]))
"""


def test_a_sender_killed_before_its_commit_leaves_the_updates_to_send_again(
    transactional_db, settings, make_request, guild_staff, creator
):
    """A real process sending the updates is killed with SIGKILL after it has written the email
    into the outbox but before its transaction commits (it waits, there, for a row lock the test
    holds on the updates): PostgreSQL rolls its transaction back, so the email is gone and the
    updates are still pending; the next send mails them once."""
    if connection.vendor != "postgresql":
        pytest.skip("holds a row lock another process waits for: PostgreSQL's row locks")
    settings.REMOVALS_UPDATES_WINDOW = 60
    removal = make_request()
    services.info_request(actor=guild_staff, request=removal, question="Which edition?")
    update = CreatorUpdate.objects.get(request=removal)

    def waiting_backend():
        with connection.cursor() as cursor:
            # Inside a transaction PostgreSQL shows the same snapshot of pg_stat_activity until
            # told to take a new one.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            row = cursor.fetchone()
        return row[0] if row else None

    with transaction.atomic():
        list(CreatorUpdate.objects.select_for_update().filter(pk=update.pk))
        sender = subprocess.Popen(
            [sys.executable, "-c", _SEND_IN_A_PROCESS, str(removal.pk), update.due_at.isoformat()],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "portal.settings",
                "CELERY_TASK_ALWAYS_EAGER": "0",
                **subprocess_database_env(),
            },
        )
        try:
            # It has locked the request, read the updates, queued the email and now waits to
            # mark the updates sent.
            backend = wait_for(
                lambda: sender.poll() is not None or waiting_backend(),
                timeout=60,
                what="the sender",
            )
            assert sender.poll() is None, "the sender ended before it waited on the lock"
            with connection.cursor() as cursor:
                cursor.execute(  # it has inserted the email: it holds the outbox's insert lock
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE l.pid = %s AND c.relname = %s AND l.mode = 'RowExclusiveLock'",
                    [backend, OutboundEmail._meta.db_table],
                )
                assert cursor.fetchone()[0] == 1
            sender.send_signal(signal.SIGKILL)
            sender.wait(timeout=30)
        finally:
            if sender.poll() is None:
                sender.kill()

    def backend_gone():  # it gets the lock, finds its client gone and rolls back
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend])
            return cursor.fetchone()[0] == 0

    wait_for(backend_gone, timeout=30, what="the killed sender's backend to end")
    update.refresh_from_db()
    assert update.sent_at is None  # rolled back with the email: nothing lost, nothing sent
    assert not OutboundEmail.objects.filter(to=creator.email).exists()

    updates.updates_send(request_id=removal.pk, now=update.due_at)
    updates.updates_send(request_id=removal.pk, now=update.due_at)
    assert OutboundEmail.objects.filter(to=creator.email).count() == 1


def test_updates_in_a_rolled_back_change_are_never_sent(
    settings, make_request, guild_staff, creator
):
    settings.REMOVALS_UPDATES_WINDOW = 60
    removal = make_request()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.info_request(actor=guild_staff, request=removal, question="Which edition?")
        raise RuntimeError("the request failed after the service")
    assert not CreatorUpdate.objects.filter(request=removal).exists()
