"""GET /api/v1/changes (docs/api.md, "Change feed"): pages over HTTP and every documented error."""

from http import HTTPStatus

import pytest
from django.test import Client

from consent import services as consent
from tests.works_registry.test_api import _error
from tests.works_registry.test_changes import licence
from works import services as works
from works_registry import changes
from works_registry.changes import Position

URL = "/api/v1/changes"


@pytest.fixture
def start(db):
    """A cursor at the start of the log (what a test's first export would give)."""
    return changes.cursor_encode(Position(0, 0))


def _end(client, cursor) -> str:
    while True:
        body = client.get(URL, {"cursor": cursor}).json()
        cursor = body["next_cursor"]
        if not body["more"]:
            return cursor


def test_a_page_lists_the_changed_works_for_the_callers_key(api, creator, start):
    work = works.work_create(owner=creator, title="The Long Shore", kind="book")
    cursor = _end(api, start)
    consent.override_set(actor=creator, work=work, choices={"search": "deny"})

    response = api.get(URL, {"cursor": cursor})

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert [entry["public_id"] for entry in body["results"]] == [work.public_id]
    entry = body["results"][0]
    assert entry["type"] == "work" and entry["removed"] is False
    assert entry["work"]["decision"]["search"] == {
        "choice": "deny",
        "source": "override",
        "licence_ref": "",
    }
    assert body["more"] is False
    assert body["next"].startswith("http://testserver/api/v1/changes?cursor=")
    # Caught up: the next page is empty and keeps its place.
    again = api.get(URL, {"cursor": body["next_cursor"]}).json()
    assert again["results"] == [] and again["next_cursor"] == body["next_cursor"]


def test_pages_follow_next_until_more_is_false(api, creator, start):
    made = [works.work_create(owner=creator, title=f"Work {n}", kind="poem") for n in range(5)]
    cursor = _end(api, start)
    consent.defaults_set(actor=creator, owner=creator, choices={"train-ai": "licence"})

    seen, url, pages = [], f"{URL}?cursor={cursor}&limit=2", 0
    while True:
        body = api.get(url).json()
        pages += 1
        seen += [entry["public_id"] for entry in body["results"]]
        if not body["more"]:
            break
        url = body["next"]

    assert seen == [work.public_id for work in made]
    assert pages == 3


def test_another_developers_licence_is_not_in_my_feed(
    api, other_api, other_developer_key, creator, start
):
    work = works.work_create(owner=creator, title="The Long Shore", kind="book")
    mine, theirs = _end(api, start), _end(other_api, start)
    other = other_developer_key[0].developer
    licence(creator, other, "THEIRS-1", uses=["train-ai"], works=[work])

    assert api.get(URL, {"cursor": mine}).json()["results"] == []
    listed = other_api.get(URL, {"cursor": theirs}).json()["results"]
    assert [entry["work"]["decision"]["train-ai"]["licence_ref"] for entry in listed] == [
        "THEIRS-1"
    ]


def test_the_feed_needs_a_key(api_limits, start):
    _error(Client().get(URL, {"cursor": start}), 401, "missing_key")
    bad = Client(HTTP_AUTHORIZATION="Bearer ccp_00000000_nope")
    _error(bad.get(URL, {"cursor": start}), 401, "invalid_key")


@pytest.mark.parametrize(
    "cursor",
    ["nonsense", "WzEsMiwzXQ:forged", "x" * 300, "[0,0,-1]"],
)
def test_a_cursor_this_api_did_not_give_is_400(api, cursor):
    error = _error(api.get(URL, {"cursor": cursor}), 400, "invalid_cursor")
    assert error["fields"] == {"cursor": ["Unknown cursor."]}


def test_a_tampered_cursor_is_400(api, start):
    """A cursor's position changed by hand keeps a signature that no longer matches."""
    genuine = changes.cursor_encode(Position(0, 5))
    moved = changes.cursor_encode(Position(0, 9))
    forged = moved.split(":")[0] + ":" + genuine.split(":")[1]
    _error(api.get(URL, {"cursor": forged}), 400, "invalid_cursor")


def test_the_cursor_is_required(api):
    error = _error(api.get(URL), 400, "invalid")
    assert error["fields"] == {"cursor": ["Required."]}


@pytest.mark.parametrize(("limit", "message"), [(0, "At least 1."), (1001, "At most 1000.")])
def test_the_page_size_is_1_to_1000(api, start, limit, message):
    error = _error(api.get(URL, {"cursor": start, "limit": limit}), 400, "invalid")
    assert error["fields"] == {"limit": [message]}


def test_the_key_limit_applies_to_the_feed(api, settings, start):
    settings.API_RATE_LIMIT_PER_KEY = "2/min"
    for _ in range(2):
        assert api.get(URL, {"cursor": start}).status_code == HTTPStatus.OK
    response = api.get(URL, {"cursor": start})
    _error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1


def test_the_feed_is_read_only(api, start):
    response = api.post(URL, {"cursor": start})
    _error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]
