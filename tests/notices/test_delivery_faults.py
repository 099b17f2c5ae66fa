"""Faults in the middle of a batch, with real parts: a real ``celery worker`` process, a real SMTP
server on loopback (taking each message in about 20 ms, so a batch lasts long enough to be hit)
and, on PostgreSQL, the worker's database connections cut with ``pg_terminate_backend``.

With the engine's default lease (short, renewed while the worker lives):

1. A worker killed with SIGKILL mid-batch re-sends at most the one message it was sending (its
   outcome was not yet written); everything else arrives once, within two minutes of the
   restart with beat's default sweep period.
2. Database connections cut twice mid-batch: the worker reconnects and goes on — nothing is
   sent twice and nothing waits for a lease to run out.
"""

import asyncio
import time

import pytest
from django.db import connection, transaction

from notices import deliveries
from notices.deliveries import publishing_together
from notices.models import Delivery
from tests.services import RecordingHandler

from .brokers import use_broker
from .test_reliability import (
    _all_final,
    _notice,
    _start_smtp,
    _statuses,
    account_for_every_notice,
    developer,  # noqa: F401 - the fixture
    engine_factory,  # noqa: F401 - the fixture
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

Status = Delivery.Status
NOTICES = 150  # two batches of the default NOTICES_BATCH_SIZE (100)
POSTGRES = connection.vendor == "postgresql"


class PacedHandler(RecordingHandler):
    """Takes every message, each after about 20 ms."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


def _defaults(settings) -> dict:
    """The engine's own lease (not the reliability tests' shrunk one), read before the engine
    shrinks the settings."""
    return {"NOTICES_LEASE_SECONDS": settings.NOTICES_LEASE_SECONDS}


def _commit_many(owner):
    with transaction.atomic(), publishing_together():  # one wake-up per batch
        for n in range(NOTICES):
            _notice(owner, n)


def _sweep_until_all_final(engine, *, timeout: float, period: float = 1.0) -> float:
    """Beat's sweep every ``period`` seconds until every delivery is final; returns the
    seconds it took."""
    started = time.monotonic()
    last = [0.0]

    def final():
        if _all_final():
            return True
        if time.monotonic() - last[0] >= period:
            deliveries.sweep()
            last[0] = time.monotonic()
        return False

    engine.wait(final, f"every delivery to end ({_statuses()})", timeout=timeout)
    return time.monotonic() - started


def test_a_worker_killed_mid_batch_resends_at_most_one_message(
    engine_factory,  # noqa: F811
    developer,  # noqa: F811
    settings,
):
    defaults = _defaults(settings)
    sweep_period = settings.NOTICES_SWEEP_PERIOD
    smtp = _start_smtp(PacedHandler())
    try:
        engine = engine_factory(smtp)
        settings.NOTICES_LEASE_SECONDS = defaults["NOTICES_LEASE_SECONDS"]
        first = engine.start_worker(timings=defaults)
        with use_broker():
            _commit_many(developer)
            engine.wait(lambda: len(smtp.messages) >= 30, "the worker to be mid-batch")
            first.kill()  # SIGKILL: no cleanup; what it held keeps its lease until it runs out

            seen = {message["Message-ID"] for message in smtp.messages}
            recorded = set(
                Delivery.objects.filter(status=Status.DELIVERED).values_list("pk", flat=True)
            )
            assert len(seen) - len(recorded) <= 1, "outcomes were not written as they came"

            engine.start_worker(timings=defaults)
            took = _sweep_until_all_final(engine, timeout=120 - sweep_period)
        copies = account_for_every_notice(smtp)
    finally:
        smtp.stop()

    assert len(copies) == NOTICES
    assert sum(copies.values()) - NOTICES <= 1  # one pool process: at most one copy too many
    # Beat sweeps every NOTICES_SWEEP_PERIOD, not every second as here: that much later at most.
    assert took + sweep_period <= 120, f"the rest took {took:.0f} s after the restart"


def _cut_connections() -> int:
    """End every other connection to the test database (the worker's), as a failover or an
    operator's ``pg_terminate_backend`` would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif(not POSTGRES, reason="cuts connections with PostgreSQL's pg_terminate_backend")
def test_database_connections_cut_twice_mid_batch_send_nothing_twice(
    engine_factory,  # noqa: F811
    developer,  # noqa: F811
    settings,
):
    defaults = _defaults(settings)
    smtp = _start_smtp(PacedHandler())
    try:
        engine = engine_factory(smtp)
        settings.NOTICES_LEASE_SECONDS = defaults["NOTICES_LEASE_SECONDS"]
        engine.start_worker(timings=defaults)
        with use_broker():
            _commit_many(developer)
            engine.wait(lambda: len(smtp.messages) >= 30, "the worker to be mid-batch")
            assert _cut_connections() >= 1
            engine.wait(lambda: len(smtp.messages) >= 80, "the worker to go on after the cut")
            assert _cut_connections() >= 1
            # Less than one lease: the worker itself carried on, nothing waited to be swept.
            took = _sweep_until_all_final(engine, timeout=defaults["NOTICES_LEASE_SECONDS"])
        copies = account_for_every_notice(smtp)
    finally:
        smtp.stop()

    assert len(copies) == NOTICES
    assert set(copies.values()) == {1}, "a message was sent twice"
    assert took < defaults["NOTICES_LEASE_SECONDS"]
