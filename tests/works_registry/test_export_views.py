"""The registry export over HTTP (docs/api.md, "Export"): GET/POST /api/v1/export and its status
with a key, and the developer's pages in the browser — with who may see what."""

import gzip
import json
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.works_registry.test_api import _error
from works import services as works
from works_registry import export
from works_registry.export_models import RegistryExport

URL = "/api/v1/export"
STATUS = "/api/v1/export/status"


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _build(developer) -> RegistryExport:
    asked = export.export_request(developer=developer)
    return export.export_build(export_id=asked.pk)


@pytest.fixture
def developer(developer_key):
    return developer_key[0].developer


@pytest.fixture
def ready(creator, developer):
    works.work_create(owner=creator, title="The Long Shore", kind="book")
    return _build(developer)


# --- The API -------------------------------------------------------------------------------------


def test_the_export_downloads_as_a_gzip_file_with_its_etag(api, ready):
    response = api.get(URL)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/gzip"
    assert "Content-Encoding" not in response  # the file is gzip; nothing undoes it on the way
    assert response["ETag"] == f'"{ready.etag}"'
    assert response["Cache-Control"] == "private, no-cache"
    assert response["X-Registry-Cursor"] == ready.cursor
    assert response["Content-Disposition"].startswith('attachment; filename="registry-')
    assert response["Content-Length"] == str(ready.size)
    lines = gzip.decompress(_body(response)).decode().splitlines()
    header = json.loads(lines[0])
    assert header["cursor"] == ready.cursor and header["works_count"] == 1
    assert json.loads(lines[1])["work"]["title"] == "The Long Shore"


def test_an_export_you_hold_already_is_304(api, ready):
    etag = api.get(URL)["ETag"]

    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = api.get(URL, HTTP_IF_NONE_MATCH=sent)
        assert response.status_code == HTTPStatus.NOT_MODIFIED, sent
        assert response["ETag"] == etag and response.content == b""
    assert api.get(URL, HTTP_IF_NONE_MATCH='"old"').status_code == HTTPStatus.OK


def test_no_export_yet_is_404(api):
    error = _error(api.get(URL), 404, "not_found")
    assert "POST /api/v1/export" in error["message"]


