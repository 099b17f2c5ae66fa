import pytest

from removals import services
from tests import factories


@pytest.fixture(autouse=True)
def webhook_key(settings):
    settings.NOTICES_WEBHOOK_KEY = "dGVzdC1vbmx5LXdlYmhvb2sta2V5LTMyLWJ5dGVzISE="


def _developer(name, slug):
    developer = factories.AIDeveloperFactory(name=name, slug=slug)
    factories.DeveloperContactFactory(developer=developer, email=f"legal@{slug}.example")
    return developer


@pytest.fixture
def developer(db):
    return _developer("Example AI Ltd", "example-ai")


@pytest.fixture
def other_developer(db):
    return _developer("Other Models Inc", "other-models")


@pytest.fixture
def two_works(creator):
    return [
        factories.WorkFactory(owner=creator, title="The Lighthouse"),
        factories.WorkFactory(owner=creator, title="Salt and Signal"),
    ]


@pytest.fixture
def make_request(creator, two_works, developer, other_developer):
    """A submitted request by ``creator`` for their two works against both developers."""

    def _make(*, submit=True, works=None, developers=None, asks=("cease", "datasets")):
        request = services.draft_create(actor=creator, creator=creator, title="My novels")
        services.draft_update(
            actor=creator,
            request=request,
            works=works if works is not None else two_works,
            developers=developers if developers is not None else [developer, other_developer],
            asks=list(asks),
            where_used="https://dataset.example/books3",
        )
        if submit:
            services.request_submit(actor=creator, request=request, good_faith=True, accurate=True)
        request.refresh_from_db()
        return request

    return _make


@pytest.fixture
def developer_user_for(db):
    """A person acting for ``developer`` (its developer account)."""

    def _make(developer):
        member = factories.DeveloperMemberFactory(developer=developer)
        return member.user

    return _make
