"""Nothing is lost, nothing is delivered under two identities — with real parts.

A real SMTP server (aiosmtpd on loopback) and a real ``celery worker`` process that shares the
test database and broker. Timings are shrunk through settings (the same ``NOTICES_*`` values in
the worker's environment and in this process); beat is not started: the test calls
``deliveries.sweep()`` and ``deadlines.deadlines_run()`` itself, as beat would.

1. The broker is unreachable when the notice is committed: on Redis, a private
   ``redis-server`` that the test stops and restarts (never the shared one); on the embedded
   default, a broker folder this process cannot write to. The request does not block, and the
   sweep delivers the notice once the broker is back.
2. The worker is killed with SIGKILL while the SMTP server is taking the message: once a new
   worker runs and the lease has expired, the sweep has it sent again — with the same
   ``Message-ID`` on every copy the server saw.
3. SMTP 451 then 250: delivered on the retry. 550: failed at once, the address suppressed.
4. Deadlines: the reminders are sent, the notice becomes overdue, the handler runs once.

Each test ends by counting every notice: every delivery in its final state, every delivered
one seen by the server, every message the server saw carrying the identity of exactly one
delivery (copies of one delivery share it).
"""

import asyncio
import os
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from accounts import broker
from notices import deliveries, handlers
from notices.deadlines import deadlines_run
from notices.models import Delivery, DeliveryAttempt, Notice, Suppression
from portal.celery import app as celery_app
from tests import factories
from tests.services import RecordingHandler, SMTPServer, WorkerProcess, wait_for

from .brokers import PrivateRedis, use_broker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

Status = Delivery.Status

# The engine's timings, shrunk: for the worker (environment) and this process (settings).
TIMINGS = {
    "NOTICES_RETRY_BASE": 0.2,
    "NOTICES_RETRY_MAX_DELAY": 1.0,
    "NOTICES_RETRY_JITTER": 0.2,
    "NOTICES_RETRY_COUNTDOWN_MAX": 5.0,
    "NOTICES_LEASE_SECONDS": 2.0,
    "NOTICES_SMTP_TIMEOUT": 5.0,
    "NOTICES_SWEEP_GRACE": 0.0,
}
REDIS_LEG = django_settings.CELERY_BROKER_URL.startswith("redis")


