import pytest

from tests import factories


@pytest.fixture(autouse=True)
def webhook_key(settings):
    """Tests run with DEBUG off, where webhook secrets need an explicit Fernet key."""
    settings.NOTICES_WEBHOOK_KEY = "dGVzdC1vbmx5LXdlYmhvb2sta2V5LTMyLWJ5dGVzISE="


@pytest.fixture
def manager_client(sign_in, registry_manager):
    return sign_in(registry_manager)


@pytest.fixture
def developer(db):
    return factories.AIDeveloperFactory(
        name="Example AI Ltd", slug="example-ai", crawler_user_agents="ExampleBot\nExampleBot-Image"
    )


@pytest.fixture
def other_developer(db):
    return factories.AIDeveloperFactory(name="Other Models Inc", slug="other-models")


@pytest.fixture
def developer_user(developer):
    """Dana acts for ``developer`` (Example AI Ltd)."""
    return factories.DeveloperMemberFactory(
        developer=developer, user__email="dana@example-ai.example"
    ).user


@pytest.fixture
def other_developer_user(other_developer):
    """Oscar acts for ``other_developer``."""
    return factories.DeveloperMemberFactory(
        developer=other_developer, user__email="oscar@other-models.example"
    ).user


# --- The notice engine ---------------------------------------------------------------------------


@pytest.fixture
def contact(developer):
    """A confirmed notice contact of ``developer``."""
    return factories.DeveloperContactFactory(developer=developer, email="legal@example-ai.example")


@pytest.fixture
def make_notice(developer, contact):
    """Queue a notice to ``developer`` (its confirmed contact) inside a transaction."""
    from django.db import transaction

    from notices.services import notice_create

    counter = iter(range(1, 10_000))

    def _make(**fields):
        n = next(counter)
        values = {
            "developer": developer,
            "topic": f"test:{n}",
            "key": f"test:{n}:developer:{developer.pk}",
            "subject": f"Notice {n}",
            "text": f"Please stop using work {n}.",
            **fields,
        }
        with transaction.atomic():
            return notice_create(**values)

    return _make


@pytest.fixture
def smtp(settings, smtp_server):
    """Django in this process sends through SMTP to a real server (``smtp_server``)."""
    from notices.transports import EmailTransport

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield smtp_server
    EmailTransport()._drop_connection()


@pytest.fixture
def receiver(settings):
    """A real webhook receiver on loopback that verifies every request's signature."""
    from tests.notices.test_webhooks import Receiver

    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = True
    server = Receiver(strict=True)
    yield server
    server.close()
    assert server.unverified == [], "the receiver got requests that do not verify"


@pytest.fixture
def endpoint(receiver, registry_manager, developer):
    """``developer``'s webhook endpoint at ``receiver``, which knows its secret."""
    from notices.services.webhooks import webhook_endpoint_set

    endpoint, secret = webhook_endpoint_set(
        actor=registry_manager, developer=developer, url=receiver.url()
    )
    endpoint.clear_secret = receiver.secret = secret
    return endpoint
