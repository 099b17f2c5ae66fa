"""A delivery's life: claimed by one worker, sent outside any transaction, recorded, retried
with back-off until a limit, failed and suppressed on a permanent refusal, re-queued by the
sweep, and retried by staff."""

import random
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from accounts.models import AuditEvent
from notices import deliveries, transports
from notices.models import Delivery, DeliveryAttempt, Suppression
from notices.transports import TransportError
from tests.services import free_port

Status = Delivery.Status


class WatchedTransport(transports.EmailTransport):
    """The real email transport, noting whether a database transaction was open while it
    sent; ``fail_with`` makes it raise instead (an error in the project's own code)."""

    in_transaction: list = []
    fail_with: Exception | None = None

    def deliver(self, prepared, recipient):
        WatchedTransport.in_transaction.append(connection.in_atomic_block)
        if WatchedTransport.fail_with is not None:
            raise WatchedTransport.fail_with
        super().deliver(prepared, recipient)


@pytest.fixture
def watched(monkeypatch):
    WatchedTransport.in_transaction = []
    WatchedTransport.fail_with = None
    monkeypatch.setattr(deliveries, "transport_for", lambda channel: WatchedTransport())
    return WatchedTransport


@pytest.fixture
def delivery(make_notice):
    return make_notice().deliveries.get()


def _reload(delivery):
    delivery.refresh_from_db()
    return delivery


# --- Back-off ------------------------------------------------------------------------------------


def test_backoff_doubles_from_the_base_up_to_the_cap(settings):
    settings.NOTICES_RETRY_BASE = 60
    settings.NOTICES_RETRY_MAX_DELAY = 3600
    settings.NOTICES_RETRY_JITTER = 0

    assert [deliveries.backoff(n) for n in range(1, 9)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]


def test_backoff_jitter_stays_within_twenty_percent(settings):
    settings.NOTICES_RETRY_BASE = 100
    settings.NOTICES_RETRY_JITTER = 0.2
    rng = random.Random(7)

    delays = [deliveries.backoff(1, rng=rng) for _ in range(500)]

    assert min(delays) >= 80 and max(delays) <= 120
    assert max(delays) - min(delays) > 30  # really spread, not constant


# --- Claim ---------------------------------------------------------------------------------------


def test_of_two_claims_only_one_wins(delivery):
    first = deliveries.claim(delivery.pk)
    second = deliveries.claim(delivery.pk)

    assert first == 1 and second is None
    delivery = _reload(delivery)
    assert delivery.status == Status.SENDING and delivery.lease_until > timezone.now()


def test_an_expired_lease_can_be_claimed_again_with_a_new_token(delivery, settings):
    token = deliveries.claim(delivery.pk)
    later = timezone.now() + timedelta(seconds=settings.NOTICES_LEASE_SECONDS + 1)

    assert deliveries.claim(delivery.pk, now=later) == token + 1


def test_a_delivery_not_yet_due_is_not_claimed(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )

    assert deliveries.claim(delivery.pk) is None


# --- Attempts ------------------------------------------------------------------------------------


def test_a_successful_attempt_is_recorded_and_ends_the_lease(delivery):
    assert deliveries.attempt(delivery_id=delivery.pk) == Status.DELIVERED

    delivery = _reload(delivery)
    assert (delivery.status, delivery.attempts, delivery.lease_until) == (Status.DELIVERED, 1, None)
    assert delivery.delivered_at is not None
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [delivery.identity]
    attempt = DeliveryAttempt.objects.get()
    assert attempt.result == DeliveryAttempt.Result.DELIVERED and attempt.delivery == delivery


def test_a_delivered_notice_is_not_sent_again(delivery):
    deliveries.attempt(delivery_id=delivery.pk)

    assert deliveries.attempt(delivery_id=delivery.pk) is None
    assert len(mail.outbox) == 1


