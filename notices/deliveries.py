"""A delivery's life after its notice is committed: woken, claimed, sent, recorded, retried.

The database, not the broker, says what is left to do. A message on the broker only wakes a
worker; losing it loses nothing, because ``sweep`` (beat) re-queues every delivery that is due
and unclaimed and every one whose lease expired.

Deliveries travel in batches of up to ``NOTICES_BATCH_SIZE``: one broker message, one claim,
one load and one recording transaction per batch, the messages going out one by one over one
kept SMTP connection in between.

- **Claim**: one conditional UPDATE (pending, due, not leased — or leased with an expired
  lease) sets ``status=sending``, a lease and ``attempts + 1``, and returns the new count: the
  worker's token. Only the holder of the latest token records an outcome, so a worker that
  lost its lease cannot overwrite a newer attempt.
- **Send**: outside any database transaction (a slow mail server must not hold locks). An
  address suppressed meanwhile is not sent to. When the server itself is down (no connection,
  a timeout) the rest of the batch is handed back untried, to wait as long as the first; no
  new send starts once half the lease is gone, the rest is handed back due at once.
- **Record**: one short transaction writes every attempt and outcome and ends the leases.
- **Retry**: temporary failures come back after an exponential back-off with jitter, kept in
  ``next_attempt_at`` (a retry due within ``NOTICES_RETRY_COUNTDOWN_MAX`` is also published
  with a countdown; longer ones wait for the sweep). A permanent refusal fails the delivery at
  once, and suppresses the address if the address was refused. Retries stop
  ``NOTICES_RETRY_LIMIT`` after the delivery was created (or last retried by staff): it is
  then *failed*, for staff to see and retry.

Delivery is at least once: a worker killed after the server took a message but before the
outcome was written sends it again once the lease expires — with the same ``Message-ID``.
"""

import logging
import random
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record

from .models import Delivery, DeliveryAttempt, Suppression
from .transports import TransportError, transport_for
from .webhooks import endpoint_disable

logger = logging.getLogger(__name__)

Status = Delivery.Status
Result = DeliveryAttempt.Result


# --- Waking a worker ---------------------------------------------------------------------------

_paused_until = 0.0  # per process: after a failed publish, requests skip the broker for a while


def _chunks(ids: list[int], size: int):
    size = max(size, 1)
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def publish(delivery_ids, *, countdown: float | None = None, from_request: bool = True) -> int:
    """Wake workers for these deliveries: one ``deliveries_attempt`` message per batch of
    ``NOTICES_BATCH_SIZE`` ids. Returns how many deliveries were published.

    Never raises: a broker that is down costs each caller at most one bounded publish retry
    (``CELERY_TASK_PUBLISH_RETRY_POLICY``), after which the rest is left to the sweep. After a
    failure, callers ``from_request`` skip the broker for ``NOTICES_ENQUEUE_PAUSE`` seconds, so
    a request that creates many notices does not wait once for each; the sweep always tries.
    """
    global _paused_until
    from .tasks import deliveries_attempt

    delivery_ids = list(delivery_ids)
    if not delivery_ids:
        return 0
    if from_request and time.monotonic() < _paused_until:
        logger.warning("Broker paused; %d deliveries left for the sweep", len(delivery_ids))
        return 0
    sent = 0
    try:
        for chunk in _chunks(delivery_ids, settings.NOTICES_BATCH_SIZE):
            deliveries_attempt.apply_async(
                (chunk,),
                countdown=countdown,
                retry=True,
                retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY,
            )
            sent += len(chunk)
    except Exception:  # any broker error: the sweep re-queues what is due
        _paused_until = time.monotonic() + settings.NOTICES_ENQUEUE_PAUSE
        logger.warning(
            "Broker unreachable; %d deliveries left for the sweep",
            len(delivery_ids) - sent,
            exc_info=True,
        )
    else:
        _paused_until = 0.0
    return sent


_together: ContextVar[list[int] | None] = ContextVar("notice_deliveries_together", default=None)


