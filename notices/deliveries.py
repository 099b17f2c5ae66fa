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

import functools
import logging
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import F, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from accounts.storage import StorageUnavailable

from .attachments import batch_reads
from .models import Delivery, DeliveryAttempt, NoticeAttachment, Suppression
from .transports import Transport, TransportError, transport_for
from .webhooks import endpoint_disable

logger = logging.getLogger(__name__)

Status = Delivery.Status
Result = DeliveryAttempt.Result


# --- Waking a worker ---------------------------------------------------------------------------


def _chunks(ids: list[int], size: int):
    size = max(size, 1)
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def publish(delivery_ids, *, countdown: float | None = None, from_request: bool = True) -> int:
    """Wake workers for these deliveries: one ``deliveries_attempt`` message per batch of
    ``NOTICES_BATCH_SIZE`` ids. Returns how many deliveries were published.

    Never raises. From a request it goes through ``accounts.broker.publish``: about a second
    at most with the broker down or hung, then this process skips the broker for
    ``BROKER_PUBLISH_PAUSE`` seconds; the rest is left to the sweep. In the worker (the sweep,
    short retries) each batch gets the bounded ``CELERY_TASK_PUBLISH_RETRY_POLICY``.
    """
    from accounts import broker

    from .tasks import deliveries_attempt

    delivery_ids = list(delivery_ids)
    sent = 0
    for chunk in _chunks(delivery_ids, settings.NOTICES_BATCH_SIZE):
        if from_request:
            if not broker.publish(deliveries_attempt, args=(chunk,), countdown=countdown):
                break
        else:
            try:
                deliveries_attempt.apply_async(
                    (chunk,),
                    countdown=countdown,
                    retry=True,
                    retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY,
                )
            except Exception:  # any broker error: the next sweep tries again
                logger.warning("Broker unreachable", exc_info=True)
                break
        sent += len(chunk)
    if sent < len(delivery_ids):
        logger.warning("%d deliveries left for the sweep", len(delivery_ids) - sent)
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
        transaction.on_commit(lambda: publish(ids), robust=True)


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
    transaction.on_commit(lambda: publish(ids), robust=True)


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
    # earlier one of the batch: waits as long), "time" (the lease could no longer be trusted:
    # due now) or "database" (the database failed us, not the recipient: due now).
    released: str = ""


# Errors that mean the connection to the database broke (cut, restarted, timed out), or on
# SQLite that it stayed locked: worth a new connection and another try.
_RECONNECTABLE = (OperationalError, InterfaceError)


def _db(fn, *, what: str):
    """Run ``fn`` (database work, in autocommit), reconnecting and trying again while the
    database is unreachable — for up to ``NOTICES_DB_RETRY_SECONDS``. A lost connection is
    the portal's trouble, not the recipient's: it never counts as a failed attempt."""
    deadline = time.monotonic() + settings.NOTICES_DB_RETRY_SECONDS
    pause = 0.2
    while True:
        try:
            return fn()
        except _RECONNECTABLE as exc:
            if connection.in_atomic_block or time.monotonic() + pause > deadline:
                raise
            logger.warning("Database error while %s; reconnecting: %s", what, exc)
            try:
                connection.close()
            except Exception:  # already broken: a new connection is opened on next use
                pass
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


class _LeaseKeeper:
    """Renews the leases of the deliveries a worker still holds, every third of
    ``NOTICES_LEASE_SECONDS``, from a thread of its own (with its own database connection).

    So leases can be short: a worker killed mid-batch leaves what it held to the sweep within
    one lease, while a worker that is alive never loses a lease to a slow server. A send only
    starts while the last renewal is recent enough to cover it (``trusted``); a delivery whose
    lease was taken over meanwhile is dropped from ``held`` and never sent by this worker.

    Inside a transaction (tests that wrap everything in one) another connection could not see
    the claimed rows: the keeper does not run, and the claim's own lease applies.
    """

    def __init__(self, tokens: dict[int, int]):
        self.held = dict(tokens)  # id → token, until recorded
        self.lost: set[int] = set()
        self.renewed_at = time.monotonic()  # the claim itself
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        if not connection.in_atomic_block and settings.NOTICES_LEASE_SECONDS > 0:
            self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
            self._thread.start()

    def trusted(self) -> bool:
        """Whether a new send may start: the lease, as last renewed, still has at least half of
        its length to run."""
        return time.monotonic() - self.renewed_at < settings.NOTICES_LEASE_SECONDS / 2

    def done(self, pk: int) -> None:
        with self._lock:
            self.held.pop(pk, None)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=settings.NOTICES_LEASE_SECONDS)

    def _run(self) -> None:
        period = settings.NOTICES_LEASE_SECONDS / 3
        try:
            while not self._stop.wait(period):
                with self._lock:
                    pairs = list(self.held.items())
                if not pairs:
                    continue
                started = time.monotonic()
                try:
                    renewed = _renew(pairs)
                except DatabaseError as exc:
                    logger.warning("Lease renewal failed; trying again: %s", exc)
                    try:
                        connection.close()
                    except Exception:
                        pass
                    continue
                with self._lock:
                    for pk, _token in pairs:
                        if pk not in renewed and pk in self.held:
                            self.held.pop(pk)
                            self.lost.add(pk)
                self.renewed_at = started
        finally:
            connection.close()  # this thread's own connection


