"""The works registry's HTTP endpoints, /api/v1 (docs/api.md, "Works registry"): the bulk lookup
and one work, with every documented error."""

import json
from datetime import date
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from consent.models import LicenceGrant, Preference
from notices.services import api_key_revoke
from tests import factories
from works.models import WorkIdentifier

LOOKUP = "/api/v1/lookup"
ISBN = "9780306406157"


def _work_url(public_id: str) -> str:
    return f"/api/v1/works/{public_id}"


@pytest.fixture
def book(creator):
    work = factories.WorkFactory(owner=creator, title="The Long Shore", kind="book")
    WorkIdentifier.objects.create(work=work, scheme="isbn", value=ISBN)
    WorkIdentifier.objects.create(work=work, scheme="url", value="https://example.com/long-shore")
    return work


@pytest.fixture
def granted(creator, book, developer_key):
    """A licence grant of train-genai on ``book`` to the first developer."""
    grant = LicenceGrant.objects.create(
        owner=creator,
        developer=developer_key[0].developer,
        all_works=False,
        uses=["train-genai"],
        licence_ref="LIC-2027-7",
        starts_on=date(2020, 1, 1),
    )
    grant.works.add(book)
    return grant


def _post(client, body, content_type="application/json", url=LOOKUP):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data, content_type=content_type)


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


# --- Bulk lookup -------------------------------------------------------------------------------


def test_a_lookup_answers_each_item_in_order(api, book):
    response = _post(
        api,
        {
            "items": [
                {"doi": "10.5555/nothing"},
                {"isbn": "0-306-40615-2"},
                "not an object",
                {"url": "HTTPS://Example.com:443/long-shore?utm_source=feed&fbclid=x#top"},
                {"isbn": ISBN, "doi": "10.1000/1"},
                {"phash": "xyz"},
            ]
        },
    )
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    assert response["Cache-Control"] == "no-store"
    results = response.json()["results"]
    assert len(results) == 6
    assert results[0] == {"matched": False, "works": [], "truncated": False}
    for index in (1, 3):
        assert results[index]["matched"] is True
        (work,) = results[index]["works"]
        assert work["public_id"] == book.public_id
        assert work["title"] == "The Long Shore"
        assert sorted(work["identifiers"]) == ["isbn:" + ISBN, "url:https://example.com/long-shore"]
    assert results[1]["works"][0]["match"] == {"kind": "isbn"}
    assert results[3]["works"][0]["match"] == {"kind": "url"}
    assert results[2]["error"]["code"] == "not_an_object"
    assert results[4]["error"]["code"] == "several_identifiers"
    assert results[5]["error"]["code"] == "invalid_identifier"
    for index in (2, 4, 5):
        assert set(results[index]) == {"error"}


def test_a_licence_is_answered_to_its_developer_only(api, other_api, book, granted):
    body = {"items": [{"isbn": ISBN}]}
    mine = _post(api, body).json()["results"][0]["works"][0]["decision"]["train-genai"]
    theirs = _post(other_api, body).json()["results"][0]["works"][0]["decision"]["train-genai"]
    assert mine == {"choice": "allow", "source": "grant", "licence_ref": "LIC-2027-7"}
    assert theirs == {"choice": "deny", "source": "built-in", "licence_ref": ""}


def test_a_lookup_needs_a_key(api_limits, book):
    _error(_post(Client(), {"items": [{"isbn": ISBN}]}), 401, "missing_key")
    bad = Client(HTTP_AUTHORIZATION="Bearer ccp_00000000_nope")
    _error(_post(bad, {"items": [{"isbn": ISBN}]}), 401, "invalid_key")


def test_a_revoked_key_is_refused_at_once(api, developer_key, book):
    assert _post(api, {"items": [{"isbn": ISBN}]}).status_code == HTTPStatus.OK
    key, _, member = developer_key
    api_key_revoke(actor=member, key=key)
    _error(_post(api, {"items": [{"isbn": ISBN}]}), 401, "invalid_key")


def test_more_than_10000_items_are_413(api):
    _error(_post(api, {"items": [{"isbn": ISBN}] * 10_001}), 413, "too_many_items")


def test_10000_items_over_djangos_upload_limit_are_answered(api, settings, book):
    """The body may be 32 MiB: over DATA_UPLOAD_MAX_MEMORY_SIZE, which stays as it is."""
    url = "https://example.com/long-shore?" + "k=v&" * 80
    items = [{"url": url}] * 9_999 + [{"isbn": ISBN}]
    body = json.dumps({"items": items})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = _post(api, body)
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    results = response.json()["results"]
    assert len(results) == 10_000
    assert results[-1]["matched"] is True


def test_a_body_over_32_mib_is_refused(api):
    body = json.dumps({"items": [{"url": "https://example.com/" + "a" * 4000}] * 8_500})
    assert len(body) > 32 * 2**20
    _error(_post(api, body), 400, "body_too_large")