def test_a_temporary_refusal_is_retried_after_the_backoff(smtp, delivery, settings):
    settings.NOTICES_RETRY_BASE = 600
    settings.NOTICES_RETRY_JITTER = 0.2
    smtp.handler.refuse[delivery.recipient] = "451 4.7.1 Try again later"
    before = timezone.now()

    assert deliveries.attempt(delivery_id=delivery.pk) == Status.QUEUED

    delivery = _reload(delivery)
    assert delivery.attempts == 1 and delivery.lease_until is None
    assert delivery.last_error == "Recipient refused: 451 4.7.1 Try again later"
    assert before + timedelta(seconds=480) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=720)
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.result, attempt.code) == (DeliveryAttempt.Result.TEMPORARY, 451)


def test_sending_happens_outside_any_database_transaction(
    watched, smtp, make_notice, transactional_db
):
    delivery = make_notice().deliveries.get()  # committed: the (eager) task runs on commit

    assert _reload(delivery).status == Status.DELIVERED
    assert watched.in_transaction == [False]
    assert len(smtp.messages) == 1


def test_retries_stop_at_the_limit_and_the_delivery_fails(smtp, delivery, settings):
    settings.NOTICES_RETRY_LIMIT = 3 * 24 * 3600
    Delivery.objects.filter(pk=delivery.pk).update(
        window_started_at=timezone.now() - timedelta(days=3)
    )
    settings.EMAIL_PORT = free_port()  # no mail server there

    assert deliveries.attempt(delivery_id=delivery.pk) == Status.FAILED

    delivery = _reload(delivery)
    assert delivery.status == Status.FAILED
    assert delivery.last_error.startswith("Gave up after 1 attempts: ConnectionRefusedError")


def test_a_permanent_refusal_fails_at_once_and_suppresses_the_address(smtp, make_notice, delivery):
    smtp.handler.refuse[delivery.recipient] = "550 5.1.1 No such user"

    assert deliveries.attempt(delivery_id=delivery.pk) == Status.FAILED

    suppression = Suppression.objects.active().get()
    assert suppression.address == delivery.recipient and suppression.code == 550
    assert suppression.delivery_id == delivery.pk
    # A later notice to that address is not sent at all…
    later = make_notice().deliveries.get()
    assert later.status == Status.SUPPRESSED


def test_a_delivery_queued_before_its_address_was_suppressed_is_not_sent(
    smtp, make_notice, delivery
):
    waiting = make_notice().deliveries.get()
    smtp.handler.refuse[delivery.recipient] = "550 5.1.1 No such user"
    deliveries.attempt(delivery_id=delivery.pk)
    del smtp.handler.refuse[delivery.recipient]  # it would take it now: it must not be asked

    assert deliveries.attempt(delivery_id=waiting.pk) == Status.SUPPRESSED
    assert smtp.messages == []


def test_a_refused_message_fails_without_suppressing_the_address(smtp, delivery):
    async def refuse_data(server, session, envelope):
        return "554 5.7.1 Message refused as spam"

    smtp.handler.handle_DATA = refuse_data

    assert deliveries.attempt(delivery_id=delivery.pk) == Status.FAILED
    assert not Suppression.objects.exists()


def test_a_worker_that_lost_its_lease_does_not_overwrite_the_newer_attempt(delivery, settings):
    old_token = deliveries.claim(delivery.pk)
    later = timezone.now() + timedelta(seconds=settings.NOTICES_LEASE_SECONDS + 1)
    new_token = deliveries.claim(delivery.pk, now=later)  # another worker took it over

    now = timezone.now()
    stale = deliveries.Outcome(_reload(delivery), old_token, now, now, TransportError("timeout"))
    deliveries._record([stale])

    delivery = _reload(delivery)
    assert delivery.status == Status.SENDING and delivery.attempts == new_token
    assert DeliveryAttempt.objects.count() == 1  # the attempt is still on record


def test_an_unexpected_error_in_the_transport_is_retried_not_lost(watched, delivery):
    watched.fail_with = ValueError("bug")

    assert deliveries.attempt(delivery_id=delivery.pk) == Status.QUEUED
    assert "ValueError: bug" in _reload(delivery).last_error


# --- Batches -------------------------------------------------------------------------------------


