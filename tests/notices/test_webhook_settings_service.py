"""Setting a developer's webhook: a URL change carries the deliveries still on their way, plain
http only to this machine (and only when the setting allows it)."""

import pytest
from django.core.exceptions import ValidationError

from notices.models import Delivery, WebhookEndpoint
from notices.services.webhooks import webhook_endpoint_set


def test_changing_the_url_carries_the_pending_deliveries_to_the_new_one(
    developer, make_notice, registry_manager
):
    webhook_endpoint_set(
        actor=registry_manager, developer=developer, url="https://old.hooks.example/in"
    )
    notice = make_notice()
    pending = notice.deliveries.get(channel=Delivery.Channel.WEBHOOK)
    assert pending.status == Delivery.Status.QUEUED

    webhook_endpoint_set(
        actor=registry_manager, developer=developer, url="https://new.hooks.example/in"
    )

    pending.refresh_from_db()
    assert pending.recipient == "https://new.hooks.example/in"
    assert WebhookEndpoint.objects.filter(developer=developer).count() == 1


def test_delivered_webhooks_keep_the_url_they_went_to(developer, make_notice, registry_manager):
    webhook_endpoint_set(actor=registry_manager, developer=developer, url="https://a.example/in")
    done = make_notice().deliveries.get(channel=Delivery.Channel.WEBHOOK)
    Delivery.objects.filter(pk=done.pk).update(status=Delivery.Status.DELIVERED)

    webhook_endpoint_set(actor=registry_manager, developer=developer, url="https://b.example/in")

    done.refresh_from_db()
    assert done.recipient == "https://a.example/in"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8001/hooks", True),
        ("http://localhost:8001/hooks", True),
        ("http://hooks.example.com/in", False),
        ("http://93.184.216.34/in", False),
    ],
)
def test_plain_http_only_to_this_machine_even_when_loopback_is_allowed(
    developer, registry_manager, settings, url, allowed
):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = True
    if allowed:
        webhook_endpoint_set(actor=registry_manager, developer=developer, url=url)
        assert WebhookEndpoint.objects.get(developer=developer).url == url
    else:
        with pytest.raises(ValidationError, match="must use https"):
            webhook_endpoint_set(actor=registry_manager, developer=developer, url=url)
        assert not WebhookEndpoint.objects.exists()


def test_large_attachments_travel_by_api_url_not_inside_the_webhook_body(
    developer, make_notice, registry_manager, settings
):
    import base64
    import hashlib

    from notices.webhooks import WebhookTransport

    settings.NOTICES_WEBHOOK_INLINE_MAX = 100
    webhook_endpoint_set(actor=registry_manager, developer=developer, url="https://h.example/in")
    small, large = b'{"works": []}', b"x" * 101
    notice = make_notice(
        attachments=[("small.json", small, "application/json"), ("big.csv", large, "text/csv")]
    )
    delivery = notice.deliveries.get(channel=Delivery.Channel.WEBHOOK)

    first, second = WebhookTransport().payload(delivery)["data"]["attachments"]

    assert base64.b64decode(first["content_base64"]) == small
    assert "content_base64" not in second
    assert second["size"] == 101 and second["sha256"] == hashlib.sha256(large).hexdigest()
    assert second["url"].startswith(settings.SITE_URL + "/api/v1/notices/")