def test_a_body_over_djangos_upload_limit_is_refused_as_json_elsewhere(api, settings):
    """Over DATA_UPLOAD_MAX_MEMORY_SIZE, a body the endpoint does not take is refused in the
    API's own words (415, body_too_large), never with Django's HTML 400."""
    big = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    _error(_post(api, big, content_type="text/plain"), 415, "unsupported_media_type")
    answers = "/api/v1/notices/999999/answers"
    body = json.dumps({"answer": "complied", "statement": "x" * len(big)})
    _error(_post(api, body, url=answers), 400, "body_too_large")
    _error(_post(Client(), json.dumps({"items": ["x" * len(big)]})), 401, "missing_key")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": {"isbn": ISBN}}, "items"),
        ({"items": "isbn"}, "items"),
        ({}, "items"),
        ({"items": [], "limit": 3}, "limit"),
    ],
)
def test_a_malformed_body_is_400_invalid_with_fields(api, body, field):
    error = _error(_post(api, body), 400, "invalid")
    assert field in error["fields"]


def test_a_lookup_needs_a_json_body(api):
    _error(_post(api, "isbn=1", content_type="text/plain"), 415, "unsupported_media_type")
    _error(_post(api, "{items:"), 400, "malformed_json")


def test_other_methods_on_lookup_are_405(api):
    response = api.get(LOOKUP)
    _error(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


def test_the_key_limit_applies_to_lookups(api, settings):
    settings.API_RATE_LIMIT_PER_KEY = "2/min"
    for _ in range(2):
        assert _post(api, {"items": []}).status_code == HTTPStatus.OK
    response = _post(api, {"items": []})
    _error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1


def test_lookup_queries_do_not_grow_with_the_items(api, creator):
    def queries(n):
        works = [factories.WorkFactory(owner=creator) for _ in range(n)]
        for i, work in enumerate(works):
            WorkIdentifier.objects.create(work=work, scheme="doi", value=f"10.5555/q{n}-{i}")
        items = [{"doi": f"10.5555/q{n}-{i}"} for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            assert _post(api, {"items": items}).status_code == HTTPStatus.OK
        return len(ctx)

    _post(api, {"items": []})  # the key's last use noted (once a minute) before counting
    assert queries(2) == queries(12)


# --- One work ----------------------------------------------------------------------------------


def test_a_work_is_read_with_the_developers_own_decision(api, other_api, book, granted):
    mine = api.get(_work_url(book.public_id))
    assert mine.status_code == HTTPStatus.OK, mine.content[:300]
    work = mine.json()
    assert work["public_id"] == book.public_id
    assert work["title"] == "The Long Shore"
    assert work["decision"]["train-genai"]["licence_ref"] == "LIC-2027-7"
    assert "match" not in work
    theirs = other_api.get(_work_url(book.public_id)).json()
    assert theirs["decision"]["train-genai"]["choice"] == "deny"


def test_anyone_reads_a_work_with_the_public_decision(api_limits, creator, book, granted):
    Preference.objects.create(owner=creator, work=None, use="train-ai", choice="allow")
    response = Client().get(_work_url(book.public_id))
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    decision = response.json()["decision"]
    assert decision["train-genai"] == {"choice": "deny", "source": "built-in", "licence_ref": ""}
    assert decision["train-ai"]["choice"] == "allow"


def test_an_unknown_work_is_a_json_404(api, api_limits):
    _error(api.get(_work_url("NoSuchWork000000")), 404, "not_found")
    _error(Client().get(_work_url("NoSuchWork000000")), 404, "not_found")


def test_a_bad_or_revoked_key_is_refused_on_a_work(api, developer_key, book):
    _error(Client(HTTP_AUTHORIZATION="API nope").get(_work_url(book.public_id)), 401, "invalid_key")
    key, _, member = developer_key
    api_key_revoke(actor=member, key=key)
    _error(api.get(_work_url(book.public_id)), 401, "invalid_key")


def test_anonymous_reads_have_a_low_limit_of_their_own(api, api_limits, book):
    api_limits.API_RATE_LIMIT_ANONYMOUS_WORK = "2/min"
    anonymous = Client()
    for _ in range(2):
        assert anonymous.get(_work_url(book.public_id)).status_code == HTTPStatus.OK
    response = anonymous.get(_work_url(book.public_id))
    error = _error(response, 429, "rate_limited")
    assert "API key" in error["message"]
    assert int(response["Retry-After"]) >= 1
    # A key holder from the same address is not held by it.
    assert api.get(_work_url(book.public_id)).status_code == HTTPStatus.OK


def test_the_readmes_registry_examples_answer_with_the_demo_key(db, api_limits):
    from io import StringIO

    from django.core.management import call_command

    from portal.management.commands.seed_demo import DEMO_API_KEY

    call_command("seed_demo", stdout=StringIO())
    client = Client(HTTP_AUTHORIZATION=f"Bearer {DEMO_API_KEY}")
    items = [{"isbn": "978-0-306-40615-7"}, {"url": "https://example.com/page?utm_source=x"}]
    response = _post(client, {"items": items})
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    assert [set(r) for r in response.json()["results"]] == [{"matched", "works", "truncated"}] * 2
    spawning = Client(HTTP_AUTHORIZATION=f"API {DEMO_API_KEY}")
    response = spawning.post("/api/v2/query/urls/", b"https://example.com/page\n", "text/plain")
    assert response.json() == {
        "urls": [{"url": "https://example.com/page", "optOut": False, "optIn": False}]
    }
