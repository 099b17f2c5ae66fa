"""The one API layer under ``/api/``: the OpenAPI document and its docs page generated from the
code, and the documented contract (docs/api.md) holding where the framework's own defaults
would answer otherwise — 400 ``invalid`` with ``fields`` (never 422 ``{"detail"}``), JSON 404
for unknown paths, JSON 405 with ``Allow``, one key check with both header forms."""

import json
import re
from http import HTTPStatus

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from accounts import ratelimits
from notices.services import api_key_create
from tests.e2e import conftest as e2e

# The browser test's fixtures (one Chromium per module, a phone-sized page).
browser, page = e2e.browser, e2e.page

OPENAPI = "/api/v1/openapi.json"
DOCS = "/api/v1/docs"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.API_RATE_LIMIT_PER_KEY = "600/min"
    settings.API_RATE_LIMIT_PER_IP = "1200/min"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    ratelimits._paused_until = 0.0


@pytest.fixture
def api_key(developer_user, developer):
    _, clear = api_key_create(actor=developer_user, developer=developer, name="pipeline")
    return clear


@pytest.fixture
def api(api_key):
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_key}")


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"error"}, body  # never ninja's {"detail": ...}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


# --- The OpenAPI document and the docs page -----------------------------------------------------


def _no_duplicate_keys(pairs):
    """Swagger UI (and any YAML reader) refuses a document with a key twice in one object."""
    names = [name for name, _ in pairs]
    assert len(names) == len(set(names)), names
    return dict(pairs)


def test_the_openapi_document_describes_the_notices_endpoints_and_the_key():
    response = Client().get(OPENAPI)

    assert response.status_code == HTTPStatus.OK
    document = json.loads(response.content, object_pairs_hook=_no_duplicate_keys)
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    assert {"get"} <= set(paths["/api/v1/notices"])
    assert {"get", "post"} <= set(paths["/api/v1/notices/{pk}/answers"])
    assert "/api/v1/notices/{pk}" in paths
    schemes = document["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values()), schemes
    # The body's schema refuses unknown fields, and the documented errors are described.
    post = paths["/api/v1/notices/{pk}/answers"]["post"]
    assert {"400", "401", "404", "415", "429"} <= set(post["responses"])
    assert "422" not in post["responses"]
    body_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body_schema = document["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert body_schema["additionalProperties"] is False
    assert set(body_schema["properties"]) == {"answer", "statement"}


def test_the_docs_page_uses_only_the_portals_own_static_files_and_no_inline_script():
    response = Client().get(DOCS)

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html), "nothing from a CDN"
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts
    for attributes, content in scripts:
        # Either a file of the portal's own, or data (JSON), which no browser runs.
        assert "src=" in attributes or 'type="application/json"' in attributes, attributes
        if "src=" in attributes:
            assert not content.strip()
    for asset in re.findall(r"""(?:src|href)=["']/static/([^"'?]+)""", html):
        assert finders.find(asset), f"{asset} is not among the portal's static files"


@pytest.mark.browser
def test_the_docs_page_shows_the_notices_endpoints_in_a_browser(live_server, page):
    page.goto(live_server.url + DOCS)

    page.get_by_text("/api/v1/notices/{pk}/answers").first.wait_for()
    assert page.get_by_text("/api/v1/notices", exact=True).count() >= 1
    assert page.console_errors == []  # no CSP violation, nothing failed to load


# --- Errors as documented, not as the framework would answer --------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nothing-here", "/api/", "/api/v9/notices", "/api/v1/notices/abc", "/api/v1/docs/x"],
)
def test_an_unknown_api_path_is_a_json_404(api, path):
    _error(api.get(path), HTTPStatus.NOT_FOUND, "not_found")


def test_an_unknown_api_path_is_a_json_404_without_a_key_too():
    _error(Client().post("/api/v1/nothing-here"), HTTPStatus.NOT_FOUND, "not_found")