@contextmanager
def publishing_together():
    """Deliveries created inside are published in one go when the transaction commits — one
    wake-up for all of them (a removal approved for fifty developers is one broker message, not
    fifty). Use it inside the caller's transaction::

        with transaction.atomic(), publishing_together():
            for developer in developers:
                notice_create(developer=developer, ...)

    Ids of rows a rolled-back savepoint discarded may be published too: the worker's claim finds
    no such pending delivery and moves on."""
    ids: list[int] = []
    token = _together.set(ids)
    try:
        yield
    finally:
        _together.reset(token)
    if ids:
        transaction.on_commit(lambda: publish(ids))


def publish_on_commit(delivery_ids) -> None:
    """Publish these deliveries once the current transaction commits (with the others of a
    ``publishing_together()`` block, if inside one)."""
    ids = list(delivery_ids)
    if not ids:
        return
    together = _together.get()
    if together is not None:
        together.extend(ids)
        return
    transaction.on_commit(lambda: publish(ids))


# --- Back-off ------------------------------------------------------------------------------------


def backoff(attempts: int, *, rng=random) -> float:
    """Seconds before the next try after ``attempts`` tries: base × 2^(attempts−1), capped,
    then ± ``NOTICES_RETRY_JITTER`` so deliveries that failed together do not retry together."""
    exponent = min(max(attempts, 1) - 1, 60)
    delay = min(settings.NOTICES_RETRY_BASE * 2**exponent, settings.NOTICES_RETRY_MAX_DELAY)
    jitter = settings.NOTICES_RETRY_JITTER
    return delay * rng.uniform(1 - jitter, 1 + jitter)


# --- Claims --------------------------------------------------------------------------------------


