import time
from http import HTTPStatus

import pytest

from portal import health


@pytest.fixture
def url():
    return "/healthz"


def test_healthz_is_503_without_a_worker_heartbeat(client, db, url):
    response = client.get(url)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    body = response.json()
    assert body["ok"] is False
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["worker"] == {"ok": False, "error": "no heartbeat yet"}


def test_healthz_is_200_with_a_recent_heartbeat(client, db, url):
    health.heartbeat_write()
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["ok"] is True
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_reports_a_stale_heartbeat(client, db, url, settings):
    settings.HEARTBEAT_MAX_AGE = 60
    health.heartbeat_write(time.time() - 3600)
    body = client.get(url).json()
    assert body["worker"]["ok"] is False
    assert body["worker"]["last_heartbeat_seconds_ago"] >= 3600


def test_healthz_reports_an_unwritable_broker_folder(client, db, url, settings, tmp_path):
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("the filesystem broker is the embedded default's; this leg uses Redis")
    folder = tmp_path / "broker"
    folder.mkdir()
    folder.chmod(0o500)
    settings.CELERY_BROKER_FOLDER = folder
    health.heartbeat_write()
    try:
        response = client.get(url)
    finally:
        folder.chmod(0o700)
    # root ignores permission bits, so also accept a missing folder as the fault
    if response.status_code == HTTPStatus.OK:
        settings.CELERY_BROKER_FOLDER = tmp_path / "missing"
        response = client.get(url)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["broker"]["ok"] is False


def test_healthz_reports_an_unreachable_redis_broker(client, db, url, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    health.heartbeat_write()
    response = client.get(url)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["broker"] == {
        "ok": False,
        "transport": "redis",
        "error": "OperationalError",
    }


def test_healthz_reports_the_file_storage(client, db, url, settings):
    health.heartbeat_write()
    body = client.get(url).json()
    assert body["storage"] == {"ok": True, "backend": settings.MEDIA_STORAGE}


def test_healthz_is_503_when_the_bucket_does_not_answer(bucket_storage, client, db, url, settings):
    from tests.services import free_port

    health.heartbeat_write()
    assert client.get(url).json()["storage"] == {"ok": True, "backend": "s3"}
    default = settings.STORAGES["default"]
    dead = {**default["OPTIONS"], "endpoint_url": f"http://127.0.0.1:{free_port()}"}
    settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": dead}}

    response = client.get(url)

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["storage"]["ok"] is False
    assert response.json()["storage"]["error"] == "StorageUnavailable"
