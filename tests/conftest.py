"""Shared fixtures: personas and the test environment.

Personas (as in healthchecks' tests): ``creator`` is a verified member of the Writers' Guild;
``other_creator`` is a verified member of the Musicians' Union; ``guild_staff`` is staff of the
Writers' Guild; ``other_guild_staff`` of the Musicians' Union; ``registry_manager`` edits the
AI-developer registry; ``superuser`` runs the site.
"""

import shutil
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache, caches

from portal.celery import app as celery_app

from . import factories
from .services import MOTO_SERVER, BucketServer, SMTPServer, WorkerProcess


@pytest.fixture(scope="session")
def bucket_server():
    """An S3-compatible server with a bucket, as ``(endpoint URL, bucket name)``: the one the
    run is configured with (``MEDIA_STORAGE=s3``: CI's second leg, started by ``.ci/run``),
    else moto's standalone server from ``.venv-moto`` started for this run; ``None`` where
    neither is there."""
    if django_settings.MEDIA_STORAGE == "s3":
        options = django_settings.MEDIA_BUCKET_OPTIONS
        _bucket_made(options["endpoint_url"], options["bucket_name"])
        yield options["endpoint_url"], options["bucket_name"]
        return
    if not MOTO_SERVER.exists():
        yield None
        return
    server = BucketServer().start()
    _bucket_made(server.endpoint_url, "portal-tests")
    try:
        yield server.endpoint_url, "portal-tests"
    finally:
        server.stop()


def _bucket_made(endpoint_url, name):
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=django_settings.MEDIA_BUCKET_OPTIONS["access_key"] or "test",
        aws_secret_access_key=django_settings.MEDIA_BUCKET_OPTIONS["secret_key"] or "test",
    )
    try:
        client.create_bucket(Bucket=name)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass


def bucket_options(server, prefix: str) -> dict:
    """``BucketStorage`` options for the test bucket, under ``prefix`` (one test's files)."""
    endpoint_url, name = server
    return {
        **django_settings.MEDIA_BUCKET_OPTIONS,
        "bucket_name": name,
        "endpoint_url": endpoint_url,
        "region_name": "us-east-1",
        "access_key": django_settings.MEDIA_BUCKET_OPTIONS["access_key"] or "test",
        "secret_key": django_settings.MEDIA_BUCKET_OPTIONS["secret_key"] or "test",
        "location": prefix,
    }


