import pytest

from tests import factories


@pytest.fixture
def manager_client(sign_in, registry_manager):
    return sign_in(registry_manager)


@pytest.fixture
def developer(db):
    return factories.AIDeveloperFactory(
        name="Example AI Ltd", slug="example-ai", crawler_user_agents="ExampleBot\nExampleBot-Image"
    )