def test_a_batch_is_claimed_at_once_and_sent_over_one_connection(smtp, make_notice):
    ids = [make_notice().deliveries.get().pk for _ in range(4)]
    peers = []
    original = smtp.handler.handle_DATA

    async def recording(server, session, envelope):
        peers.append(session.peer)
        return await original(server, session, envelope)

    smtp.handler.handle_DATA = recording

    results = deliveries.attempt_many(delivery_ids=ids)

    assert results == dict.fromkeys(ids, Status.DELIVERED)
    assert len(smtp.messages) == 4 and len(set(peers)) == 1
    assert DeliveryAttempt.objects.filter(result="delivered").count() == 4


def test_when_the_server_is_down_the_rest_of_the_batch_waits_without_counting_an_attempt(
    smtp, make_notice, settings
):
    settings.EMAIL_PORT = free_port()  # nothing listens there
    ids = [make_notice().deliveries.get().pk for _ in range(3)]

    results = deliveries.attempt_many(delivery_ids=ids)

    assert results == dict.fromkeys(ids, Status.QUEUED)
    first, *rest = Delivery.objects.filter(pk__in=ids).order_by("pk")
    assert first.attempts == 1 and "ConnectionRefusedError" in first.last_error
    assert [d.attempts for d in rest] == [0, 0]  # never tried
    assert {d.next_attempt_at for d in rest} == {first.next_attempt_at}
    assert all(d.lease_until is None for d in [first, *rest])
    assert DeliveryAttempt.objects.count() == 1


def test_a_batch_that_outlives_half_its_lease_hands_the_rest_back(smtp, make_notice, settings):
    settings.NOTICES_LEASE_SECONDS = 0  # no time left after the first send: the rest goes back
    ids = [make_notice().deliveries.get().pk for _ in range(3)]

    deliveries.attempt_many(delivery_ids=ids)

    # Handed back due at once and published again (run at once here: tasks are eager).
    sent = Delivery.objects.filter(pk__in=ids)
    assert [d.status for d in sent] == [Status.DELIVERED] * 3
    assert [d.attempts for d in sent] == [1, 1, 1]  # a hand-back is not an attempt
    assert sorted(m["Message-ID"] for m in smtp.messages) == sorted(d.identity for d in sent)