class Engine:
    """Starts (and restarts) real workers against one SMTP server and one broker."""

    def __init__(self, broker_env, smtp, tmp_path, settings):
        self.broker_env = dict(broker_env)
        self.smtp = smtp
        self.tmp_path = tmp_path
        self.workers: list[WorkerProcess] = []
        for name, value in TIMINGS.items():
            setattr(settings, name, value)

    def start_worker(self, timings: dict | None = None, **env) -> WorkerProcess:
        worker = WorkerProcess(
            {**self.broker_env, **env},
            extra_env={
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(self.smtp.port),
                **{name: str(value) for name, value in {**TIMINGS, **(timings or {})}.items()},
            },
            log_path=self.tmp_path / f"worker-{len(self.workers)}.log",
        )
        self.workers.append(worker)
        return worker.start()

    def logs(self) -> str:
        return "\n".join(w.log().decode(errors="replace")[-3000:] for w in self.workers)

    def wait(self, predicate, what: str, timeout: float = 20.0):
        try:
            return wait_for(predicate, timeout=timeout, interval=0.1, what=what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- worker logs ---\n{self.logs()}") from None

    def stop(self):
        for worker in self.workers:
            worker.stop()


def _start_smtp(handler=None) -> SMTPServer:
    server = SMTPServer()
    if handler is not None:
        server.handler = handler
        server.controller.handler = handler
    return server.start()


@pytest.fixture
def engine_factory(broker_env, tmp_path, settings):
    made = []

    def make(smtp):
        engine = Engine(broker_env, smtp, tmp_path, settings)
        made.append(engine)
        return engine

    celery_app.conf.task_always_eager = False
    broker.reset()
    try:
        yield make
    finally:
        celery_app.conf.task_always_eager = True
        broker.reset()
        for engine in made:
            engine.stop()


@pytest.fixture
def developer(db):
    developer = factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")
    factories.DeveloperContactFactory(developer=developer, email="legal@example-ai.example")
    return developer


def _notice(developer, n: int, **fields) -> Notice:
    from notices.services import notice_create

    with transaction.atomic():  # the caller's transaction: the event and its notice
        return notice_create(
            developer=developer,
            topic=f"test:{n}",
            key=f"test:{n}:developer:{developer.pk}",
            subject=f"Notice {n}",
            text=f"Please stop using work {n}.",
            **fields,
        )


def _statuses() -> Counter:
    return Counter(Delivery.objects.values_list("status", flat=True))


def _all_final() -> bool:
    return not Delivery.objects.filter(status__in=Delivery.PENDING).exists()


def account_for_every_notice(smtp: SMTPServer) -> Counter:
    """None lost, none under two identities. Returns the copies the server saw per identity."""
    assert _all_final(), f"deliveries still pending: {_statuses()}"
    by_identity = {d.identity: d for d in Delivery.objects.select_related("notice")}
    assert len(by_identity) == Delivery.objects.count()  # one identity per delivery
    copies = Counter(message["Message-ID"] for message in smtp.messages)
    foreign = set(copies) - set(by_identity)
    assert not foreign, f"messages under identities no delivery has: {foreign}"
    for identity, delivery in by_identity.items():
        if delivery.status == Status.DELIVERED:
            assert copies[identity] >= 1, f"{delivery} is marked delivered but never arrived"
            message = next(m for m in smtp.messages if m["Message-ID"] == identity)
            assert message["To"] == delivery.recipient
            assert message["Subject"] == delivery.notice.subject
    delivered = Delivery.objects.filter(status=Status.DELIVERED).count()
    assert len(copies) == delivered
    return copies


# --- 1. The broker is down when the notice is committed -----------------------------------------


def test_a_notice_committed_while_the_broker_is_down_is_delivered_by_the_sweep(
    engine_factory, developer, tmp_path
):
    smtp = _start_smtp()
    try:
        engine = engine_factory(smtp)
        if REDIS_LEG:
            _broker_down_redis(engine, developer)
        else:
            _broker_down_filesystem(engine, developer, tmp_path)
        copies = account_for_every_notice(smtp)
    finally:
        smtp.stop()
    assert list(copies.values()) == [1]


def _commit_while_down(developer) -> Delivery:
    started = time.monotonic()
    notice = _notice(developer, 1)
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"the commit blocked {elapsed:.1f} s on the broker"
    assert broker.paused(), "the publish did not fail"
    delivery = notice.deliveries.get()
    assert delivery.status == Status.QUEUED  # in the database, waiting for the sweep
    return delivery


def _sweep_until_delivered(engine, delivery, period: float = 1.0):
    """Beat's sweep, every ``period`` seconds, until the worker has delivered it."""
    last = [0.0]

    def delivered():
        delivery.refresh_from_db()
        if delivery.status == Status.DELIVERED:
            return True
        if time.monotonic() - last[0] >= period:
            deliveries.sweep()
            last[0] = time.monotonic()
        return False

    engine.wait(delivered, "the sweep to get the notice delivered", timeout=30)


def _broker_down_redis(engine, developer):
    redis = PrivateRedis().start()
    options = {"socket_connect_timeout": 1, "socket_timeout": 2}
    try:
        with use_broker(redis.url, options):
            engine.start_worker(CELERY_BROKER_URL=redis.url)
            redis.stop()
            delivery = _commit_while_down(developer)
            time.sleep(0.5)
            assert engine.smtp.messages == []
            redis.start()  # the same port: the worker and this process reconnect
            _sweep_until_delivered(engine, delivery)
    finally:
        redis.stop()


def _broker_down_filesystem(engine, developer, tmp_path):
    folder = engine.broker_env["CELERY_BROKER_FOLDER"]
    engine.start_worker()
    options = dict(celery_app.conf.broker_transport_options)
    if os.geteuid() == 0:
        # root writes through any permission bits: point this process's broker at a folder
        # that does not exist instead (the worker keeps reading the real one).
        broken = {**options, "data_folder_out": str(tmp_path / "no-such-folder")}
        with use_broker(transport_options=broken):
            delivery = _commit_while_down(developer)
    else:
        os.chmod(folder, 0o500)
        try:
            with use_broker():
                delivery = _commit_while_down(developer)
        finally:
            os.chmod(folder, 0o755)
    time.sleep(0.5)
    assert engine.smtp.messages == []
    with use_broker():
        _sweep_until_delivered(engine, delivery)


# --- 2. The worker is killed in the middle of a send ---------------------------------------------


class SlowFirstDataHandler(RecordingHandler):
    """Takes the first message's DATA, then stalls before answering: the sender is killed
    while it waits for the 250."""

    def __init__(self):
        super().__init__()
        self.data_started = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)  # the server has a copy
        if not self.data_started.is_set():
            self.data_started.set()
            await asyncio.sleep(3)
        return reply