def _use_bucket(settings, server) -> str:
    prefix = f"tests/{uuid.uuid4().hex}"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "accounts.bucket.BucketStorage",
            "OPTIONS": bucket_options(server, prefix),
        },
    }
    return prefix


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path, request):
    """Each test stores files apart: in a folder of its own, on a storage that refuses to give
    filesystem paths (tests/storage.py); on CI's bucket leg under a prefix of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    if settings.MEDIA_STORAGE == "s3":
        settings.MEDIA_BUCKET_PREFIX = _use_bucket(
            settings, request.getfixturevalue("bucket_server")
        )
    else:
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "tests.storage.PathlessFolderStorage"},
        }


@pytest.fixture
def bucket_storage(settings, bucket_server):
    """The default storage is the S3-compatible test bucket (a prefix of this test's own),
    whatever the run is configured with; skipped where no server is installed."""
    if bucket_server is None:
        pytest.skip("no S3-compatible server: `make test` installs moto in .venv-moto")
    settings.MEDIA_STORAGE = "s3"
    settings.MEDIA_BUCKET_PREFIX = _use_bucket(settings, bucket_server)
    from django.core.files.storage import default_storage

    return default_storage


@pytest.fixture(autouse=True)
def _consent_anchor_log(settings, tmp_path):
    """Each test anchors consent-ledger heads in a log of its own, never in ``var/``."""
    settings.CONSENT_ANCHOR_LOG = tmp_path / "consent-anchors.log"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's deliberate slowness (~0.2 s a password) is a cost only tests pay many times."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _removal_updates_at_once(settings):
    """Emails to a creator about their removal request go at once, one per update, unless a test
    sets the minute they are gathered in (tests/removals/test_creator_updates.py does)."""
    settings.REMOVALS_UPDATES_WINDOW = 0


# The database settings name before pytest-django swaps in the test database.
_REAL_DATABASE_NAME = django_settings.DATABASES["default"]["NAME"]


@pytest.fixture(autouse=True)
def _fresh_cache(django_db_setup, django_db_blocker):
    """The cache is shared by every process (DB cache, or Redis in CI): start each test clean,
    so allauth's rate-limit counters and the worker heartbeat do not leak between tests."""
    from django.db import connection

    # A run of tests that use no database creates no test database: the connection still names
    # the real one, whose cache table a test must never touch (and those tests use no cache).
    in_database = "DatabaseCache" in django_settings.CACHES["default"]["BACKEND"]
    if not in_database or connection.settings_dict["NAME"] != _REAL_DATABASE_NAME:
        with django_db_blocker.unblock():
            cache.clear()
    caches["public_pages"].clear()


@pytest.fixture(autouse=True, scope="session")
def _sender_connection_closed(django_db_setup, django_db_blocker):
    """The notice engine's sender thread keeps a database connection of its own between
    batches; closed before the test database is dropped (else PostgreSQL refuses to drop a
    database in use)."""
    yield
    from notices.deliveries import sender_connection_close

    with django_db_blocker.unblock():
        sender_connection_close()


@pytest.fixture(autouse=True, scope="session")
def broker_env(tmp_path_factory):
    """Tasks run in-process (eager) unless a test starts a real worker (``celery_worker``).

    The run gets a queue of its own, and on the embedded default a broker folder of its own,
    so a ``make run`` worker on the same machine never takes the tests' messages.
    """
    conf = celery_app.conf
    conf.task_always_eager = True
    conf.task_eager_propagates = True
    queue = f"test-{uuid.uuid4().hex[:10]}"
    conf.task_default_queue = queue
    env = {"CELERY_QUEUE": queue, "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL}
    if django_settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folder = tmp_path_factory.mktemp("broker")
        conf.broker_transport_options = {
            **conf.broker_transport_options,
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
        }
        env["CELERY_BROKER_FOLDER"] = str(folder)
    return env


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1; Django in this process sends to it."""
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def celery_worker(transactional_db, broker_env, tmp_path, smtp_server, settings):
    """A real ``celery worker`` process on the test database, sending mail to ``smtp_server``.

    While it runs, tasks in this process are published to the broker instead of run eagerly.
    """
    worker = WorkerProcess(
        broker_env,
        extra_env={
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_server.port),
            "CONSENT_ANCHOR_LOG": str(settings.CONSENT_ANCHOR_LOG),
        },
        log_path=tmp_path / "worker.log",
    )
    celery_app.conf.task_always_eager = False
    try:
        yield worker.start()
    finally:
        celery_app.conf.task_always_eager = True
        worker.stop()


@pytest.fixture
def wggb(db):
    return factories.GuildFactory(name="Writers' Guild of Great Britain", slug="wggb")


@pytest.fixture
def mu(db):
    return factories.GuildFactory(name="Musicians' Union", slug="mu")


def _creator(guild, name, email):
    profile = factories.CreatorProfileFactory(
        user__email=email, display_name=name, credit_name=name
    )
    factories.MembershipFactory(user=profile.user, guild=guild, verified=True)
    return profile.user


@pytest.fixture
def creator(wggb):
    return _creator(wggb, "Alice Author", "alice@example.org")


@pytest.fixture
def other_creator(mu):
    return _creator(mu, "Bob Bassist", "bob@example.org")


@pytest.fixture
def guild_staff(wggb):
    user = factories.UserFactory(email="staff@wggb.example")
    factories.StaffAppointmentFactory(user=user, guild=wggb)
    return user


@pytest.fixture
def other_guild_staff(mu):
    user = factories.UserFactory(email="staff@mu.example")
    factories.StaffAppointmentFactory(user=user, guild=mu)
    return user


@pytest.fixture
def registry_manager(db):
    return factories.UserFactory(email="registry@example.org", is_registry_manager=True)


@pytest.fixture
def superuser(db):
    return factories.UserFactory(email="root@example.org", is_superuser=True, is_staff=True)


@pytest.fixture
def charlie(db):
    """A signed-in person with no guild, no role and nothing of their own."""
    return factories.UserFactory(email="charlie@example.org")


def _chromium_path() -> str | None:
    import os

    path = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    return path if Path(path).exists() or shutil.which(path) else None


CHROMIUM = _chromium_path()


def pytest_report_header(config):
    if CHROMIUM:
        return f"browser tests: Chromium at {CHROMIUM}"
    return (
        "browser tests: SKIPPED — no Chromium at /usr/bin/chromium "
        "(set CHROMIUM or apt-get install chromium)"
    )


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    skip = pytest.mark.skip(
        reason="no Chromium installed (set CHROMIUM or apt-get install chromium)"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def sign_in(client):
    """Sign ``user`` in and, unless told otherwise, re-enter their password as allauth asks
    before a sensitive action, so the session holds a recent re-authentication (allauth counts
    only an explicit re-authentication as recent, not the sign-in itself)."""
    from django.urls import reverse

    def _sign_in(user, *, reauthenticate: bool = True):
        client.force_login(user)
        if reauthenticate:
            response = client.post(
                reverse("account_reauthenticate"), {"password": factories.PASSWORD}
            )
            assert response.status_code == 302, "re-authentication with the password failed"
        return client

    return _sign_in