def test_notices_published_together_wake_the_worker_once(
    developer, contact, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from notices.deliveries import publishing_together
    from notices.services import notice_create

    def create(n):
        notice_create(developer=developer, topic=f"t:{n}", key=f"t:{n}", subject="A", text="a")

    with (
        django_capture_on_commit_callbacks() as together,
        transaction.atomic(),
        publishing_together(),
    ):
        for n in range(3):
            create(n)
    assert len(together) == 1  # one publish for the three notices' deliveries

    with django_capture_on_commit_callbacks() as apart, transaction.atomic():
        for n in range(3, 5):
            create(n)
    assert len(apart) == 2  # not together: one wake-up per notice


# --- The sweep -----------------------------------------------------------------------------------


def test_the_sweep_requeues_due_and_expired_lease_deliveries_but_not_leased_ones(
    make_notice, settings
):
    """Eager here: what the sweep publishes is sent at once, as a worker would send it."""
    settings.NOTICES_SWEEP_GRACE = 30
    now = timezone.now()
    due, fresh, expired, leased, later, done = (make_notice().deliveries.get() for _ in range(6))
    Delivery.objects.filter(pk=due.pk).update(next_attempt_at=now - timedelta(minutes=5))
    Delivery.objects.filter(pk=fresh.pk).update(next_attempt_at=now - timedelta(seconds=5))
    Delivery.objects.filter(pk=expired.pk).update(
        status=Status.SENDING,
        next_attempt_at=now - timedelta(minutes=10),
        lease_until=now - timedelta(seconds=1),
    )
    Delivery.objects.filter(pk=leased.pk).update(
        status=Status.SENDING,
        next_attempt_at=now - timedelta(minutes=10),
        lease_until=now + timedelta(minutes=1),
    )
    Delivery.objects.filter(pk=later.pk).update(next_attempt_at=now + timedelta(minutes=5))
    Delivery.objects.filter(pk=done.pk).update(
        status=Status.DELIVERED, next_attempt_at=now - timedelta(days=1)
    )
    assert deliveries.sweep(now=now) == 2

    # The expired lease (oldest) and the due one were sent, in that order; nothing else was.
    assert [m.to for m in mail.outbox] == [[expired.recipient], [due.recipient]]
    assert _reload(expired).status == _reload(due).status == Status.DELIVERED
    assert _reload(leased).status == Status.SENDING  # another worker still holds it
    assert _reload(fresh).status == _reload(later).status == Status.QUEUED


def test_the_sweep_is_bounded_per_run(make_notice, settings):
    settings.NOTICES_SWEEP_BATCH = 3
    settings.NOTICES_SWEEP_GRACE = 0
    for _ in range(5):
        make_notice()

    assert deliveries.sweep() == 3 and len(mail.outbox) == 3
    assert Delivery.objects.filter(status=Status.QUEUED).count() == 2  # the next run's


def test_the_sweep_delivers_what_the_broker_lost(delivery, settings):
    """Eager here: what the sweep publishes runs at once, as a worker would run it."""
    settings.NOTICES_SWEEP_GRACE = 0

    deliveries.sweep()

    assert _reload(delivery).status == Status.DELIVERED
    assert len(mail.outbox) == 1


# --- Retry now (staff) ---------------------------------------------------------------------------


@pytest.fixture
def failed(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.FAILED, attempts=1, last_error="Gave up after 1 attempts: 451"
    )
    return _reload(delivery)


def test_retry_now_queues_a_failed_delivery_due_now_and_keeps_its_attempts(
    failed, registry_manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deliveries.retry_now(actor=registry_manager, delivery=failed)

    delivery = _reload(failed)
    assert delivery.status == Status.DELIVERED  # eager: sent as soon as it was queued
    assert delivery.attempts == 2
    event = AuditEvent.objects.get(action="delivery.retry")
    assert event.actor == registry_manager and event.before["status"] == "failed"


def test_retry_now_opens_a_new_retry_window(failed, registry_manager, smtp):
    smtp.handler.refuse[failed.recipient] = "451 4.7.1 Try again later"
    Delivery.objects.filter(pk=failed.pk).update(
        window_started_at=timezone.now() - timedelta(days=5)
    )

    deliveries.retry_now(actor=registry_manager, delivery=failed)
    deliveries.attempt(delivery_id=failed.pk)

    assert _reload(failed).status == Status.QUEUED  # retried again later, not failed at once


@pytest.mark.parametrize("persona", ["guild_staff", "creator"])
def test_only_registry_managers_and_superusers_retry(request, failed, persona):
    with pytest.raises(PermissionDenied):
        deliveries.retry_now(actor=request.getfixturevalue(persona), delivery=failed)
    assert _reload(failed).status == Status.FAILED


def test_a_delivered_notice_cannot_be_retried(delivery, superuser):
    deliveries.attempt(delivery_id=delivery.pk)

    with pytest.raises(ValidationError):
        deliveries.retry_now(actor=superuser, delivery=delivery)


def test_a_suppressed_address_must_be_cleared_before_a_retry(failed, superuser):
    Suppression.objects.create(address=failed.recipient, reason="550")

    with pytest.raises(ValidationError, match="clear it first"):
        deliveries.retry_now(actor=superuser, delivery=failed)


def test_a_retry_after_beyond_the_window_fails_that_delivery_and_the_batch_is_recorded(
    make_notice, watched
):
    """A server asking to wait years (``Retry-After: 99999999999999``) must not overflow the
    recording of the batch: that delivery fails (we will not wait that long), the other one of
    the batch is recorded as delivered, nothing is left "sending"."""
    first, second = make_notice().deliveries.get(), make_notice().deliveries.get()
    sent = []

    class OneSlowServer(WatchedTransport):
        def deliver(self, prepared, recipient):
            if not sent:
                sent.append(recipient)
                raise TransportError("429 Too Many Requests", retry_after=99999999999999.0)
            super().deliver(prepared, recipient)

    deliveries.transport_for = lambda channel: OneSlowServer()  # undone by ``watched``

    deliveries.attempt_many(delivery_ids=[first.pk, second.pk])

    assert _reload(first).status == Status.FAILED
    assert "Gave up" in first.last_error
    assert _reload(second).status == Status.DELIVERED
    assert not Delivery.objects.filter(status=Status.SENDING).exists()
