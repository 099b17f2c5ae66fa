"""Handing a notice to the engine: one row per notice, one delivery per confirmed address,
idempotent on its key, sent only after the caller's transaction commits, and never blocking
the request when the broker is down."""

import time

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import broker
from notices.deliveries import publishing_together
from notices.models import Delivery, DeliveryAttempt, Notice, Suppression
from notices.services import notice_create
from tests import factories
from tests.services import free_port

from .brokers import use_broker


def test_a_notice_gets_one_delivery_per_confirmed_address(developer, contact):
    factories.DeveloperContactFactory(developer=developer, email="DPO@Example-AI.example")
    factories.DeveloperContactFactory(
        developer=developer, email="pending@x.example", confirmed_at=None
    )
    removed = factories.DeveloperContactFactory(developer=developer, email="old@x.example")
    removed.removed_at = removed.confirmed_at
    removed.save()
    factories.DeveloperContactFactory(email="someone-else@other.example")  # another developer

    notice = notice_create(
        developer=developer,
        topic="removal:42",
        key="removal:42:developer:1",
        subject="Removal request\nfor two works",
        text="Remove them.",
    )

    assert notice.subject == "Removal request for two works"  # one line: it becomes a header
    assert sorted(notice.deliveries.values_list("recipient", "status")) == [
        ("dpo@example-ai.example", "queued"),
        ("legal@example-ai.example", "queued"),
    ]


def test_the_same_key_returns_the_first_notice_and_creates_nothing(developer, contact):
    first = notice_create(
        developer=developer, topic="removal:1", key="removal:1:dev", subject="A", text="a"
    )
    again = notice_create(
        developer=developer, topic="removal:1", key="removal:1:dev", subject="B", text="b"
    )

    assert again.pk == first.pk
    assert Notice.objects.count() == 1
    assert Delivery.objects.count() == 1
    assert Notice.objects.get().subject == "A"


def test_a_key_already_used_for_another_developer_is_a_programming_error(developer, contact):
    notice_create(developer=developer, topic="removal:1", key="k1", subject="A", text="a")
    other = factories.AIDeveloperFactory()

    with pytest.raises(ValueError, match="already belongs to another notice"):
        notice_create(developer=other, topic="removal:1", key="k1", subject="A", text="a")


def test_an_inactive_developer_gets_no_notice(developer, contact):
    developer.is_active = False
    developer.save()

    with pytest.raises(ValidationError):
        notice_create(developer=developer, topic="t:1", key="t:1", subject="A", text="a")
    assert not Notice.objects.exists()


def test_a_suppressed_address_gets_a_visible_suppressed_delivery(developer, contact):
    factories.DeveloperContactFactory(developer=developer, email="ok@example-ai.example")
    Suppression.objects.create(address="legal@example-ai.example", reason="550 no such user")

    notice = notice_create(developer=developer, topic="t:1", key="t:1", subject="A", text="a")

    statuses = dict(notice.deliveries.values_list("recipient", "status"))
    assert statuses == {"legal@example-ai.example": "suppressed", "ok@example-ai.example": "queued"}
    suppressed = notice.deliveries.get(status="suppressed")
    assert "suppression list" in suppressed.last_error


def test_attachments_are_kept_as_bytes(developer, contact):
    notice = notice_create(
        developer=developer,
        topic="t:1",
        key="t:1",
        subject="A",
        text="a",
        attachments=[
            ("works.json", '{"works": []}', "application/json"),
            ("works.csv", b"title\r\nA\r\n", "text/csv"),
        ],
    )

    files = {a.filename: (bytes(a.content), a.content_type) for a in notice.attachments.all()}
    assert files == {
        "works.json": (b'{"works": []}', "application/json"),
        "works.csv": (b"title\r\nA\r\n", "text/csv"),
    }


def test_a_notice_leaves_only_after_the_callers_transaction_commits(
    developer, contact, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        notice = notice_create(
            developer=developer, topic="t:1", key="t:1", subject="Stop", text="Please."
        )
        assert mail.outbox == []  # nothing leaves while the transaction is open
    assert len(callbacks) == 1

    delivery = notice.deliveries.get()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED
    assert [m["Message-ID"] for m in (m.message() for m in mail.outbox)] == [delivery.identity]
    assert DeliveryAttempt.objects.get().result == DeliveryAttempt.Result.DELIVERED


def test_a_rolled_back_event_sends_nothing(developer, contact, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notice_create(developer=developer, topic="t:1", key="t:1", subject="A", text="a")
        raise RuntimeError("the removal approval failed")

    assert not Notice.objects.exists()
    assert mail.outbox == []


@pytest.fixture
def unreachable_broker(transactional_db):
    """This process publishes to a Redis port nothing listens on; tasks are not eager."""
    broker.reset()
    options = {"socket_connect_timeout": 1, "socket_timeout": 1}
    with use_broker(f"redis://127.0.0.1:{free_port()}/0", options):
        yield
    broker.reset()


def test_a_broker_down_at_commit_neither_blocks_nor_fails_the_request(
    unreachable_broker, developer, contact, caplog
):
    started = time.monotonic()
    # e.g. a removal approved for five developers at once
    with transaction.atomic(), publishing_together():
        for n in range(5):
            notice_create(developer=developer, topic=f"t:{n}", key=f"t:{n}", subject="A", text="a")
    elapsed = time.monotonic() - started

    assert elapsed < 5, f"committing took {elapsed:.1f} s with the broker down"
    # One bounded try at the broker for the whole transaction…
    logged = [r.getMessage() for r in caplog.records if r.name == "notices.deliveries"]
    assert logged == ["5 deliveries left for the sweep"]
    tried = [r for r in caplog.records if r.name == "accounts.broker" and r.levelname == "WARNING"]
    assert len(tried) == 1 and "Broker unreachable" in tried[0].getMessage()

    # …and the next request does not wait for it again.
    started = time.monotonic()
    with transaction.atomic():
        notice_create(developer=developer, topic="t:9", key="t:9", subject="A", text="a")
    assert time.monotonic() - started < 0.5
    logged = [r.getMessage() for r in caplog.records if r.name == "notices.deliveries"]
    assert logged[-1] == "1 deliveries left for the sweep"
    assert broker.paused()
    tried = [r for r in caplog.records if r.name == "accounts.broker" and r.levelname == "WARNING"]
    assert len(tried) == 1  # not tried again
    # Nothing is lost: the rows are there for the sweep.
    assert Delivery.objects.filter(status=Delivery.Status.QUEUED).count() == 6
