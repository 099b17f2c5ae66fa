"""The delivery pages in a real browser (headless Chromium), audited by axe-core: the list,
the failed list, a delivery, the suppression list and the rates with their chart."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from notices.models import Delivery, Suppression
from tests.e2e import conftest as e2e

pytestmark = pytest.mark.browser

# The browser tests' fixtures (one Chromium per module, a phone-sized page, axe-core, sign-in).
browser, page, audit = e2e.browser, e2e.page, e2e.audit
browser_sign_in = e2e.browser_sign_in


def test_staff_follow_a_failed_delivery_to_its_retry_and_read_the_rates(
    live_server, page, audit, browser_sign_in, registry_manager, make_notice
):
    delivered = make_notice(subject="Removal of “Pier at dusk”").deliveries.get()
    Delivery.objects.filter(pk=delivered.pk).update(
        status="delivered", attempts=1, delivered_at=timezone.now() + timedelta(seconds=3)
    )
    failed = make_notice(subject="Removal of “The Quiet Harbour”").deliveries.get()
    Delivery.objects.filter(pk=failed.pk).update(
        status="failed", attempts=9, last_error="Gave up after 9 attempts: 451 4.7.1 Greylisted"
    )
    Suppression.objects.create(
        address="bounced@example-ai.example", reason="Recipient refused: 550 5.1.1 No such user"
    )

    browser_sign_in(page, registry_manager)
    page.goto(live_server.url + "/dashboard/registry/")
    page.get_by_role("link", name="Notice deliveries").click()
    page.wait_for_url(re.compile("/registry/deliveries/$"))
    audit(page)

    page.get_by_role("link", name="Failed", exact=True).click()
    page.wait_for_url(re.compile(r"status=failed"))
    assert page.get_by_text("Greylisted").is_visible()
    audit(page)

    page.get_by_role("link", name="Removal of “The Quiet Harbour”").click()
    page.wait_for_url(re.compile(rf"/registry/deliveries/{failed.pk}/$"))
    audit(page)
    page.get_by_role("button", name="Retry now").click()
    page.wait_for_load_state()
    assert page.get_by_text(re.compile("queued to be sent now")).is_visible()
    failed.refresh_from_db()
    assert failed.status == "delivered"  # eager in tests: sent at once

    page.get_by_role("link", name="Suppression list").click()
    page.wait_for_url(re.compile("/suppressions/$"))
    audit(page)

    page.get_by_role("link", name="Rates and chart").click()
    page.wait_for_url(re.compile("/stats/$"))
    assert page.get_by_role("img", name=re.compile("Notices sent and delivered per day")).count()
    audit(page)