def _renew(pairs: list[tuple[int, int]]) -> set[int]:
    """Extend the leases of these (id, token) pairs that are still ours; returns their ids."""
    table = connection.ops.quote_name(Delivery._meta.db_table)
    marks = ", ".join(["(%s, %s)"] * len(pairs))
    lease_until = timezone.now() + timedelta(seconds=settings.NOTICES_LEASE_SECONDS)
    sql = (
        f"UPDATE {table} SET lease_until = %s WHERE (id, attempts) IN (VALUES {marks}) "
        "AND status = %s RETURNING id"
    )
    params = [connection.ops.adapt_datetimefield_value(lease_until)]
    for pk, token in pairs:
        params += [pk, token]
    params.append(Status.SENDING.value)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def attempt(*, delivery_id: int) -> str | None:
    """Claim, send and record one delivery. Returns the resulting status, or None when the
    delivery was not ours to send (someone else holds it, it is not due, or it is done)."""
    return attempt_many(delivery_ids=[delivery_id]).get(int(delivery_id))


def attempt_many(*, delivery_ids) -> dict[int, str]:
    """Claim, send and record deliveries, ``NOTICES_BATCH_SIZE`` at a time: one claim and one
    load per batch, each message sent outside any transaction and its outcome recorded as soon
    as it is known. Returns ``{id: status}`` for the deliveries that were ours."""
    results: dict[int, str] = {}
    for chunk in _chunks(list(delivery_ids), settings.NOTICES_BATCH_SIZE):
        results.update(_attempt_batch(chunk))
    return results


def _load(tokens: dict[int, int]) -> list[Delivery]:
    active = Suppression.objects.active().filter(address=OuterRef("recipient"))
    attachments = NoticeAttachment.objects.select_related("blob").order_by("pk")
    return list(
        Delivery.objects.filter(pk__in=list(tokens))
        .select_related("notice__developer", "notice__reminds")
        .prefetch_related(Prefetch("notice__attachments", queryset=attachments))
        .annotate(suppressed_since=Subquery(active.values("created_at")[:1]))
        .order_by("pk")
    )


def _unexpected(exc: Exception) -> TransportError:
    return TransportError(f"Unexpected error: {type(exc).__name__}: {exc}")


def _unreadable(delivery: Delivery, exc: OSError) -> TransportError:
    """An attachment's stored file could not be read: the portal's trouble, not the
    recipient's — a temporary failure, tried again on the usual schedule (an operator may
    bring the store back, or the file), never a lost or refused notice."""
    if isinstance(exc, StorageUnavailable):
        logger.warning("Delivery %s: the file store did not answer: %s", delivery.pk, exc)
        message = f"The file store did not answer, so the attachments could not be read: {exc}"
    else:
        logger.error("Delivery %s: an attachment's stored file is missing: %s", delivery.pk, exc)
        message = f"An attachment's stored file is missing from the file store: {exc}"
    return TransportError(message)


# While a batch runs, the interpreter hands the GIL over every 0.2 ms instead of every 5: the
# sender thread's turns (a reply read, a statement sent) are short and frequent, and with the
# default interval each waited behind this thread building the next letter. Measured with
# ``bench notice_delivery``: about 0.24× raw smtplib with the default, 0.27–0.31× with this.
SENDER_SWITCH_INTERVAL = 0.0002