def test_a_method_not_allowed_is_json_with_allow(api, notice_url):
    error = _error(api.patch(notice_url), HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed")

    assert "PATCH" in error["message"]
    assert api.patch(notice_url)["Allow"] == "GET"
    assert api.delete(OPENAPI)["Allow"] == "GET"


@pytest.fixture
def notice_url(make_notice):
    return reverse("notices-api:notice-detail", args=[make_notice().pk])


@pytest.mark.parametrize(
    "query, field",
    [({"limit": "ten"}, "limit"), ({"limit": "0"}, "limit"), ({"state": "shut"}, "state")],
)
def test_bad_query_parameters_are_400_invalid_with_fields_not_422(api, query, field):
    error = _error(api.get("/api/v1/notices", query), HTTPStatus.BAD_REQUEST, "invalid")

    assert list(error["fields"]) == [field]
    assert all(isinstance(m, str) and m for m in error["fields"][field])


def test_bad_body_fields_are_400_invalid_with_a_sentence_for_each(api, notice_url):
    response = api.post(
        notice_url + "/answers",
        json.dumps({"answer": "agreed", "statement": 5, "comment": "hi"}),
        content_type="application/json",
    )

    fields = _error(response, HTTPStatus.BAD_REQUEST, "invalid")["fields"]
    assert fields == {
        "answer": ["Unknown answer: one of acknowledged, complied, disputed."],
        "statement": ["A string."],
        "comment": ["Unknown field."],
    }


def test_a_missing_answer_is_named(api, notice_url):
    response = api.post(notice_url + "/answers", "{}", content_type="application/json")

    fields = _error(response, HTTPStatus.BAD_REQUEST, "invalid")["fields"]
    assert fields == {"answer": ["Required."]}


def test_an_empty_state_lists_every_notice(api, make_notice):
    make_notice()

    response = api.get("/api/v1/notices", {"state": "", "limit": ""})

    assert response.status_code == HTTPStatus.OK
    assert len(response.json()["results"]) == 1


def test_the_spawning_form_of_the_header_reads_the_list(api_key, make_notice):
    make_notice()
    for scheme in ("API", "api", "Bearer", "BEARER"):
        client = Client(HTTP_AUTHORIZATION=f"{scheme} {api_key}")
        response = client.get("/api/v1/notices")
        assert response.status_code == HTTPStatus.OK, scheme
        assert len(response.json()["results"]) == 1


def test_a_signed_in_session_does_not_read_the_list(sign_in, developer_user, make_notice):
    make_notice()
    client = sign_in(developer_user)

    _error(client.get("/api/v1/notices"), HTTPStatus.UNAUTHORIZED, "missing_key")


# --- The documents count against the limits too --------------------------------------------------


def test_the_openapi_document_counts_against_the_address(db, settings):
    settings.API_RATE_LIMIT_PER_IP = "2/h"
    client = Client(REMOTE_ADDR="198.51.100.7")
    client.get(OPENAPI)
    client.get(DOCS)

    _error(client.get(OPENAPI), HTTPStatus.TOO_MANY_REQUESTS, "rate_limited")
    _error(client.get("/api/v1/nothing"), HTTPStatus.TOO_MANY_REQUESTS, "rate_limited")


def test_a_bad_key_sent_to_the_openapi_document_is_refused(api_key):
    response = Client(HTTP_AUTHORIZATION="Bearer ccp_00000000_nope").get(OPENAPI)

    _error(response, HTTPStatus.UNAUTHORIZED, "invalid_key")
    assert Client(HTTP_AUTHORIZATION=f"API {api_key}").get(OPENAPI).status_code == HTTPStatus.OK


def test_a_fault_of_the_portals_is_a_json_500(api, monkeypatch):
    def broken(developer):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("notices.api._notices", broken)
    api.raise_request_exception = False

    error = _error(api.get("/api/v1/notices"), HTTPStatus.INTERNAL_SERVER_ERROR, "server_error")
    assert "database" not in error["message"]
