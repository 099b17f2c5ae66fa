"""Rate limits on the API: per API key and per client IP, on every ``/api/`` endpoint.

Over a limit the API answers 429 with ``Retry-After`` (seconds to the end of the window) and
the JSON error ``rate_limited``. The IP limit comes first, so a flood of bad keys from one
address is stopped too. When the shared cache is unreachable the limits fail open, and say so
in the log.
"""

import logging
import time
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts import ratelimits
from notices.services import api_key_create
from tests.services import free_port


@pytest.fixture(autouse=True)
def _limits(settings):
    """Generous limits unless a test narrows one; no pause left over from another test."""
    settings.API_RATE_LIMIT_PER_KEY = "600/min"
    settings.API_RATE_LIMIT_PER_IP = "1200/min"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    ratelimits._paused_until = 0.0
    yield
    ratelimits._paused_until = 0.0


@pytest.fixture
def api_key(developer_user, developer):
    _, clear = api_key_create(actor=developer_user, developer=developer, name="pipeline")
    return clear


@pytest.fixture
def other_api_key(other_developer_user, other_developer):
    _, clear = api_key_create(actor=other_developer_user, developer=other_developer, name="sync")
    return clear


def _client(key: str | None = None, ip: str = "198.51.100.10", **extra) -> Client:
    if key is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return Client(REMOTE_ADDR=ip, **extra)


LIST = "/api/v1/notices"


def _assert_rate_limited(response, *, window: int = 3600):
    """A 429 whose ``Retry-After`` is the seconds left in the limit's window (windows of a
    period start at multiples of it since the epoch: an hour's on the hour)."""
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    left = window - time.time() % window
    assert abs(int(response["Retry-After"]) - left) <= 2, (response["Retry-After"], left)
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert "try again in" in error["message"].lower()


# --- Per key ------------------------------------------------------------------------------------


def test_a_key_over_its_limit_gets_429_with_retry_after(settings, api_key):
    settings.API_RATE_LIMIT_PER_KEY = "3/h"
    api = _client(api_key)

    answers = [api.get(LIST) for _ in range(3)]
    over = api.get(LIST)

    assert [r.status_code for r in answers] == [HTTPStatus.OK] * 3
    _assert_rate_limited(over)
    assert "this key" in over.json()["error"]["message"]


def test_a_key_over_its_limit_is_limited_from_every_address(settings, api_key):
    settings.API_RATE_LIMIT_PER_KEY = "3/h"
    for n in range(3):
        assert _client(api_key, ip=f"198.51.100.{n + 1}").get(LIST).status_code == HTTPStatus.OK

    _assert_rate_limited(_client(api_key, ip="203.0.113.9").get(LIST))


def test_another_key_is_not_held_back_by_a_key_over_its_limit(settings, api_key, other_api_key):
    settings.API_RATE_LIMIT_PER_KEY = "3/h"
    for _ in range(4):
        _client(api_key, ip="198.51.100.1").get(LIST)

    other = _client(other_api_key, ip="198.51.100.2").get(LIST)

    assert other.status_code == HTTPStatus.OK
    assert other.json()["results"] == []


def test_the_key_limit_takes_any_period(settings, api_key):
    settings.API_RATE_LIMIT_PER_KEY = "2/2h"
    api = _client(api_key)
    api.get(LIST)
    api.get(LIST)

    _assert_rate_limited(api.get(LIST), window=7200)


# --- Per client IP ------------------------------------------------------------------------------


def test_an_address_over_its_limit_gets_429_whatever_key_it_sends(settings, api_key, other_api_key):
    settings.API_RATE_LIMIT_PER_IP = "3/h"
    for _ in range(3):
        assert _client(api_key).get(LIST).status_code == HTTPStatus.OK

    _assert_rate_limited(_client(other_api_key).get(LIST))
    assert "this address" in _client(other_api_key).get(LIST).json()["error"]["message"]
    # Another address with the same key is not held back.
    assert _client(api_key, ip="198.51.100.99").get(LIST).status_code == HTTPStatus.OK


