"""Licence grants from the creator's pages: an exception for one developer, some uses, all their
works or a resolved selection, a licence reference and a period — behind re-authentication."""

from datetime import date, timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from consent import decisions, services
from consent.models import LedgerEntry, LicenceGrant
from tests import factories


@pytest.fixture
def labs(db):
    return factories.AIDeveloperFactory(name="Example AI Labs", slug="example-ai-labs")


@pytest.fixture
def books(creator):
    return [
        factories.WorkFactory(owner=creator, title="Sea Book", kind="book"),
        factories.WorkFactory(owner=creator, title="Land Book", kind="book"),
    ]


def _grant_data(labs, **data):
    payload = {
        "developer": labs.pk,
        "uses": ["train-genai"],
        "scope": "all",
        "licence_ref": "LIC-42",
        "starts_on": "2027-01-01",
        "ends_on": "2027-12-31",
    }
    payload.update(data)
    return {k: v for k, v in payload.items() if v is not None}


def _grant(owner, developer, **fields):
    today = timezone.localdate()
    return LicenceGrant.objects.create(
        owner=owner,
        developer=developer,
        all_works=True,
        uses=fields.pop("uses", ["train-genai"]),
        licence_ref=fields.pop("licence_ref", "LIC-42"),
        starts_on=fields.pop("starts_on", today - timedelta(days=1)),
        **fields,
    )


# --- Access ------------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client, db):
    for name in ["consent:grants", "consent:grant-create"]:
        assert client.get(reverse(name))["Location"].startswith(reverse("account_login"))


def test_granting_asks_for_the_password_again(client, sign_in, creator, labs):
    sign_in(creator, reauthenticate=False)
    assert client.get(reverse("consent:grant-create")).status_code == HTTPStatus.OK
    response = client.post(reverse("consent:grant-create"), _grant_data(labs))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert not LicenceGrant.objects.exists()


def test_another_creator_cannot_revoke_a_grant(client, sign_in, creator, other_creator, labs):
    grant = _grant(creator, labs)
    sign_in(other_creator)
    response = client.post(reverse("consent:grant-revoke", args=[grant.pk]))
    assert response.status_code == HTTPStatus.NOT_FOUND
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_the_list_shows_only_their_own_grants(client, creator, other_creator, labs):
    _grant(creator, labs, licence_ref="MINE-1")
    _grant(other_creator, labs, licence_ref="THEIRS-1")
    client.force_login(creator)
    page = client.get(reverse("consent:grants")).content.decode()
    assert "MINE-1" in page and "THEIRS-1" not in page


# --- Creating ----------------------------------------------------------------------------------


def test_a_grant_for_all_works(
    client, sign_in, creator, labs, books, mailoutbox, django_capture_on_commit_callbacks
):
    sign_in(creator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("consent:grant-create"), _grant_data(labs), follow=True)
    assert "Saved — a receipt is on its way" in response.content.decode()
    grant = LicenceGrant.objects.get()
    assert grant.all_works and grant.uses == ["train-genai"]
    assert grant.starts_on == date(2027, 1, 1) and grant.ends_on == date(2027, 12, 31)
    assert decisions.decide(
        books[0], "train-genai", developer=labs, on=date(2027, 6, 1)
    ).source == ("grant")
    entry = LedgerEntry.objects.get()
    assert any(entry.hash in m.body for m in mailoutbox)


def test_a_grant_for_a_kind_resolves_to_the_works_of_that_kind(
    client, sign_in, creator, labs, books
):
    factories.WorkFactory(owner=creator, kind="poem")
    sign_in(creator)
    client.post(reverse("consent:grant-create"), _grant_data(labs, scope="kind", kind="book"))
    grant = LicenceGrant.objects.get()
    assert not grant.all_works
    assert set(grant.works.all()) == set(books)


def test_a_grant_for_a_search_resolves_to_the_matching_works(client, sign_in, creator, labs, books):
    sign_in(creator)
    client.post(reverse("consent:grant-create"), _grant_data(labs, scope="search", q="Sea"))
    assert list(LicenceGrant.objects.get().works.all()) == [books[0]]


def test_a_grant_for_one_work_from_its_page(client, sign_in, creator, labs, books):
    sign_in(creator)
    page = client.get(
        reverse("consent:grant-create"), {"work": books[1].public_id}
    ).content.decode()
    assert "Only “Land Book”" in page
    client.post(
        reverse("consent:grant-create"),
        _grant_data(labs, scope="work", work=books[1].public_id),
    )
    assert list(LicenceGrant.objects.get().works.all()) == [books[1]]