def test_a_worker_killed_mid_send_is_replaced_and_the_copy_keeps_its_identity(
    engine_factory, developer
):
    handler = SlowFirstDataHandler()
    smtp = _start_smtp(handler)
    try:
        engine = engine_factory(smtp)
        first = engine.start_worker()
        with use_broker():
            delivery = _notice(developer, 1).deliveries.get()
            engine.wait(handler.data_started.is_set, "the worker to be sending the message")
            first.kill()  # SIGKILL: no cleanup, no outcome recorded, the lease still held
            delivery.refresh_from_db()
            assert delivery.status == Status.SENDING and delivery.attempts == 1

            engine.start_worker()
            engine.wait(
                lambda: Delivery.objects.filter(lease_until__lt=timezone.now()).exists(),
                "the dead worker's lease to expire",
            )
            _sweep_until_delivered(engine, delivery)
        copies = account_for_every_notice(smtp)
    finally:
        smtp.stop()

    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert copies == {delivery.identity: 2}  # at least once, and always the same notice


# --- 3. Temporary and permanent refusals ---------------------------------------------------------


class RefuseOnceHandler(RecordingHandler):
    """``refuse_once`` maps an address to a reply given to its first RCPT only."""

    def __init__(self):
        super().__init__()
        self.refuse_once: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse_once.pop(address.lower(), None)
        if reply:
            return reply
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def test_451_is_retried_until_delivered_and_550_fails_at_once_and_suppresses(
    engine_factory, developer
):
    factories.DeveloperContactFactory(developer=developer, email="bounce@example-ai.example")
    handler = RefuseOnceHandler()
    handler.refuse_once["legal@example-ai.example"] = "451 4.7.1 Try again later"
    handler.refuse["bounce@example-ai.example"] = "550 5.1.1 No such user"
    smtp = _start_smtp(handler)
    try:
        engine = engine_factory(smtp)
        engine.start_worker()
        with use_broker():
            notice = _notice(developer, 1)
            engine.wait(_all_final, "both deliveries to end")
            # A later notice is not even tried at the suppressed address.
            later = _notice(developer, 2)
            engine.wait(_all_final, "the second notice to be delivered")
        copies = account_for_every_notice(smtp)
    finally:
        smtp.stop()

    greylisted = notice.deliveries.get(recipient="legal@example-ai.example")
    bounced = notice.deliveries.get(recipient="bounce@example-ai.example")
    assert greylisted.status == Status.DELIVERED
    assert list(greylisted.attempt_log.order_by("started_at").values_list("result", "code")) == [
        (DeliveryAttempt.Result.TEMPORARY, 451),
        (DeliveryAttempt.Result.DELIVERED, None),
    ]
    assert bounced.status == Status.FAILED and bounced.attempts == 1
    assert "550" in bounced.last_error
    assert Suppression.objects.active().get().address == "bounce@example-ai.example"
    assert dict(later.deliveries.values_list("recipient", "status")) == {
        "legal@example-ai.example": Status.DELIVERED,
        "bounce@example-ai.example": Status.SUPPRESSED,
    }
    assert sorted(copies.values()) == [1, 1]


# --- 4. Deadlines --------------------------------------------------------------------------------


def test_reminders_are_sent_then_the_notice_is_overdue_and_its_handler_runs_once(
    engine_factory, developer, settings
):
    settings.NOTICES_REMINDER_OFFSETS = [7 * 24 * 3600, 24 * 3600, 0]
    calls = []
    handlers.register_overdue_handler("test", calls.append)
    smtp = _start_smtp()
    try:
        engine = engine_factory(smtp)
        engine.start_worker()
        with use_broker():
            notice = _notice(developer, 1, answer_due_at=timezone.now() + timedelta(days=10))
            due = notice.answer_due_at
            # Beat's deadline runs, at the moments that matter (and some in between).
            for moment in [
                due - timedelta(days=8),
                due - timedelta(days=7) + timedelta(minutes=1),
                due - timedelta(days=3),
                due - timedelta(hours=23),
                due + timedelta(minutes=1),
                due + timedelta(minutes=6),
                due + timedelta(days=1),
            ]:
                deadlines_run(now=moment)
            engine.wait(
                lambda: Delivery.objects.filter(status=Status.DELIVERED).count() == 4,
                "the notice and its three reminders to be delivered",
            )
        copies = account_for_every_notice(smtp)
    finally:
        handlers.unregister_overdue_handler("test")
        smtp.stop()

    notice.refresh_from_db()
    assert notice.overdue_at is not None and notice.overdue_handled_at is not None
    assert [n.pk for n in calls] == [notice.pk]
    reminders = Notice.objects.filter(reminds=notice, kind=Notice.Kind.REMINDER, topic="test:1")
    assert reminders.count() == 3
    original = notice.deliveries.get().identity
    threaded = [m for m in smtp.messages if m["In-Reply-To"] == original]
    assert len(threaded) == 3 and all(m["Subject"] == "Reminder: Notice 1" for m in threaded)
    assert sorted(copies.values()) == [1, 1, 1, 1]