def claim_many(delivery_ids, *, now=None) -> dict[int, int]:
    """Take these deliveries for this worker with one conditional UPDATE (pending, due, and
    not leased, or leased with an expired lease). Returns ``{id: token}`` for those taken; the
    token is the new attempt count. Others are not ours: someone holds them, they are not due,
    or they are done."""
    delivery_ids = [int(i) for i in delivery_ids]
    if not delivery_ids:
        return {}
    now = now or timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(Delivery._meta.db_table)
    marks = ", ".join(["%s"] * len(delivery_ids))
    sql = (
        f"UPDATE {table} SET status = %s, lease_until = %s, attempts = attempts + 1 "
        f"WHERE id IN ({marks}) AND status IN (%s, %s) AND next_attempt_at <= %s "
        "AND (lease_until IS NULL OR lease_until < %s) RETURNING id, attempts"
    )
    lease_until = now + timedelta(seconds=settings.NOTICES_LEASE_SECONDS)
    params = [Status.SENDING.value, adapt(lease_until), *delivery_ids]
    params += [Status.QUEUED.value, Status.SENDING.value, adapt(now), adapt(now)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def claim(delivery_id: int, *, now=None) -> int | None:
    """``claim_many`` for one delivery: its token, or None."""
    return claim_many([delivery_id], now=now).get(int(delivery_id))


# --- Attempts ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    delivery: Delivery
    token: int
    started_at: object
    finished_at: object
    error: TransportError | None = None
    suppressed_since: object = None  # the address was suppressed: not sent
    # Not tried, and not counted as an attempt: "unreachable" (the server was down for an
    # earlier one of the batch: waits as long) or "time" (the lease was half gone: due now).
    released: str = ""


def attempt(*, delivery_id: int) -> str | None:
    """Claim, send and record one delivery. Returns the resulting status, or None when the
    delivery was not ours to send (someone else holds it, it is not due, or it is done)."""
    return attempt_many(delivery_ids=[delivery_id]).get(int(delivery_id))


def attempt_many(*, delivery_ids) -> dict[int, str]:
    """Claim, send and record deliveries, ``NOTICES_BATCH_SIZE`` at a time: one claim, one
    load and one recording transaction per batch, each message sent outside any transaction.
    Returns ``{id: status}`` for the deliveries that were ours."""
    results: dict[int, str] = {}
    for chunk in _chunks(list(delivery_ids), settings.NOTICES_BATCH_SIZE):
        results.update(_attempt_batch(chunk))
    return results


def _load(tokens: dict[int, int]) -> list[Delivery]:
    active = Suppression.objects.active().filter(address=OuterRef("recipient"))
    return list(
        Delivery.objects.filter(pk__in=list(tokens))
        .select_related("notice__developer", "notice__reminds")
        .prefetch_related("notice__attachments")
        .annotate(suppressed_since=Subquery(active.values("created_at")[:1]))
        .order_by("pk")
    )


def _unexpected(exc: Exception) -> TransportError:
    return TransportError(f"Unexpected error: {type(exc).__name__}: {exc}")


def _send(outcome: Outcome) -> None:
    """Prepare and send one delivery, noting the outcome. Runs in autocommit: no transaction
    is open while the network is used."""
    delivery = outcome.delivery
    transport = transport_for(delivery.channel)
    try:
        prepared = transport.prepare(delivery)
        outcome.started_at = timezone.now()
        transport.deliver(prepared, delivery.recipient)
    except TransportError as exc:
        outcome.error = exc
    except Exception as exc:  # a bug or an unexpected library error: retried like a 4xx
        logger.exception("Delivery %s: unexpected error", delivery.pk)
        outcome.error = _unexpected(exc)
    outcome.finished_at = timezone.now()


def _server(delivery) -> str:
    """What an "unreachable" failure is about: the one SMTP server every email goes through, or
    a webhook's host — a developer's endpoint being down holds back nothing else."""
    if delivery.channel == Delivery.Channel.WEBHOOK:
        return f"webhook:{(urlsplit(delivery.recipient).hostname or '').lower()}"
    return "email"


def _attempt_batch(delivery_ids: list[int]) -> dict[int, str]:
    """Claim a batch, send each delivery in turn, then record them all.

    No new send starts once half the lease is gone (the other half is the margin for the
    send in progress, up to a few SMTP timeouts): the rest is released, due at once, so the
    sweep never finds a lease expired under a worker that is still busy.
    """
    tokens = claim_many(delivery_ids)
    if not tokens:
        return {}
    stop_at = time.monotonic() + settings.NOTICES_LEASE_SECONDS / 2
    outcomes: list[Outcome] = []
    halted: set[str] = set()  # servers that stopped answering: their other deliveries wait too
    for delivery in _load(tokens):
        now = timezone.now()
        outcome = Outcome(delivery, tokens[delivery.pk], now, now)
        server = _server(delivery)
        if delivery.suppressed_since is not None:  # suppressed since it was queued
            outcome.suppressed_since = delivery.suppressed_since
        elif server in halted:
            outcome.released = "unreachable"
        elif outcomes and time.monotonic() > stop_at:
            outcome.released = "time"
        else:
            _send(outcome)
            if outcome.error is not None and outcome.error.unreachable:
                halted.add(server)
        outcomes.append(outcome)
    return _record(outcomes)


def _fields(outcome: Outcome, now) -> tuple[dict, tuple, float | None]:
    """For one outcome: what to write to the delivery, the attempt row (result, error, code),
    and the countdown of a short retry (or None)."""
    delivery, token, error = outcome.delivery, outcome.token, outcome.error
    if outcome.suppressed_since is not None:
        message = f"On the suppression list since {outcome.suppressed_since:%Y-%m-%d}."
        fields = {"status": Status.SUPPRESSED, "last_error": message}
        return fields, (Result.PERMANENT, message, None), None
    if error is None:
        fields = {"status": Status.DELIVERED, "delivered_at": now, "last_error": ""}
        return fields, (Result.DELIVERED, "", None), None
    row = (Result.PERMANENT if error.permanent else Result.TEMPORARY, error.message, error.code)
    if error.permanent:
        return {"status": Status.FAILED, "last_error": error.message}, row, None
    delay = backoff(token)
    if error.retry_after is not None:  # the server said when (HTTP Retry-After): not sooner
        # Bounded: a wait past the retry window fails the delivery just below.
        delay = max(delay, min(float(error.retry_after), settings.NOTICES_RETRY_LIMIT + 1))
    limit = delivery.window_started_at + timedelta(seconds=settings.NOTICES_RETRY_LIMIT)
    if now + timedelta(seconds=delay) > limit:
        message = f"Gave up after {token} attempts: {error.message}"
        return {"status": Status.FAILED, "last_error": message}, row, None
    fields = {
        "status": Status.QUEUED,
        "next_attempt_at": now + timedelta(seconds=delay),
        "last_error": error.message,
    }
    return fields, row, (delay if delay <= settings.NOTICES_RETRY_COUNTDOWN_MAX else None)


def _ours(outcome: Outcome):
    """The delivery, if no other worker has claimed it since (its token is still current)."""
    return Delivery.objects.filter(
        pk=outcome.delivery.pk, attempts=outcome.token, status__in=Delivery.PENDING
    )


def _mark_delivered(outcomes: list[Outcome], now) -> None:
    """One UPDATE for every delivery of the batch that went through and is still ours:
    ``(id, attempts) IN (VALUES …)``, row values that PostgreSQL and SQLite both take."""
    table = connection.ops.quote_name(Delivery._meta.db_table)
    pairs = ", ".join(["(%s, %s)"] * len(outcomes))
    sql = (
        f"UPDATE {table} SET status = %s, delivered_at = %s, lease_until = NULL, "
        f"last_error = '' WHERE (id, attempts) IN (VALUES {pairs}) AND status IN (%s, %s)"
    )
    params = [Status.DELIVERED.value, connection.ops.adapt_datetimefield_value(now)]
    for outcome in outcomes:
        params += [outcome.delivery.pk, outcome.token]
    params += [Status.QUEUED.value, Status.SENDING.value]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _record(outcomes: list[Outcome]) -> dict[int, str]:
    """Write every outcome of a batch and end its leases, in one short transaction. A worker
    that lost a lease (another one claimed the delivery since) records its attempt but does
    not overwrite the delivery: the newer attempt's outcome counts."""
    now = timezone.now()
    plans = []
    released_until = now  # deliveries never tried wait as long as the one that found it down
    for outcome in outcomes:
        if outcome.released:
            continue
        try:
            fields, row, countdown = _fields(outcome, now)
        except Exception:  # one odd outcome must not leave the whole batch unrecorded
            logger.exception("Delivery %s: outcome not understood", outcome.delivery.pk)
            message = f"Outcome not understood: {outcome.error or 'sent'}"
            due = now + timedelta(seconds=backoff(outcome.token))
            fields = {"status": Status.QUEUED, "next_attempt_at": due, "last_error": message}
            row, countdown = (Result.TEMPORARY, message, None), None
        if outcome.error is not None and outcome.error.unreachable:
            released_until = fields.get("next_attempt_at", now)
        plans.append((outcome, fields, row, countdown))
    results: dict[int, str] = {}
    retries: dict[float, list[int]] = {}
    with transaction.atomic():
        delivered = [plan[0] for plan in plans if plan[1]["status"] == Status.DELIVERED]
        if delivered:  # the usual case: one UPDATE for the whole batch
            _mark_delivered(delivered, now)
        for outcome, fields, _row, countdown in plans:
            pk = outcome.delivery.pk
            results[pk] = fields["status"]
            if fields["status"] == Status.DELIVERED:
                continue
            if not _ours(outcome).update(lease_until=None, **fields):
                logger.warning("Delivery %s: lease lost before recording its attempt", pk)
                continue
            if outcome.error is not None and outcome.error.suppress:
                _suppress(outcome.delivery, outcome.error)
            if outcome.error is not None and outcome.error.disable:
                endpoint_disable(outcome.delivery, outcome.error.message)
            if countdown is not None:
                retries.setdefault(countdown, []).append(pk)
        for outcome in outcomes:
            if outcome.released:  # not an attempt: the claim is undone
                due = released_until if outcome.released == "unreachable" else now
                _ours(outcome).update(
                    status=Status.QUEUED,
                    lease_until=None,
                    attempts=F("attempts") - 1,
                    next_attempt_at=due,
                )
                results[outcome.delivery.pk] = Status.QUEUED
                if outcome.released == "time":
                    retries.setdefault(0, []).append(outcome.delivery.pk)
        DeliveryAttempt.objects.bulk_create(
            DeliveryAttempt(
                delivery_id=outcome.delivery.pk,
                started_at=outcome.started_at,
                finished_at=outcome.finished_at,
                result=result,
                error=error[:2000],
                code=code,
            )
            for outcome, _fields_, (result, error, code), _countdown in plans
        )
    for countdown, ids in retries.items():
        publish(ids, countdown=countdown or None, from_request=False)
    return results


def _suppress(delivery: Delivery, outcome: TransportError) -> None:
    address = delivery.recipient.strip().lower()
    if Suppression.objects.active().filter(address=address).exists():
        return
    try:
        with transaction.atomic():  # a savepoint: a concurrent suppression of the address wins
            Suppression.objects.create(
                address=address, reason=outcome.message[:2000], code=outcome.code, delivery=delivery
            )
    except IntegrityError:
        pass


# --- The sweep -----------------------------------------------------------------------------------


def due_ids(*, now=None, limit: int | None = None) -> list[int]:
    """Deliveries that should be running but may have no message on the broker: queued and
    due for longer than ``NOTICES_SWEEP_GRACE``, or sending with an expired lease. Oldest
    first; reads only the ``delivery_due`` partial index."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.NOTICES_SWEEP_GRACE)
    return list(
        Delivery.objects.filter(status__in=Delivery.PENDING, next_attempt_at__lte=now - grace)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: limit or settings.NOTICES_SWEEP_BATCH]
    )


def sweep(now=None) -> int:
    """Re-queue what is due and unclaimed and what a dead worker left behind (at most
    ``NOTICES_SWEEP_BATCH``, oldest first); returns how many deliveries were published. Safe
    to run anywhere, any number of times: a delivery is sent only by whoever wins its claim."""
    now = now or timezone.now()
    ids = due_ids(now=now)
    if not ids:
        return 0
    # Leases that expired: back to "queued" (staff see it waiting, not "sending" forever).
    Delivery.objects.filter(pk__in=ids, status=Status.SENDING, lease_until__lt=now).update(
        status=Status.QUEUED, lease_until=None
    )
    return publish(ids, from_request=False)


# --- Staff ---------------------------------------------------------------------------------------


def _suppression_for(address: str) -> Suppression | None:
    return Suppression.objects.active().filter(address=address.strip().lower()).first()


def retry_now(*, actor: User, delivery: Delivery) -> Delivery:
    """Send a failed (or suppressed, or waiting) delivery again now, with a new retry window.
    Attempts are kept. Registry managers and superusers only."""
    if not (actor is not None and actor.is_authenticated and actor.can_manage_registry):
        raise PermissionDenied("Only registry managers and superusers retry deliveries.")
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status in (Status.DELIVERED, Status.SENDING):
            raise ValidationError(
                f"This delivery is {delivery.get_status_display().lower()}: nothing to retry."
            )
        if _suppression_for(delivery.recipient) is not None:
            raise ValidationError(
                f"{delivery.recipient} is on the suppression list: clear it first, then retry."
            )
        before = {"status": delivery.status, "last_error": delivery.last_error}
        now = timezone.now()
        delivery.status = Status.QUEUED
        delivery.next_attempt_at = now
        delivery.window_started_at = now
        delivery.lease_until = None
        delivery.save(
            update_fields=["status", "next_attempt_at", "window_started_at", "lease_until"]
        )
        audit_record(
            actor=actor,
            action="delivery.retry",
            obj=delivery,
            before=before,
            after={"status": delivery.status, "recipient": delivery.recipient},
        )
        publish_on_commit([delivery.pk])
    return delivery
