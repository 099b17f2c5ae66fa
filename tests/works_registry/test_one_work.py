"""``GET /api/v1/works/<public_id>`` reads its work in one SQL statement
(``works_registry.one_work``): the object must be exactly the one the bulk lookup builds with
the ORM (``lookup.work_objects``), for every source a decision can have, for anyone asking."""

from datetime import date, timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import CreatorProfile
from consent.models import LicenceGrant, Preference
from notices.models import AIDeveloper
from notices.services import api_key_revoke
from notices.services.apikeys import api_key_authenticate
from tests import factories
from works.models import WorkIdentifier
from works_registry.lookup import work_objects
from works_registry.one_work import one_work_object


def _grant(owner, developer, uses, *, works=(), all_works=False, **dates):
    grant = LicenceGrant.objects.create(
        owner=owner,
        developer=developer,
        all_works=all_works,
        uses=uses,
        licence_ref=f"LIC-{len(uses)}-{'all' if all_works else len(works)}",
        starts_on=dates.get("starts_on", date(2020, 1, 1)),
        ends_on=dates.get("ends_on"),
        revoked_at=dates.get("revoked_at"),
    )
    grant.works.add(*works)
    return grant


@pytest.fixture
def catalogue(creator):
    """Works of one creator whose decisions come from every source, and two developers, the
    first holding grants of every kind (in force, named, for all works, revoked, not yet begun,
    ended)."""
    first, second = factories.AIDeveloperFactory(), factories.AIDeveloperFactory()
    plain = factories.WorkFactory(owner=creator, title="Plain <b>bold</b>", kind="book")
    overridden = factories.WorkFactory(owner=creator, title="Overridden", kind="song")
    named = factories.WorkFactory(owner=creator, title="Named", kind="artwork")
    archived = factories.WorkFactory(owner=creator, title="Archived", status="archived")
    for work, scheme, value in [
        (plain, "url", "https://example.com/b"),
        (plain, "isbn", "9780306406157"),
        (plain, "doi", "10.1000/xyz"),
        (named, "url", "https://example.com/a"),
    ]:
        WorkIdentifier.objects.create(work=work, scheme=scheme, value=value)
    Preference.objects.create(owner=creator, work=None, use="train-ai", choice="licence")
    Preference.objects.create(owner=creator, work=None, use="search", choice="deny")
    Preference.objects.create(owner=creator, work=overridden, use="train-ai", choice="allow")
    Preference.objects.create(owner=creator, work=overridden, use="ai-input", choice="allow")
    Preference.objects.create(owner=creator, work=archived, use="train-genai", choice="deny")
    today = timezone.localdate()
    _grant(creator, first, ["train-ai"], works=[named])  # covers train-genai too
    _grant(creator, first, ["ai-input"], all_works=True)
    _grant(creator, first, ["search"], works=[plain], revoked_at=timezone.now())
    _grant(creator, first, ["train-genai"], all_works=True, starts_on=today + timedelta(days=1))
    _grant(creator, first, ["train-ai"], works=[overridden], ends_on=today - timedelta(days=1))
    _grant(creator, second, ["search"], works=[archived])
    return [plain, overridden, named, archived], [None, first, second]


def test_one_work_is_the_object_the_lookup_builds(catalogue):
    works, developers = catalogue
    for developer in developers:
        built = work_objects([work.pk for work in works], developer=developer)
        for work in works:
            assert one_work_object(work.public_id, developer=developer) == built[work.pk]
    # And the decisions do differ, so the comparison above compares something.
    named = works[2]
    mine = one_work_object(named.public_id, developer=developers[1])["decision"]
    public = one_work_object(named.public_id)["decision"]
    assert mine["train-genai"]["source"] == "grant" and mine["train-ai"]["source"] == "grant"
    assert public["train-ai"] == {"choice": "licence", "source": "default", "licence_ref": ""}
    assert one_work_object(named.public_id)["identifiers"] == ["url:https://example.com/a"]


def test_a_creator_without_a_profile_name_is_credited_as_nothing(creator, catalogue):
    CreatorProfile.objects.filter(user=creator).update(credit_name="", display_name="")
    works, _ = catalogue
    assert one_work_object(works[0].public_id)["credit_name"] == ""
    assert one_work_object(works[0].public_id) == work_objects([works[0].pk])[works[0].pk]


def test_an_unknown_work_is_none(db):
    assert one_work_object("NoSuchWork000000") is None


def test_a_work_costs_one_query_and_the_key_one_more(api, catalogue):
    works, _ = catalogue
    api.get(f"/api/v1/works/{works[0].public_id}")  # the key's last use noted (once a minute)
    for work in works:
        with CaptureQueriesContext(connection) as queries:
            response = api.get(f"/api/v1/works/{work.public_id}")
        assert response.status_code == HTTPStatus.OK
        # The rate limits' counters are in the database cache table on the embedded default
        # (with its savepoints).
        mine = [
            q["sql"]
            for q in queries
            if "portal_cache" not in q["sql"] and "SAVEPOINT" not in q["sql"]
        ]
        assert len(mine) == 2, "\n".join(sql[:60] for sql in mine)


def test_a_key_used_a_moment_ago_is_refused_once_revoked(api, developer_key, catalogue):
    works, _ = catalogue
    url = f"/api/v1/works/{works[0].public_id}"
    assert api.get(url).status_code == HTTPStatus.OK  # this process now holds the key
    key, _, member = developer_key
    api_key_revoke(actor=member, key=key)
    response = api.get(url)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "invalid_key"


def test_a_key_of_an_organisation_deactivated_a_moment_ago_is_refused(api, developer_key):
    key, clear, _ = developer_key
    assert api_key_authenticate(clear) == key
    AIDeveloper.objects.filter(pk=key.developer_id).update(is_active=False)
    assert api_key_authenticate(clear) is None


def test_a_key_held_by_the_process_follows_its_organisations_changes(developer_key):
    key, clear, _ = developer_key
    assert api_key_authenticate(clear).developer.name == "Example AI Ltd"
    developer = AIDeveloper.objects.get(pk=key.developer_id)
    developer.name = "Example AI Group"
    developer.save()
    assert api_key_authenticate(clear).developer.name == "Example AI Group"