def test_another_creators_work_cannot_be_licensed(client, sign_in, creator, other_creator, labs):
    theirs = factories.WorkFactory(owner=other_creator, title="Bob's Bassline")
    sign_in(creator)
    url = reverse("consent:grant-create")
    assert client.get(url, {"work": theirs.public_id}).status_code == HTTPStatus.NOT_FOUND
    response = client.post(url, _grant_data(labs, scope="work", work=theirs.public_id))
    assert response.status_code == HTTPStatus.OK
    response = client.post(url, _grant_data(labs, scope="search", q="Bob's Bassline"))
    assert "No works of yours match" in response.content.decode()
    assert not LicenceGrant.objects.exists() and not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"ends_on": "2026-12-31"}, "The end date must be on or after the start date."),
        ({"uses": None}, "Choose at least one use."),
        ({"uses": ["train-everything"]}, "Select a valid choice."),
        ({"licence_ref": ""}, "This field is required."),
        ({"licence_ref": "x" * 101}, "at most 100 characters"),
        ({"starts_on": "not a date"}, "Enter a valid date."),
        ({"scope": "kind", "kind": ""}, "Choose the kind of works."),
    ],
)
def test_bad_input_changes_nothing(client, sign_in, creator, labs, books, bad, message):
    sign_in(creator)
    response = client.post(reverse("consent:grant-create"), _grant_data(labs, **bad))
    assert response.status_code == HTTPStatus.OK
    assert message in response.content.decode()
    assert not LicenceGrant.objects.exists() and not LedgerEntry.objects.exists()


def test_an_inactive_developer_cannot_be_chosen(client, sign_in, creator, labs):
    labs.is_active = False
    labs.save()
    sign_in(creator)
    response = client.post(reverse("consent:grant-create"), _grant_data(labs))
    assert response.status_code == HTTPStatus.OK
    assert not LicenceGrant.objects.exists()


def test_html_in_a_licence_reference_is_shown_escaped(client, sign_in, creator, labs):
    sign_in(creator)
    client.post(
        reverse("consent:grant-create"),
        _grant_data(labs, licence_ref="<b>LIC</b><script>x()</script>"),
    )
    assert LicenceGrant.objects.exists()
    for name in ["consent:grants", "consent:history"]:
        page = client.get(reverse(name)).content.decode()
        assert "<script>x()" not in page and "&lt;b&gt;LIC&lt;/b&gt;" in page


# --- The list and revoking ---------------------------------------------------------------------


def test_each_grant_shows_its_state(client, creator, labs):
    today = timezone.localdate()
    _grant(creator, labs, licence_ref="SOON", starts_on=today + timedelta(days=5))
    _grant(creator, labs, licence_ref="NOW", ends_on=today + timedelta(days=5))
    _grant(
        creator,
        labs,
        licence_ref="PAST",
        starts_on=today - timedelta(days=30),
        ends_on=today - timedelta(days=1),
    )
    _grant(creator, labs, licence_ref="GONE", revoked_at=timezone.now())
    client.force_login(creator)
    page = client.get(reverse("consent:grants")).content.decode()
    for ref, state in [
        ("SOON", "Scheduled"),
        ("NOW", "In force"),
        ("PAST", "Ended"),
        ("GONE", "Revoked"),
    ]:
        block = page[page.index(ref) :]
        assert state in block[: block.index("</li>")]


def test_revoking_a_grant(client, sign_in, creator, labs, books):
    grant = _grant(creator, labs)
    sign_in(creator)
    response = client.post(reverse("consent:grant-revoke", args=[grant.pk]), follow=True)
    assert "is revoked" in response.content.decode()
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert decisions.decide(books[0], "train-genai", developer=labs).source != "grant"
    assert '"action":"grant.revoke"' in LedgerEntry.objects.get().canonical


def test_revoking_asks_for_the_password_again(client, sign_in, creator, labs):
    grant = _grant(creator, labs)
    sign_in(creator, reauthenticate=False)
    response = client.post(reverse("consent:grant-revoke", args=[grant.pk]))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_revoking_is_post_only(client, sign_in, creator, labs):
    grant = _grant(creator, labs)
    sign_in(creator)
    response = client.get(reverse("consent:grant-revoke", args=[grant.pk]))
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_grant_periods_are_recorded_by_the_beat_task(creator, labs):
    from consent.tasks import grant_periods_record

    today = timezone.localdate()
    services.grant_create(
        actor=creator,
        owner=creator,
        developer=labs,
        uses=["train-ai"],
        licence_ref="LATER",
        starts_on=today + timedelta(days=1),
    )
    LicenceGrant.objects.update(starts_on=today)
    assert grant_periods_record.delay().get() == 1
    assert '"action":"grant.start"' in LedgerEntry.objects.order_by("-seq").first().canonical


def test_the_beat_schedule_runs_the_grant_period_task_hourly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["consent-grant-periods"]
    assert entry["task"] == "consent.tasks.grant_periods_record"
    assert entry["schedule"] == 3600.0


def test_anonymous_visitor_cannot_revoke(client, creator, labs):
    grant = _grant(creator, labs)
    response = client.post(reverse("consent:grant-revoke", args=[grant.pk]))
    assert response["Location"].startswith(reverse("account_login"))
    grant.refresh_from_db()
    assert grant.revoked_at is None
