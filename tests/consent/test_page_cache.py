"""The public work page's cache serves anonymous readers quickly and never serves a stale page:
a change to anything the page shows — consent choices, credit, identifiers, the claim, the
title — shows on the very next request."""

from django.urls import reverse

from consent import services as consent_services
from tests import factories
from works import services as works_services


def fetch(client, work):
    return client.get(reverse("works:public", args=[work.public_id]))


def test_a_repeated_request_is_served_from_the_cache(client, creator, django_assert_num_queries):
    work = factories.WorkFactory(owner=creator, title="Tidewater")
    first = fetch(client, work)
    with django_assert_num_queries(1):
        second = fetch(client, work)
    assert second.content == first.content
    assert second["Content-Usage"] == first["Content-Usage"]
    assert second["X-Robots-Tag"] == "noai, noimageai"
    assert second["Content-Security-Policy"]  # outer middleware still applies


def test_a_consent_change_shows_at_once(client, creator):
    work = factories.WorkFactory(owner=creator)
    assert fetch(client, work)["X-Robots-Tag"] == "noai, noimageai"
    consent_services.defaults_set(
        actor=creator, owner=creator, choices={"train-genai": "allow", "train-ai": "allow"}
    )
    response = fetch(client, work)
    assert "X-Robots-Tag" not in response
    assert response["Content-Usage"] == "train-ai=y, ai-use=n, search=y"
    consent_services.override_set(actor=creator, work=work, choices={"train-genai": "deny"})
    assert fetch(client, work)["X-Robots-Tag"] == "noai, noimageai"


def test_a_claim_decision_shows_at_once(client, creator, guild_staff):
    work = factories.WorkFactory(owner=creator)
    assert fetch(client, work)["Consent-Claim-State"] == "self_declared"
    works_services.claim_request(actor=creator, work=work, statement="Contract 12")
    works_services.claim_decide(actor=guild_staff, work=work, verify=True)
    assert fetch(client, work)["Consent-Claim-State"] == "verified"


def test_identifier_title_and_credit_changes_show_at_once(client, creator):
    work = factories.WorkFactory(owner=creator, title="First title", kind="book")
    assert b"First title" in fetch(client, work).content
    works_services.work_update(
        actor=creator,
        work=work,
        title="Second title",
        kind="book",
        year=2020,
        description="",
        co_creators="",
        identifiers={"isbn": ["9780306406157"]},
    )
    page = fetch(client, work).content.decode()
    assert "Second title" in page and "9780306406157" in page
    profile = creator.creator_profile
    profile.credit_name = "A. Author"
    profile.save()
    assert "A. Author" in fetch(client, work).content.decode()


def test_signed_in_readers_are_never_served_the_cached_page(client, creator):
    work = factories.WorkFactory(owner=creator)
    fetch(client, work)  # cached for anonymous readers
    client.force_login(creator)
    page = fetch(client, work).content.decode()
    assert "Sign out" in page  # their own navigation, not the anonymous page's


def test_a_head_request_gets_the_signal_headers(client, creator):
    """Crawlers often probe with HEAD: the headers are the same as for GET, with no body."""
    work = factories.WorkFactory(owner=creator)
    for _ in range(2):  # rendered, then from the cache
        response = client.head(reverse("works:public", args=[work.public_id]))
        assert response.status_code == 200
        assert response["X-Robots-Tag"] == "noai, noimageai"
        assert response["Content-Usage"] == "train-ai=n, ai-use=n, search=y"
        assert response.content == b""
