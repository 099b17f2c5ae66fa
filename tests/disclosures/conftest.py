"""Fixtures of the disclosures' API and page tests: two AI developers with a key and a signed-in
member each, and a creator's planted works (the rows of ``planted.MANIFEST``)."""

import pytest
from django.test import Client

from accounts import ratelimits
from consent.services import override_set
from notices.services import api_key_create
from tests import factories
from works.models import WorkIdentifier

from .planted import ALLOWED_ISBN, DENIED_ISBN, FORMULA_TITLE, LICENCE_ISBN


@pytest.fixture
def api_limits(settings):
    """The production limits, whatever the environment says; the cache's pause forgotten."""
    settings.API_RATE_LIMIT_PER_KEY = "600/min"
    settings.API_RATE_LIMIT_PER_IP = "1200/min"
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
    return _key(factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai"))


@pytest.fixture
def other_developer_key(db):
    return _key(factories.AIDeveloperFactory(name="Other Models Inc", slug="other-models"))


@pytest.fixture
def developer(developer_key):
    return developer_key[0].developer


@pytest.fixture
def other_developer(other_developer_key):
    return other_developer_key[0].developer


@pytest.fixture
def api(developer_key, api_limits):
    """A client without cookies that sends the first developer's key."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {developer_key[1]}")


@pytest.fixture
def other_api(other_developer_key, api_limits):
    return Client(HTTP_AUTHORIZATION=f"Bearer {other_developer_key[1]}")


@pytest.fixture
def member(developer_key):
    """A person of the first developer, signed in."""
    client = Client()
    client.force_login(developer_key[2])
    return client


@pytest.fixture
def other_member(other_developer_key):
    client = Client()
    client.force_login(other_developer_key[2])
    return client


@pytest.fixture
def planted(creator):
    """The creator's works the manifest names: ``denied`` (by default every AI use is),
    ``allowed`` (train-ai allowed), ``licence`` (train-ai only under licence), ``formula``
    (denied; named by title and author)."""

    def work(title, isbn=None, train_ai=None):
        made = factories.WorkFactory(owner=creator, title=title, kind="book")
        if isbn:
            WorkIdentifier.objects.create(work=made, scheme="isbn", value=isbn)
        if train_ai:
            override_set(actor=creator, work=made, choices={"train-ai": train_ai})
        return made

    return {
        "denied": work("The Long Shore", DENIED_ISBN),
        "allowed": work("Free For All", ALLOWED_ISBN, "allow"),
        "licence": work("Paid Words", LICENCE_ISBN, "licence"),
        "formula": work(FORMULA_TITLE),
    }