class _Sender:
    """Prepares and sends a batch's messages: the network part (``Transport.deliver``) on one
    sender thread per worker process (which keeps the SMTP connection), while this thread
    prepares the next message — building and encoding a letter costs about as much as sending
    it. No transaction is open while the network is used, and a message is sent only after
    the outcome of the one before it was recorded."""

    _pool: ThreadPoolExecutor | None = None

    def __init__(self):
        self._ready: dict[int, object] = {}  # delivery id → prepared message, or TransportError
        if _Sender._pool is None:
            _Sender._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notice-send")

    def _prepare(self, delivery: Delivery):
        """The prepared message, or the ``TransportError`` that preparing it raised. A database
        failure is retried on a new connection and, if it lasts, raised: it is ours, not the
        recipient's."""
        transport = transport_for(delivery.channel)
        try:
            return _db(lambda: transport.prepare(delivery), what="preparing a message")
        except TransportError as exc:
            return exc
        except DatabaseError:
            raise
        except (StorageUnavailable, FileNotFoundError) as exc:
            return _unreadable(delivery, exc)
        except Exception as exc:  # a bug: retried like a 4xx
            logger.exception("Delivery %s: unexpected error", delivery.pk)
            return _unexpected(exc)

    def prepare_ahead(self, delivery: Delivery | None) -> None:
        if delivery is None or delivery.pk in self._ready:
            return
        try:
            self._ready[delivery.pk] = self._prepare(delivery)
        except DatabaseError:  # prepared again in its turn
            pass

    def run(self, fn):
        """Run ``fn`` on the sender thread (with its database connection) and return its result."""
        return self._pool.submit(fn).result()

    def prepared(self, delivery: Delivery):
        """The delivery's prepared message (made ahead, or now), or the ``TransportError`` that
        preparing it raised. Raises ``DatabaseError`` if the database stays unreachable."""
        prepared = self._ready.pop(delivery.pk, None)
        return prepared if prepared is not None else self._prepare(delivery)

    def send(self, outcome: Outcome, prepared, record, upcoming: Delivery | None = None):
        """Send one prepared delivery and ``record(outcome)`` — both on the sender thread, while
        this one prepares ``upcoming`` — and return what ``record`` returned. Outside a
        transaction the sender thread records on its own database connection; inside one (tests
        that wrap everything in one) another connection could not see the rows, so this thread
        records. A ``DatabaseError`` from recording is raised: the message went, its outcome
        could not be written."""
        delivery = outcome.delivery
        if isinstance(prepared, TransportError):
            outcome.error = prepared
            outcome.finished_at = timezone.now()
            return record(outcome)
        here = connection.in_atomic_block
        transport = transport_for(delivery.channel)
        future = self._pool.submit(
            self._deliver, transport, prepared, outcome, None if here else record
        )
        self.prepare_ahead(upcoming)
        recorded = future.result()
        return record(outcome) if here else recorded

    @staticmethod
    def _deliver(transport: Transport, prepared, outcome: Outcome, record):
        outcome.started_at = timezone.now()
        try:
            transport.deliver(prepared, outcome.delivery.recipient)
        except TransportError as exc:
            outcome.error = exc
        except Exception as exc:  # a bug or an unexpected library error: retried like a 4xx
            logger.error("Delivery %s: unexpected error", outcome.delivery.pk, exc_info=exc)
            outcome.error = _unexpected(exc)
        outcome.finished_at = timezone.now()
        return record(outcome) if record is not None else None


def _server(delivery) -> str:
    """What an "unreachable" failure is about: the one SMTP server every email goes through, or
    a webhook's host — a developer's endpoint being down holds back nothing else."""
    if delivery.channel == Delivery.Channel.WEBHOOK:
        return f"webhook:{(urlsplit(delivery.recipient).hostname or '').lower()}"
    return "email"


