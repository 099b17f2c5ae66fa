"""Fixtures of the works registry's API tests: two AI developers, each with an API key."""

import pytest
from django.test import Client

from accounts import ratelimits
from notices.services import api_key_create
from tests import factories


@pytest.fixture
def api_limits(settings):
    """The production limits, whatever the environment says; the cache's pause forgotten."""
    settings.API_RATE_LIMIT_PER_KEY = "600/min"
    settings.API_RATE_LIMIT_PER_IP = "1200/min"
    settings.API_RATE_LIMIT_ANONYMOUS_WORK = "60/min"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    ratelimits._paused_until = 0.0
    return settings


def _key(developer) -> tuple:
    user = factories.DeveloperMemberFactory(developer=developer).user
    key, clear = api_key_create(actor=user, developer=developer, name="pipeline")
    return key, clear, user


@pytest.fixture
def developer_key(db):
    """(APIKey, the key in clear, a member) of a first developer."""
    return _key(factories.AIDeveloperFactory(name="Example AI Ltd"))


@pytest.fixture
def other_developer_key(db):
    return _key(factories.AIDeveloperFactory(name="Other Models Inc"))


@pytest.fixture
def api(developer_key, api_limits):
    """A client without cookies that sends the first developer's key."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {developer_key[1]}")


@pytest.fixture
def other_api(other_developer_key, api_limits):
    return Client(HTTP_AUTHORIZATION=f"API {other_developer_key[1]}")