def test_a_flood_of_invalid_keys_from_one_address_gets_429(settings, api_key, developer):
    settings.API_RATE_LIMIT_PER_IP = "5/h"
    prefix = api_key.split("_")[1]
    for n in range(5):
        wrong = _client(f"ccp_{prefix}_guess{n}").get(LIST)
        assert wrong.status_code == HTTPStatus.UNAUTHORIZED

    _assert_rate_limited(_client(f"ccp_{prefix}_guess5").get(LIST))
    _assert_rate_limited(_client().get(LIST))  # no key at all
    # The guesses used up the address, not the key: its owner elsewhere is not held back.
    assert _client(api_key, ip="203.0.113.20").get(LIST).status_code == HTTPStatus.OK


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(settings, api_key):
    settings.API_RATE_LIMIT_PER_IP = "2/h"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    for n in range(2):
        spoofed = _client(api_key, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        assert spoofed.get(LIST).status_code == HTTPStatus.OK

    # A new X-Forwarded-For each time does not make a new client: the peer's address counts.
    _assert_rate_limited(_client(api_key, HTTP_X_FORWARDED_FOR="192.0.2.77").get(LIST))


def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(settings, api_key):
    settings.API_RATE_LIMIT_PER_IP = "2/h"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    # What the client wrote itself comes first; our proxy appends the address it saw.
    first = _client(api_key, ip=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.1")
    second = _client(api_key, ip=proxy, HTTP_X_FORWARDED_FOR="5.6.7.8, 192.0.2.2")
    for _ in range(2):
        assert first.get(LIST).status_code == HTTPStatus.OK
        assert second.get(LIST).status_code == HTTPStatus.OK

    _assert_rate_limited(first.get(LIST))
    # The client cannot escape by changing what it writes in front of the proxy's entry.
    _assert_rate_limited(
        _client(api_key, ip=proxy, HTTP_X_FORWARDED_FOR="9.9.9.9, 192.0.2.1").get(LIST)
    )
    assert (
        _client(api_key, ip=proxy, HTTP_X_FORWARDED_FOR="192.0.2.3").get(LIST).status_code
        == HTTPStatus.OK
    )


def test_addresses_of_one_ipv6_64_share_a_limit(settings, api_key):
    settings.API_RATE_LIMIT_PER_IP = "2/h"
    _client(api_key, ip="2001:db8:1:2::1").get(LIST)
    _client(api_key, ip="2001:db8:1:2::2").get(LIST)

    _assert_rate_limited(_client(api_key, ip="2001:db8:1:2:ffff::3").get(LIST))
    assert _client(api_key, ip="2001:db8:1:3::1").get(LIST).status_code == HTTPStatus.OK


# --- Every endpoint -----------------------------------------------------------------------------


def _api_urls() -> list[str]:
    """One URL for each endpoint under ``/api/``, found in the URL configuration itself (so an
    endpoint added later is covered), with 1 for every path parameter."""
    found = []

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                name = ":".join(filter(None, [namespace, entry.namespace]))
                walk(entry.url_patterns, route, name)
            elif isinstance(entry, URLPattern) and route.startswith("api/"):
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                params = {param: 1 for param in entry.pattern.converters}
                found.append(reverse(name, kwargs=params))

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_api_endpoint_is_limited_by_address_and_by_key(settings, api_key):
    urls = _api_urls()
    assert len(urls) >= 5, urls
    settings.API_RATE_LIMIT_PER_IP = "1/h"
    for n, url in enumerate(urls):
        client = _client(ip=f"198.51.100.{n + 1}")
        client.get(url)
        _assert_rate_limited(client.get(url))

    settings.API_RATE_LIMIT_PER_IP = "1200/min"
    settings.API_RATE_LIMIT_PER_KEY = "1/h"
    # Every endpoint counts against the key's one budget.
    api = _client(api_key, ip="203.0.113.1")
    api.get(urls[0])
    for url in urls:
        _assert_rate_limited(api.get(url))


def test_responses_within_the_limits_are_unchanged(api_key):
    response = _client(api_key).get(LIST)

    assert response.status_code == HTTPStatus.OK
    assert "Retry-After" not in response


# --- The cache unreachable ----------------------------------------------------------------------


@pytest.fixture
def unreachable_cache(settings):
    """The shared cache is a Redis port nothing listens on."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }


def test_the_limits_fail_open_when_the_cache_is_unreachable(
    settings, unreachable_cache, api_key, caplog
):
    settings.API_RATE_LIMIT_PER_KEY = "1/h"
    settings.API_RATE_LIMIT_PER_IP = "1/h"
    api = _client(api_key)

    with caplog.at_level(logging.WARNING, logger="accounts.ratelimits"):
        started = time.monotonic()
        answers = [api.get(LIST) for _ in range(5)]
        elapsed = time.monotonic() - started

    assert [r.status_code for r in answers] == [HTTPStatus.OK] * 5
    logged = [r for r in caplog.records if r.name == "accounts.ratelimits"]
    # Said once, not once a request; and the requests after it do not wait for the cache.
    assert len(logged) == 1
    assert logged[0].levelno == logging.WARNING
    assert "unreachable" in logged[0].getMessage()
    assert elapsed < 3, f"5 requests took {elapsed:.1f} s with the cache down"


# --- The settings -------------------------------------------------------------------------------


def test_an_empty_limit_is_no_limit(settings, api_key):
    settings.API_RATE_LIMIT_PER_KEY = ""
    settings.API_RATE_LIMIT_PER_IP = ""
    api = _client(api_key)

    assert {api.get(LIST).status_code for _ in range(30)} == {HTTPStatus.OK}


@pytest.mark.parametrize("value", ["600", "600/fortnight", "many/min", "10/0s"])
def test_a_limit_that_cannot_be_read_fails_the_system_check(settings, value):
    settings.API_RATE_LIMIT_PER_KEY = value

    with pytest.raises(SystemCheckError, match="API_RATE_LIMIT_PER_KEY"):
        call_command("check")