def test_asking_for_an_export_queues_one_build(api, developer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as woken:
        response = api.post(URL)
        again = api.post(URL)

    assert response.status_code == HTTPStatus.ACCEPTED == again.status_code
    assert response.json()["state"] == "queued" and response.json()["ready"] is False
    assert len(woken) == 1  # the second request found it queued: one build
    assert RegistryExport.objects.filter(developer=developer).count() == 1


def test_an_asked_export_is_built_and_its_status_says_so(
    api, creator, developer, django_capture_on_commit_callbacks
):
    works.work_create(owner=creator, title="One", kind="book")
    with django_capture_on_commit_callbacks(execute=True):  # the worker runs it (eagerly here)
        api.post(URL)

    status = api.get(STATUS).json()

    built = RegistryExport.objects.get(developer=developer)
    assert status == {
        "state": "idle",
        "done": 1,
        "total": 1,
        "requested_at": built.requested_at.isoformat(),
        "error": "",
        "ready": True,
        "built_at": built.built_at.isoformat(),
        "works_count": 1,
        "size": built.size,
        "etag": f'"{built.etag}"',
        "cursor": built.cursor,
        "url": "http://testserver/api/v1/export",
    }
    assert api.get(URL).status_code == HTTPStatus.OK


def test_each_developer_gets_its_own_export(api, other_api, ready):
    _error(other_api.get(URL), 404, "not_found")
    assert other_api.get(STATUS).json()["ready"] is False


@pytest.mark.parametrize("method, path", [("get", URL), ("post", URL), ("get", STATUS)])
def test_the_export_needs_a_key(api_limits, ready, method, path):
    _error(getattr(Client(), method)(path), 401, "missing_key")
    bad = Client(HTTP_AUTHORIZATION="Bearer ccp_00000000_nope")
    _error(getattr(bad, method)(path), 401, "invalid_key")


def test_the_key_limit_applies_to_the_export(api, settings, ready):
    settings.API_RATE_LIMIT_PER_KEY = "1/min"
    assert api.get(URL).status_code == HTTPStatus.OK
    _error(api.get(URL), 429, "rate_limited")


# --- The developer's pages -----------------------------------------------------------------------


PAGE = reverse("registry-export:page")
DOWNLOAD = reverse("registry-export:download")
BUILD = reverse("registry-export:build")
PROGRESS = reverse("registry-export:progress")


@pytest.fixture
def member(developer):
    user = factories.DeveloperMemberFactory(developer=developer).user
    client = Client()
    client.force_login(user)
    return client


def test_a_member_sees_the_export_and_downloads_it(member, ready):
    page = member.get(PAGE)

    assert page.status_code == HTTPStatus.OK
    assert f"{ready.works_count}" in page.content.decode()
    assert DOWNLOAD.encode() in page.content
    download = member.get(DOWNLOAD)
    assert download.status_code == HTTPStatus.OK
    assert download["Content-Type"] == "application/gzip"
    assert download["ETag"] == f'"{ready.etag}"'
    assert gzip.decompress(_body(download)).startswith(b'{"format":"ccp-registry-export/1"')
    assert member.get(DOWNLOAD, HTTP_IF_NONE_MATCH=download["ETag"]).status_code == 304


def test_a_member_asks_for_a_new_export_and_sees_it_coming(member, developer):
    response = member.post(BUILD)

    assert response.status_code == HTTPStatus.FOUND and response["Location"] == PAGE
    assert RegistryExport.objects.get(developer=developer).state == "queued"
    page = member.get(PAGE).content.decode()
    assert "Waiting for the worker" in page and f'hx-get="{PROGRESS}"' in page
    assert "Waiting for the worker" in member.get(PROGRESS).content.decode()


def test_a_build_in_progress_shows_how_far_it_is(member, developer):
    RegistryExport.objects.create(developer=developer, state="building", done=250, total=1000)

    panel = member.get(PROGRESS).content.decode()

    assert 'value="250"' in panel and "250 of 1,000 works" in panel


def test_building_is_asked_with_post_only(member):
    assert member.get(BUILD).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_anonymous_people_are_sent_to_sign_in(ready):
    for url in (PAGE, DOWNLOAD, PROGRESS):
        response = Client().get(url)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(reverse("account_login"))
    assert Client().post(BUILD).status_code == HTTPStatus.FOUND
    assert not RegistryExport.objects.exclude(state="idle").exists()


@pytest.mark.parametrize("persona", ["creator", "guild_staff", "registry_manager", "charlie"])
def test_people_of_no_developer_get_404(request, persona, ready):
    client = Client()
    client.force_login(request.getfixturevalue(persona))

    for url in (PAGE, DOWNLOAD, PROGRESS):
        assert client.get(url).status_code == HTTPStatus.NOT_FOUND, url
    assert client.post(BUILD).status_code == HTTPStatus.NOT_FOUND


def test_another_developers_people_never_get_this_export(other_developer_key, ready):
    client = Client()
    client.force_login(
        factories.DeveloperMemberFactory(developer=other_developer_key[0].developer).user
    )

    assert client.get(DOWNLOAD).status_code == HTTPStatus.NOT_FOUND
    page = client.get(PAGE)
    assert page.status_code == HTTPStatus.OK and ready.etag not in page.content.decode()
    client.post(BUILD)
    assert RegistryExport.objects.get(pk=ready.pk).state == "idle"  # theirs was asked, not this


def test_the_dashboard_links_to_the_export(member):
    assert PAGE.encode() in member.get(reverse("developer:home")).content


def test_the_readmes_export_and_feed_examples_answer_with_the_demo_key(
    db, api_limits, django_capture_on_commit_callbacks
):
    from io import StringIO

    from django.core.management import call_command

    from portal.management.commands.seed_demo import DEMO_API_KEY

    call_command("seed_demo", stdout=StringIO())
    client = Client(HTTP_AUTHORIZATION=f"Bearer {DEMO_API_KEY}")
    with django_capture_on_commit_callbacks(execute=True):  # the worker (eager here)
        assert client.post(URL).status_code == HTTPStatus.ACCEPTED
    assert client.get(STATUS).json()["ready"] is True

    header = json.loads(gzip.decompress(_body(client.get(URL))).splitlines()[0])
    feed = client.get("/api/v1/changes", {"cursor": header["cursor"]})

    assert header["works_count"] > 0
    assert feed.status_code == HTTPStatus.OK and feed.json()["more"] is False
