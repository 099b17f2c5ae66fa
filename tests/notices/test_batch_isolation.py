"""One broken receiver costs its own deliveries, not the batch's others; each outcome is written
when it happens. Real parts: a loopback webhook receiver (verifying every signature) and a real
SMTP server, with the engine run in this process.

- A receiver that hangs costs one timeout: the batch's other deliveries to it are handed back
  untried (not an attempt) and the emails behind it go out at once.
- A refused connection does the same.
- A 410 disables the endpoint at once: the rest of the batch is not posted to it.
- ``delivered_at`` is when the server took the message, not when the batch ended.
"""

import asyncio
import time

from notices import deliveries
from notices.models import Delivery, WebhookEndpoint
from tests.notices.test_webhooks import Reply
from tests.services import RecordingHandler, free_port

Status = Delivery.Status
Channel = Delivery.Channel


def _batch(make_notice, n: int) -> tuple[list[int], list[int]]:
    """``n`` notices to the developer (one email and one webhook delivery each), as one batch.
    Returns (webhook ids, email ids)."""
    notices = [make_notice() for _ in range(n)]
    ids = Delivery.objects.filter(notice__in=notices).order_by("pk")
    webhooks = list(ids.filter(channel=Channel.WEBHOOK).values_list("pk", flat=True))
    emails = list(ids.filter(channel=Channel.EMAIL).values_list("pk", flat=True))
    return webhooks, emails


def test_a_hanging_receiver_costs_one_timeout_and_the_emails_go_out(
    smtp, receiver, endpoint, make_notice, settings
):
    settings.NOTICES_WEBHOOK_TIMEOUT = 1.0
    receiver.responses.extend([Reply(200, delay=5)] * 3)  # answers far too late, every time
    webhooks, emails = _batch(make_notice, 3)

    started = time.monotonic()
    results = deliveries.attempt_many(delivery_ids=webhooks + emails)
    elapsed = time.monotonic() - started

    assert elapsed < 2 * settings.NOTICES_WEBHOOK_TIMEOUT, f"the batch took {elapsed:.1f} s"
    assert len(receiver.requests) == 1  # tried once; the others waited without a try
    assert all(results[pk] == Status.DELIVERED for pk in emails)
    assert len(smtp.messages) == 3
    first, *rest = Delivery.objects.filter(pk__in=webhooks).order_by("pk")
    assert first.status == Status.QUEUED and first.attempts == 1
    assert "Timed out" in first.last_error
    assert [(d.status, d.attempts) for d in rest] == [(Status.QUEUED, 0)] * 2
    assert {d.next_attempt_at for d in rest} == {first.next_attempt_at}


def test_a_refused_connection_holds_back_only_that_host(smtp, endpoint, make_notice):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        url=f"http://127.0.0.1:{free_port()}/hooks"  # nothing listens there
    )
    webhooks, emails = _batch(make_notice, 3)

    results = deliveries.attempt_many(delivery_ids=webhooks + emails)

    assert all(results[pk] == Status.DELIVERED for pk in emails)
    attempts = list(
        Delivery.objects.filter(pk__in=webhooks).order_by("pk").values_list("attempts", flat=True)
    )
    assert attempts == [1, 0, 0]


def test_a_410_disables_the_endpoint_before_the_rest_of_the_batch(
    smtp, receiver, endpoint, make_notice
):
    receiver.responses.append(Reply(410))
    webhooks, emails = _batch(make_notice, 3)

    deliveries.attempt_many(delivery_ids=webhooks + emails)

    assert len(receiver.requests) == 1  # nothing more was posted to a gone endpoint
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert (
        list(
            Delivery.objects.filter(pk__in=webhooks).order_by("pk").values_list("status", flat=True)
        )
        == [Status.FAILED] * 3
    )
    assert Delivery.objects.filter(pk__in=emails, status=Status.DELIVERED).count() == 3


class SlowDataHandler(RecordingHandler):
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.4)
        return await super().handle_DATA(server, session, envelope)


def test_delivered_at_is_when_each_message_was_taken(smtp, make_notice):
    smtp.handler = smtp.controller.handler = SlowDataHandler()
    ids = [make_notice().deliveries.get().pk for _ in range(3)]

    before = time.time()
    deliveries.attempt_many(delivery_ids=ids)
    after = time.time()

    times = [
        d.delivered_at.timestamp()
        for d in Delivery.objects.filter(pk__in=ids).order_by("delivered_at")
    ]
    assert before < times[0] < times[1] < times[2] <= after
    assert times[2] - times[0] >= 0.6  # two slow sends apart, not one recording time