def _attempt_batch(delivery_ids: list[int]) -> dict[int, str]:
    """Claim a batch, then send each delivery in turn and record its outcome at once.

    A worker killed at any point re-sends at most the one message it was sending (the server
    may have taken it before the outcome was written); the rest of what it held comes back
    with the sweep once its lease — short, and renewed only while the worker lives — expires.
    """
    tokens = _db(lambda: claim_many(delivery_ids), what="claiming deliveries")
    if not tokens:
        return {}
    results: dict[int, str] = {}
    retries: dict[float, list[int]] = {}
    halted: dict[str, object] = {}  # servers that stopped answering → when to try them again
    keeper = _LeaseKeeper(tokens)
    sender = _Sender()
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(SENDER_SWITCH_INTERVAL)
    try:
        # Each attachment is read from storage once per batch (kept while still needed).
        with _quick_commits(sender), batch_reads() as reads:
            batch = _db(lambda: _load(tokens), what="loading deliveries")
            reads.expect(batch)
            for index, delivery in enumerate(batch):
                upcoming = batch[index + 1] if index + 1 < len(batch) else None
                if upcoming is not None and (
                    upcoming.suppressed_since is not None or _server(upcoming) in halted
                ):
                    upcoming = None  # will not be sent: nothing to prepare
                now = timezone.now()
                outcome = Outcome(delivery, tokens[delivery.pk], now, now)
                server = _server(delivery)
                if delivery.pk in keeper.lost:  # another worker holds it now
                    continue

                record = functools.partial(_record_retrying, due_if_released=halted.get(server))
                recorded = None
                if delivery.suppressed_since is not None:  # suppressed since it was queued
                    outcome.suppressed_since = delivery.suppressed_since
                elif server in halted:
                    outcome.released = "unreachable"
                elif results and not keeper.trusted():
                    outcome.released = "time"
                else:
                    try:
                        prepared = sender.prepared(delivery)
                    except DatabaseError:  # nothing sent: handed back, not an attempt
                        logger.exception("Delivery %s: the database failed", delivery.pk)
                        outcome.released = "database"
                    else:
                        # A DatabaseError from here on ends the batch: the message went but
                        # its outcome could not be written; the sweep sends it again.
                        recorded = sender.send(outcome, prepared, record, upcoming)
                status, countdown, due = recorded or record(outcome)
                keeper.done(delivery.pk)
                if status is None:
                    continue
                results[delivery.pk] = status
                if outcome.error is not None and outcome.error.unreachable and due is not None:
                    halted[server] = due
                if countdown is not None:
                    retries.setdefault(countdown, []).append(delivery.pk)
    finally:
        sys.setswitchinterval(switch_interval)
        keeper.stop()
    for countdown, ids in retries.items():
        publish(ids, countdown=countdown or None, from_request=False)
    return results


def _fields(outcome: Outcome, now) -> tuple[dict, tuple, float | None]:
    """For one outcome: what to write to the delivery, the attempt row (result, error, code),
    and the countdown of a short retry (or None)."""
    delivery, token, error = outcome.delivery, outcome.token, outcome.error
    if outcome.suppressed_since is not None:
        message = f"On the suppression list since {outcome.suppressed_since:%Y-%m-%d}."
        fields = {"status": Status.SUPPRESSED, "last_error": message}
        return fields, (Result.PERMANENT, message, None), None
    if error is None:  # delivered when the server took it, not when this was written
        fields = {"status": Status.DELIVERED, "delivered_at": outcome.finished_at, "last_error": ""}
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


def _record_one(outcome: Outcome, *, due_if_released=None):
    """Write one outcome and end its lease, in one short transaction, as soon as it is known.
    Returns ``(status, countdown, next_attempt_at)``; status is None when the lease was lost
    to another worker (the attempt is still recorded; the newer attempt's outcome counts).

    A delivery handed back untried is not an attempt: its claim is undone, due when the server
    that failed earlier in the batch will be tried again (``due_if_released``) or at once."""
    now = timezone.now()
    pk = outcome.delivery.pk
    if outcome.released:
        due = due_if_released if outcome.released == "unreachable" and due_if_released else now
        with transaction.atomic():
            _ours(outcome).update(
                status=Status.QUEUED,
                lease_until=None,
                attempts=F("attempts") - 1,
                next_attempt_at=due,
            )
        return Status.QUEUED, (0 if outcome.released != "unreachable" else None), due
    try:
        fields, row, countdown = _fields(outcome, now)
    except Exception:  # one odd outcome must not go unrecorded
        logger.exception("Delivery %s: outcome not understood", pk)
        message = f"Outcome not understood: {outcome.error or 'sent'}"
        due = now + timedelta(seconds=backoff(outcome.token))
        fields = {"status": Status.QUEUED, "next_attempt_at": due, "last_error": message}
        row, countdown = (Result.TEMPORARY, message, None), None
    result, error, code = row
    if fields["status"] == Status.DELIVERED:  # the usual case, in two plain statements
        return _record_delivered(outcome), None, None
    with transaction.atomic():
        ours = bool(_ours(outcome).update(lease_until=None, **fields))
        if ours and outcome.error is not None and outcome.error.suppress:
            _suppress(outcome.delivery, outcome.error)
        if ours and outcome.error is not None and outcome.error.disable:
            endpoint_disable(outcome.delivery, outcome.error.message)
        DeliveryAttempt.objects.create(
            delivery_id=pk,
            started_at=outcome.started_at,
            finished_at=outcome.finished_at,
            result=result,
            error=error[:2000],
            code=code,
        )
    if not ours:
        logger.warning("Delivery %s: lease lost before recording its attempt", pk)
        return None, None, None
    return fields["status"], countdown, fields.get("next_attempt_at")


