"""The staff pages of the notice engine: who may read and act, filters, the failed list with
its errors and retry, the suppression list, rates and the chart, and query counts."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from notices.models import Delivery, Suppression
from tests import factories

Status = Delivery.Status


@pytest.fixture
def staff_follow_test_topics(guild_staff):
    """A caller's staff-access rule for the ``test:`` topics ``make_notice`` uses: the Writers'
    Guild's staff follow them (as the removals app's staff follow their members' requests);
    nobody else does."""
    from notices.handlers import register_staff_access, unregister_staff_access
    from notices.models import Notice

    def follows(user):
        return user.pk == guild_staff.pk

    register_staff_access(
        "test",
        lambda user, notice: follows(user),
        topics=lambda user: (
            Notice.objects.filter(topic__startswith="test:").values("topic")
            if follows(user)
            else []
        ),
    )
    yield
    unregister_staff_access("test")


@pytest.fixture
def failed_delivery(make_notice):
    delivery = make_notice(subject="Removal of “Pier at dusk”").deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.FAILED,
        attempts=14,
        last_error="Gave up after 14 attempts: Recipient refused: 451 4.7.1 Greylisted",
    )
    delivery.refresh_from_db()
    return delivery


@pytest.fixture
def suppression(failed_delivery):
    return Suppression.objects.create(
        address="bounced@example-ai.example",
        reason="Recipient refused: 550 5.1.1 No such user",
        code=550,
        delivery=failed_delivery,
    )


def _read_urls(delivery):
    return [
        reverse("notices:delivery-list"),
        reverse("notices:delivery-list") + "?status=failed",
        reverse("notices:delivery-detail", args=[delivery.pk]),
        reverse("notices:delivery-stats"),
        reverse("notices:suppression-list"),
    ]


# --- Access --------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, failed_delivery, suppression):
    urls = _read_urls(failed_delivery)
    for url in urls:
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND, url
        assert response.url.startswith(reverse("account_login")), url
    for url in [
        reverse("notices:delivery-retry", args=[failed_delivery.pk]),
        reverse("notices:suppression-clear", args=[suppression.pk]),
    ]:
        response = client.post(url)
        assert response.status_code == HTTPStatus.FOUND, url
        assert response.url.startswith(reverse("account_login")), url
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == Status.FAILED


@pytest.mark.parametrize("persona", ["creator", "charlie"])
def test_people_without_a_registry_role_get_403(
    request, client, persona, failed_delivery, suppression
):
    client.force_login(request.getfixturevalue(persona))

    for url in _read_urls(failed_delivery):
        assert client.get(url).status_code == HTTPStatus.FORBIDDEN, url
    retry = client.post(reverse("notices:delivery-retry", args=[failed_delivery.pk]))
    clear = client.post(reverse("notices:suppression-clear", args=[suppression.pk]))
    assert retry.status_code == clear.status_code == HTTPStatus.FORBIDDEN


def test_guild_staff_read_what_they_follow_but_cannot_retry_or_clear(
    client, guild_staff, failed_delivery, suppression, staff_follow_test_topics
):
    client.force_login(guild_staff)

    for url in _read_urls(failed_delivery):
        assert client.get(url).status_code == HTTPStatus.OK, url
    page = client.get(reverse("notices:delivery-list") + "?status=failed").content.decode()
    assert "Greylisted" in page and "Retry now" not in page
    suppressions = client.get(reverse("notices:suppression-list")).content.decode()
    assert "bounced@example-ai.example" in suppressions
    assert reverse("notices:suppression-clear", args=[suppression.pk]) not in suppressions

    retry = client.post(reverse("notices:delivery-retry", args=[failed_delivery.pk]))
    clear = client.post(reverse("notices:suppression-clear", args=[suppression.pk]))
    assert retry.status_code == clear.status_code == HTTPStatus.FORBIDDEN
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == Status.FAILED
    assert Suppression.objects.active().exists()


@pytest.mark.parametrize("persona", ["registry_manager", "superuser"])
def test_managers_retry_a_failed_delivery_and_it_is_recorded(
    request, client, persona, failed_delivery, django_capture_on_commit_callbacks
):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    page = client.get(reverse("notices:delivery-list") + "?status=failed").content.decode()
    assert "Retry now" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notices:delivery-retry", args=[failed_delivery.pk]))

    assert response.status_code == HTTPStatus.FOUND
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == Status.DELIVERED  # eager in tests: sent straight away
    assert AuditEvent.objects.get(action="delivery.retry").actor == user
    detail = client.get(response.url).content.decode()
    assert "delivery.retry" in detail


def test_retry_is_post_only(client, registry_manager, failed_delivery):
    client.force_login(registry_manager)

    url = reverse("notices:delivery-retry", args=[failed_delivery.pk])
    assert client.get(url).status_code == HTTPStatus.METHOD_NOT_ALLOWED


@pytest.mark.parametrize("persona", ["registry_manager", "superuser"])
def test_managers_clear_a_suppression(request, client, persona, suppression):
    user = request.getfixturevalue(persona)
    client.force_login(user)

    response = client.post(reverse("notices:suppression-clear", args=[suppression.pk]), follow=True)

    assert "bounced@example-ai.example is off the suppression list" in response.content.decode()
    suppression.refresh_from_db()
    assert suppression.cleared_at is not None and suppression.cleared_by == user
    assert AuditEvent.objects.get(action="suppression.clear").actor == user
    cleared = client.get(reverse("notices:suppression-list") + "?show=cleared").content.decode()
    assert "bounced@example-ai.example" in cleared


def test_a_retry_refused_by_the_service_says_why(client, superuser, failed_delivery):
    Suppression.objects.create(address=failed_delivery.recipient, reason="550")
    client.force_login(superuser)

    response = client.post(
        reverse("notices:delivery-retry", args=[failed_delivery.pk]), follow=True
    )

    assert "clear it first" in response.content.decode()
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == Status.FAILED


def test_an_unknown_delivery_is_404(client, guild_staff, db):
    client.force_login(guild_staff)

    assert client.get(reverse("notices:delivery-detail", args=[999])).status_code == 404


# --- What the pages show -------------------------------------------------------------------------


def test_the_detail_shows_the_identity_the_error_and_every_attempt(
    client, guild_staff, failed_delivery, staff_follow_test_topics
):
    failed_delivery.attempt_log.create(
        started_at=timezone.now(),
        finished_at=timezone.now(),
        result="temporary",
        error="Recipient refused: 451 4.7.1 Greylisted",
        code=451,
    )
    client.force_login(guild_staff)

    page = client.get(reverse("notices:delivery-detail", args=[failed_delivery.pk]))

    text = page.content.decode()
    assert failed_delivery.identity.replace("<", "&lt;").replace(">", "&gt;") in text
    assert "Gave up after 14 attempts" in text
    assert "451" in text
    assert "Removal of “Pier at dusk”" in text


def test_filters_by_status_developer_channel_and_topic_prefix(
    client, registry_manager, make_notice, developer
):
    other_developer = factories.AIDeveloperFactory(name="Other Models", slug="other")
    factories.DeveloperContactFactory(developer=other_developer, email="legal@other.example")
    make_notice(topic="removal:1", subject="Removal one")
    make_notice(topic="removal:12", subject="Removal twelve")
    make_notice(topic="digest:1", subject="Digest one")
    failed = make_notice(topic="removal:2", subject="Removal two").deliveries.get()
    Delivery.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    from notices.services import notice_create

    notice_create(
        developer=other_developer, topic="removal:1", key="o:1", subject="Other one", text="x"
    )
    client.force_login(registry_manager)  # who sees every notice
    url = reverse("notices:delivery-list")

    def subjects(query):
        page = client.get(url + query).content.decode()
        table = page[page.index("<main") :]  # the list, not the site's navigation
        return set(re.findall(r"(Removal \w+|Digest one|Other one)</a>", table))

    assert subjects("") == {
        "Removal one",
        "Removal twelve",
        "Removal two",
        "Digest one",
        "Other one",
    }
    assert subjects("?topic=removal:1") == {"Removal one", "Removal twelve", "Other one"}
    assert subjects("?status=failed") == {"Removal two"}
    assert subjects(f"?developer={developer.slug}&topic=removal") == {
        "Removal one",
        "Removal twelve",
        "Removal two",
    }
    assert subjects("?channel=email&developer=other") == {"Other one"}
    # An unknown value is shown as an error and filters nothing out.
    page = client.get(url + "?status=lost").content.decode()
    assert "Select a valid choice" in page


def test_status_tabs_count_within_the_other_filters(client, registry_manager, make_notice):
    for n in range(3):
        make_notice(topic=f"removal:{n}")
    failed = make_notice(topic="removal:9").deliveries.get()
    Delivery.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    client.force_login(registry_manager)

    page = client.get(reverse("notices:delivery-list") + "?topic=removal").content.decode()

    assert re.search(r"Queued <span class=\"count\">3</span>", page)
    assert re.search(r"Failed <span class=\"count\">1</span>", page)


def test_stats_show_rates_per_developer_and_an_accessible_chart(
    client, guild_staff, make_notice, staff_follow_test_topics
):
    delivered = make_notice().deliveries.get()
    Delivery.objects.filter(pk=delivered.pk).update(
        status=Status.DELIVERED, delivered_at=delivered.created_at + timedelta(seconds=4)
    )
    make_notice()  # still queued
    failed = make_notice().deliveries.get()
    Delivery.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    client.force_login(guild_staff)

    page = client.get(reverse("notices:delivery-stats")).content.decode()

    row = re.search(r"Example AI Ltd</a></th>(.*?)</tr>", page, re.S).group(1)
    cells = re.findall(r'<td class="numeric">(.*?)</td>', row, re.S)
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in cells] == [
        "3",
        "1",
        "33 %",
        "1",
        "0",
        "1",
        "4.0 s",
    ]
    svg = re.search(r"<svg[^>]*>", page).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="chart-title chart-desc"' in svg
    assert '<title id="chart-title">' in page
    assert "3 sent and 1 delivered" in page
    table = re.search(
        r'<div class="visually-hidden">\s*<table class="data">(.*?)</table>', page, re.S
    ).group(1)
    assert table.count("<tr>") == 31  # a header and thirty days
    today = timezone.localdate()
    assert re.search(rf"{today.day} {today:%B %Y}</th><td>3</td><td>1</td>", table), (
        "today's figures are in the table"
    )


def test_the_registry_dashboard_links_to_the_deliveries(client, registry_manager):
    client.force_login(registry_manager)

    page = client.get(reverse("portal:registry-dashboard")).content.decode()

    assert reverse("notices:delivery-list") in page


def test_a_developer_cannot_take_the_deliveries_slug(client, sign_in, registry_manager):
    client = sign_in(registry_manager)
    response = client.post(
        reverse("notices:developer-create"),
        {"name": "Deliveries Inc", "slug": "deliveries", "is_active": "on"},
    )

    assert response.status_code == HTTPStatus.OK
    assert "reserved" in response.content.decode()


# --- Query counts --------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == HTTPStatus.OK
    return len(captured)


@pytest.mark.parametrize("persona", ["guild_staff", "registry_manager"])
def test_page_queries_do_not_grow_with_the_number_of_deliveries(
    request, client, persona, make_notice, settings, staff_follow_test_topics
):
    client.force_login(request.getfixturevalue(persona))
    urls = [
        reverse("notices:delivery-list"),
        reverse("notices:delivery-list") + "?status=queued&topic=test",
        reverse("notices:delivery-stats"),
        reverse("notices:suppression-list"),
    ]
    for n in range(3):
        Suppression.objects.create(address=f"a{n}@x.example")
        make_notice()
    few = [_queries(client, url) for url in urls]
    for n in range(3, 40):
        other = factories.AIDeveloperFactory()
        factories.DeveloperContactFactory(developer=other)
        Suppression.objects.create(address=f"a{n}@x.example")
        make_notice()
        from notices.services import notice_create

        notice_create(developer=other, topic=f"o:{n}", key=f"o:{n}", subject="x", text="x")
    many = [_queries(client, url) for url in urls]

    assert many == few
    # And the detail page of a followed notice, with the link to record an answer.
    delivery = Delivery.objects.filter(notice__topic__startswith="test:").first()
    assert _queries(client, reverse("notices:delivery-detail", args=[delivery.pk])) <= few[0] + 8


# --- Guild staff see only the notices a caller's rule shows them ---------------------------------


def test_guild_staff_see_only_the_notices_their_topic_rule_shows(
    client, guild_staff, other_guild_staff, make_notice, staff_follow_test_topics
):
    followed = make_notice(subject="Removal of “Pier at dusk”").deliveries.get()
    unfollowed = make_notice(topic="digest:7", subject="Digest for another guild").deliveries.get()
    Delivery.objects.filter(pk=unfollowed.pk).update(status=Status.FAILED)
    Suppression.objects.create(address="gone@example-ai.example", reason="550", delivery=unfollowed)
    list_url = reverse("notices:delivery-list")

    client.force_login(guild_staff)
    page = client.get(list_url).content.decode()
    assert "Pier at dusk" in page and "Digest for another guild" not in page
    assert re.search(r"Failed <span class=\"count\">0</span>", page)
    assert "Digest for another guild" not in client.get(list_url + "?topic=digest").text
    assert client.get(reverse("notices:delivery-detail", args=[followed.pk])).status_code == 200
    detail = client.get(reverse("notices:delivery-detail", args=[unfollowed.pk]))
    assert detail.status_code == HTTPStatus.NOT_FOUND
    suppressions = client.get(reverse("notices:suppression-list")).content.decode()
    assert "gone@example-ai.example" in suppressions  # the developer's address
    assert "Digest for another guild" not in suppressions
    assert "A notice you do not follow" in suppressions
    stats = client.get(reverse("notices:delivery-stats")).content.decode()
    assert "1 sent and 0 delivered" in stats

    # Staff of another guild follow none of them.
    client.force_login(other_guild_staff)
    page = client.get(list_url).content.decode()
    assert "Pier at dusk" not in page and "Digest for another guild" not in page
    assert client.get(reverse("notices:delivery-detail", args=[followed.pk])).status_code == 404
    assert "0 sent and 0 delivered" in client.get(reverse("notices:delivery-stats")).text


@pytest.mark.parametrize("persona", ["registry_manager", "superuser"])
def test_registry_managers_and_superusers_see_every_notice(
    request, client, persona, make_notice, staff_follow_test_topics
):
    make_notice(subject="Removal of “Pier at dusk”")
    digest = make_notice(topic="digest:7", subject="Digest for another guild").deliveries.get()
    client.force_login(request.getfixturevalue(persona))

    page = client.get(reverse("notices:delivery-list")).content.decode()

    assert "Pier at dusk" in page and "Digest for another guild" in page
    assert client.get(reverse("notices:delivery-detail", args=[digest.pk])).status_code == 200
    assert "2 sent and 0 delivered" in client.get(reverse("notices:delivery-stats")).text
