"""The Spawning-compatible endpoint, POST /api/v2/query/urls/ (docs/api.md): Spawning's opt-out
API v2 answered from the works registry, and Spawning's own client (datadiligence) working
against it by its URL alone."""

from datetime import date
from http import HTTPStatus

import pytest
from django.test import Client

from consent.models import LicenceGrant, Preference
from notices.services import api_key_revoke
from tests import factories
from works.models import WorkIdentifier

URLS = "/api/v2/query/urls/"


@pytest.fixture
def works(creator, other_creator, developer_key):
    """Four pages: denied (the built-in default), under licence, allowed, and granted to the
    first developer by licence."""

    def work(owner, url, choice=None):
        w = factories.WorkFactory(owner=owner)
        WorkIdentifier.objects.create(work=w, scheme="url", value=url)
        if choice:
            Preference.objects.create(owner=owner, work=w, use="train-genai", choice=choice)
        if choice == "allow":  # train-genai is never more open than train-ai
            Preference.objects.create(owner=owner, work=w, use="train-ai", choice="allow")
        return w

    denied = work(creator, "https://example.com/denied")
    licensed = work(creator, "https://example.com/licence", "licence")
    allowed = work(other_creator, "https://example.org/allowed", "allow")
    granted = work(creator, "https://example.com/granted", "licence")
    LicenceGrant.objects.create(
        owner=creator,
        developer=developer_key[0].developer,
        all_works=False,
        uses=["train-genai"],
        licence_ref="LIC-1",
        starts_on=date(2020, 1, 1),
    ).works.add(granted)
    return denied, licensed, allowed, granted


def _post(client, text, content_type="text/plain"):
    return client.post(URLS, text.encode() if isinstance(text, str) else text, content_type)


def _spawning(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"API {key}")


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == code
    return response.json()["error"]


def test_each_line_is_answered_in_order_and_echoed_as_sent(developer_key, api_limits, works):
    lines = [
        "https://example.org/allowed",
        "HTTPS://EXAMPLE.com:443/denied?utm_source=feed#top",
        "not a url",
        "https://example.com/licence",
        "",
        "https://example.com/unknown",
        "https://example.com/granted",
    ]
    response = _post(_spawning(developer_key[1]), "\n".join(lines))
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    assert response.json() == {
        "urls": [
            {"url": lines[0], "optOut": False, "optIn": True},
            {"url": lines[1], "optOut": True, "optIn": False},
            {"url": lines[2], "optOut": False, "optIn": False},
            {"url": lines[3], "optOut": True, "optIn": False},
            {"url": lines[4], "optOut": False, "optIn": False},
            {"url": lines[5], "optOut": False, "optIn": False},
            {"url": lines[6], "optOut": False, "optIn": True},
        ]
    }


def test_the_answer_is_for_the_calling_developer(other_developer_key, api_limits, works):
    response = _post(_spawning(other_developer_key[1]), "https://example.com/granted\n")
    assert response.json() == {
        "urls": [{"url": "https://example.com/granted", "optOut": True, "optIn": False}]
    }


def test_crlf_lines_and_a_final_newline(developer_key, api_limits, works):
    response = _post(
        _spawning(developer_key[1]), "https://example.com/denied\r\nhttps://example.org/allowed\r\n"
    )
    assert [(u["url"], u["optOut"]) for u in response.json()["urls"]] == [
        ("https://example.com/denied", True),
        ("https://example.org/allowed", False),
    ]


def test_a_key_is_needed_and_a_revoked_one_refused_at_once(developer_key, api_limits, works):
    _error(_post(Client(), "https://example.com/denied"), 401, "missing_key")
    client = _spawning(developer_key[1])
    assert _post(client, "https://example.com/denied").status_code == HTTPStatus.OK
    key, _, member = developer_key
    api_key_revoke(actor=member, key=key)
    _error(_post(client, "https://example.com/denied"), 401, "invalid_key")


def test_the_body_is_plain_text(developer_key, api_limits):
    client = _spawning(developer_key[1])
    _error(
        _post(client, '["https://example.com/"]', "application/json"), 415, "unsupported_media_type"
    )


def test_more_than_10000_lines_are_413(developer_key, api_limits):
    text = "\n".join(f"https://example.com/{i}" for i in range(10_001))
    _error(_post(_spawning(developer_key[1]), text), 413, "too_many_items")


def test_10000_lines_are_answered(developer_key, api_limits, works):
    text = "\n".join(
        ["https://example.com/denied"] + [f"https://example.com/{i}" for i in range(9_999)]
    )
    response = _post(_spawning(developer_key[1]), text)
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    urls = response.json()["urls"]
    assert len(urls) == 10_000
    assert urls[0]["optOut"] is True
    assert not any(u["optOut"] for u in urls[1:])


def test_the_key_limit_applies(developer_key, api_limits):
    api_limits.API_RATE_LIMIT_PER_KEY = "1/min"
    client = _spawning(developer_key[1])
    assert _post(client, "https://example.com/").status_code == HTTPStatus.OK
    _error(_post(client, "https://example.com/"), 429, "rate_limited")


def test_other_methods_are_405_with_allow(developer_key, api_limits):
    response = _spawning(developer_key[1]).get(URLS)
    _error(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


# --- Spawning's own client ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_spawnings_own_client_works_against_the_portal(
    live_server, monkeypatch, developer_key, api_limits, works
):
    from datadiligence.rules.spawning import SpawningAPI

    monkeypatch.setenv(SpawningAPI.API_KEY_ENV_VAR, developer_key[1])
    monkeypatch.setattr(SpawningAPI, "SPAWNING_AI_API_URL", live_server.url + URLS)
    # Chunks of 5 URLs: 25 requests, up to 10 at once, within the default limits.
    rule = SpawningAPI(chunk_size=5, max_retries=0)
    assert rule.is_ready()
    opted_out = {
        "https://example.com/denied?utm_campaign=x",
        "https://example.com/licence",
    }
    free = {"https://example.org/allowed", "https://example.com/granted"}
    unknown = {f"https://example.net/{i}" for i in range(121)}
    urls = sorted(opted_out | free | unknown)

    assert set(rule.filter_allowed(urls=urls)) == free | unknown
    assert rule.is_allowed(urls=urls) == [u not in opted_out for u in urls]

    import asyncio

    allowed = asyncio.run(rule.filter_allowed_async(urls=urls))
    assert set(allowed) == free | unknown


def test_a_body_over_djangos_upload_limit_is_answered(developer_key, api_limits, settings, works):
    text = "\n".join(
        ["https://example.com/denied"] * 2 + ["https://example.net/" + "a" * 400] * 8_000
    )
    assert len(text) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = _post(_spawning(developer_key[1]), text)
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    assert [u["optOut"] for u in response.json()["urls"][:3]] == [True, True, False]


def test_the_v2_api_describes_itself(api_limits):
    document = Client().get("/api/v2/openapi.json")
    assert document.status_code == HTTPStatus.OK
    operation = document.json()["paths"][URLS]["post"]
    assert "text/plain" in operation["requestBody"]["content"]
    assert Client().get("/api/v2/docs").status_code == HTTPStatus.OK