def _record_delivered(outcome: Outcome) -> str | None:
    """``_record_one`` for a message the server took: the delivery (if still ours) and its
    attempt, together — on PostgreSQL in one statement (a data-modifying ``WITH``), elsewhere
    in one short transaction of two."""
    adapt = connection.ops.adapt_datetimefield_value
    delivery_table = connection.ops.quote_name(Delivery._meta.db_table)
    attempt_table = connection.ops.quote_name(DeliveryAttempt._meta.db_table)
    pk, token = outcome.delivery.pk, outcome.token
    update = (
        f"UPDATE {delivery_table} SET status = %s, delivered_at = %s, lease_until = NULL, "
        "last_error = '' WHERE id = %s AND attempts = %s AND status IN (%s, %s)"
    )
    update_params = [
        Status.DELIVERED.value,
        adapt(outcome.finished_at),
        pk,
        token,
        Status.QUEUED.value,
        Status.SENDING.value,
    ]
    insert = (
        f"INSERT INTO {attempt_table} (delivery_id, started_at, finished_at, result, error, "
        "code) VALUES (%s, %s, %s, %s, '', NULL)"
    )
    insert_params = [
        pk,
        adapt(outcome.started_at),
        adapt(outcome.finished_at),
        Result.DELIVERED.value,
    ]
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH done AS ({update} RETURNING id), logged AS ({insert}) "
                "SELECT count(*) FROM done",
                update_params + insert_params,
            )
            ours = cursor.fetchone()[0] == 1
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(update, update_params)
            ours = cursor.rowcount == 1
            cursor.execute(insert, insert_params)
    if not ours:
        logger.warning("Delivery %s: lease lost before recording its attempt", pk)
        return None
    return Status.DELIVERED


def sender_connection_close(timeout: float = 10.0) -> None:
    """Close the sender thread's database connection, which it otherwise keeps between
    batches (Django's connections are per thread). For a process about to drop the database
    under it — the test run, before its test database is destroyed."""
    if _Sender._pool is not None:
        # The lambda looks ``connection`` up in the sender thread: its own connection.
        _Sender._pool.submit(lambda: connection.close()).result(timeout=timeout)


@contextmanager
def _quick_commits(sender: "_Sender"):
    """On PostgreSQL, the batch's commits do not wait for the disk (``synchronous_commit =
    off`` for the batch, on this thread's connection and on the sender thread's, which records
    the outcomes): an outcome is visible to every other connection at once and on disk within a
    fraction of a second. Only a crash of the database server itself in that fraction could
    forget one — and the sweep then sends that message again under the same identity, exactly
    as after a killed worker."""
    quick = connection.vendor == "postgresql" and not connection.in_atomic_block
    if quick:
        _db(lambda: _synchronous_commit(quick=True), what="starting a batch")
        sender.run(lambda: _db(lambda: _synchronous_commit(quick=True), what="starting a batch"))
    try:
        yield
    finally:
        if quick:
            for run in (lambda fn: fn(), sender.run):
                try:
                    run(lambda: _synchronous_commit(quick=False))
                except DatabaseError:  # a connection lost meanwhile starts with the default
                    pass


def _synchronous_commit(*, quick: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off" if quick else "RESET synchronous_commit")


def _record_retrying(outcome: Outcome, *, due_if_released=None):
    """``_record_one``, reconnecting while the database is unreachable."""
    return _db(
        lambda: _record_one(outcome, due_if_released=due_if_released),
        what="recording an outcome",
    )


def _record(outcomes: list[Outcome]) -> dict[int, str]:
    """Record several outcomes (each in its own transaction). Returns ``{id: status}`` for
    those still ours."""
    results = {}
    for outcome in outcomes:
        status, _countdown, _due = _record_one(outcome)
        if status is not None:
            results[outcome.delivery.pk] = status
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
