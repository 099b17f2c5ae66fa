"""Issue 20, in Chromium on a phone with a real Celery worker and a real SMTP server: a
developer reports "complied" from its developer account; the creator sees it on their
request page with the date to contest it by, tries to contest without a reason (told, nothing
changed), then contests with one; their guild's staff find the request back in their queue as
"Contested", read the reason and ask the developer again; the worker delivers the follow-up
notice, which quotes the reason, by email; the developer reads it on its notices page.
axe-core on every page visited; every page fits 390 px (and the request page 1280 px)."""

import re

import pytest
from django.db import transaction

from notices.models import Notice
from removals import services
from removals.models import ComplianceContest, RemovalRequest
from tests import factories
from tests.services import wait_for

pytestmark = pytest.mark.worker

STATEMENT = "Removed both novels from our training sets v4 and v5."
REASON = "Your model still reproduces chapter 3 of The Lighthouse Keeper word for word."
WORKER_TIMEOUT = 60


def _signed_in(page, live_server, user):
    """Give the browser a session of ``user`` (the sign-in form has its own tests)."""
    from django.conf import settings as django_settings
    from django.test import Client

    page.context.clear_cookies()
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_a_developer_complies_the_creator_contests_and_staff_ask_again(
    live_server,
    celery_worker,
    smtp_server,
    page,
    audit,
    fits,
    creator,
    guild_staff,
    settings,
):
    settings.SITE_URL = live_server.url
    developer = factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")
    factories.DeveloperContactFactory(developer=developer, email="legal@example-ai.example")
    dana = factories.DeveloperMemberFactory(
        developer=developer, user__email="dana@example-ai.example"
    ).user
    work = factories.WorkFactory(owner=creator, title="The Lighthouse Keeper")
    with transaction.atomic():
        removal = services.draft_create(actor=creator, creator=creator, title="My novels")
        services.draft_update(
            actor=creator, request=removal, works=[work], developers=[developer], asks=["cease"]
        )
        services.request_submit(actor=creator, request=removal, good_faith=True, accurate=True)
        (notice,) = services.request_approve(actor=guild_staff, request=removal)

    # 1. The developer reports compliance from its account.
    _signed_in(page, live_server, dana)
    page.goto(f"{live_server.url}/developer/notices/{notice.pk}/")
    audit(page)
    page.get_by_label("What you did to comply").fill(STATEMENT)
    page.get_by_role("button", name="Report compliance").click()
    page.wait_for_load_state()
    assert page.get_by_text(STATEMENT).first.is_visible()
    fits(page, 390)

    # 2. The creator sees it, with the date to contest it by.
    contest = ComplianceContest.objects.get(request=removal)
    _signed_in(page, live_server, creator)
    page.goto(f"{live_server.url}/requests/{removal.pk}/")
    by = f"{contest.window_ends_at:%-d %B %Y}"
    told = page.get_by_text(re.compile(r"Example AI Ltd reported they complied on .*contest by"))
    assert told.is_visible() and by in told.inner_text()
    assert page.get_by_role("button", name="Accept Example AI Ltd's answer").is_visible()
    audit(page)
    fits(page, 390)
    fits(page, 1280)
    page.set_viewport_size({"width": 390, "height": 844})

    # 3. Contest without a reason: told, and nothing changes; then with one.
    page.get_by_role("link", name=re.compile("^Contest it")).click()
    page.wait_for_url(re.compile(rf"/requests/{removal.pk}/answers/{contest.pk}/contest/$"))
    audit(page)
    page.get_by_role("button", name="Contest the answer").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="There is a problem").is_visible()
    assert page.get_by_label("Why you contest it").get_attribute("aria-invalid") == "true"
    audit(page)
    fits(page, 390)
    contest.refresh_from_db()
    assert contest.state == ComplianceContest.State.OPEN
    page.get_by_label("Why you contest it").fill(REASON)
    page.get_by_role("button", name="Contest the answer").click()
    page.wait_for_url(re.compile(rf"/requests/{removal.pk}/$"))
    assert page.get_by_text(re.compile("You contested Example AI Ltd's answer")).first.is_visible()
    lane = page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="Example AI Ltd", level=3)
    )
    assert lane.get_by_text("Contested", exact=True).first.is_visible()
    audit(page)
    fits(page, 390)
    removal.refresh_from_db()
    assert removal.status == RemovalRequest.Status.CONTESTED

    # 4. Their guild's staff find it back in the queue, contested, and ask again.
    _signed_in(page, live_server, guild_staff)
    page.goto(f"{live_server.url}/review/")
    row = page.get_by_role("row").filter(has_text="My novels")
    assert row.get_by_text("Contested", exact=True).is_visible()
    audit(page)
    fits(page, 390)
    row.get_by_role("link", name=re.compile("My novels")).click()
    page.wait_for_url(re.compile(rf"/review/{removal.pk}/$"))
    assert page.locator(f"#contest-{contest.pk}").get_by_text(REASON).is_visible()
    audit(page)
    fits(page, 390)
    page.get_by_label("A note to Example AI Ltd (optional)").fill("Please check v5 as well.")
    page.get_by_role("button", name="Ask Example AI Ltd again").click()
    page.wait_for_load_state()
    assert page.get_by_text(re.compile("Example AI Ltd is asked again")).is_visible()
    audit(page)

    # 5. The worker delivers the follow-up by email; it quotes the creator's reason.
    def follow_up_mail():
        return [
            m
            for m in smtp_server.messages
            if m["To"] == "legal@example-ai.example" and "contested" in m["Subject"]
        ]

    (mail,) = wait_for(follow_up_mail, timeout=WORKER_TIMEOUT, what="the follow-up notice email")
    assert REASON in mail.get_body(("plain",)).get_content()
    follow_up = Notice.objects.exclude(pk=notice.pk).get(topic=removal.topic)
    wait_for(
        lambda: follow_up.deliveries.filter(delivered_at__isnull=False).exists(),
        timeout=WORKER_TIMEOUT,
        what="the follow-up delivery recorded",
    )

    # 6. The developer reads it among its notices and can answer it like the first.
    _signed_in(page, live_server, dana)
    page.goto(f"{live_server.url}/developer/notices/{follow_up.pk}/")
    assert page.get_by_text(REASON).first.is_visible()
    assert page.get_by_role("button", name="Report compliance").is_visible()
    assert creator.email not in page.content()
    audit(page)
    fits(page, 390)
