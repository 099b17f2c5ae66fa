"""Redis down or hung, on a private ``redis-server`` that is both the cache and the broker, set
up as production sets it up (``portal/settings.py`` read with ``REDIS_URL`` and
``CELERY_BROKER_URL`` pointing at it):

* hung (SIGSTOP): ``/healthz`` answers within 3 s naming what failed; the home page and sign-in
  answer at once; a request that publishes a task pays about a second, the next ones nothing;
* stopped: sign-in works with the rate limits off (logged once), a wrong password is refused;
* a worker that lost Redis for longer than Celery's default retry cap reconnects when it is
  back and runs what is published then.
"""

import os
import runpy
import signal
import textwrap
import time
from http import HTTPStatus
from pathlib import Path

import pytest
import redis
from django.urls import reverse

from accounts import broker, ratelimits
from accounts import cache as fail_open_cache
from notices.services import api_key_create
from portal.tasks import heartbeat
from tests import factories
from tests.notices.brokers import PrivateRedis, use_broker
from tests.services import WorkerProcess, wait_for
from tests.works import files

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "portal" / "settings.py"


def production_settings(monkeypatch, redis_url: str) -> dict:
    """``portal/settings.py`` as a production process with this Redis would read it."""
    with monkeypatch.context() as env:
        env.setenv("REDIS_URL", redis_url)
        env.setenv("CELERY_BROKER_URL", redis_url)
        return runpy.run_path(str(SETTINGS_FILE))


@pytest.fixture
def redis_server():
    server = PrivateRedis().start()
    yield server
    if server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


@pytest.fixture
def redis_everywhere(settings, monkeypatch, redis_server):
    """The private Redis as this process's cache and broker, configured as in production."""
    production = production_settings(monkeypatch, redis_server.url)
    settings.CACHES = {**settings.CACHES, "default": production["CACHES"]["default"]}
    settings.CELERY_BROKER_URL = redis_server.url
    broker.reset()
    fail_open_cache._down_until.clear()
    with use_broker(redis_server.url, production["CELERY_BROKER_TRANSPORT_OPTIONS"]):
        yield redis_server
    broker.reset()
    fail_open_cache._down_until.clear()


def hang(server: PrivateRedis) -> None:
    os.kill(server.process.pid, signal.SIGSTOP)


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def sign_in(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


# --- Hung (SIGSTOP) -----------------------------------------------------------------------------


def test_healthz_answers_within_3_s_naming_a_hung_redis(client, db, redis_everywhere):
    hang(redis_everywhere)

    response, elapsed = timed(lambda: client.get("/healthz"))

    assert elapsed < 3, f"/healthz took {elapsed:.1f} s with Redis hung"
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    body = response.json()
    assert body["ok"] is False
    assert body["database"]["ok"] is True
    assert body["cache"]["ok"] is False
    assert body["broker"]["ok"] is False
    assert body["worker"]["ok"] is False
    # And again: a probe every few seconds never piles up.
    _, again = timed(lambda: client.get("/healthz"))
    assert again < 3


def test_pages_and_sign_in_answer_at_once_with_redis_hung(client, creator, redis_everywhere):
    hang(redis_everywhere)

    home, home_time = timed(lambda: client.get(reverse("portal:home")))
    page, page_time = timed(lambda: client.get(reverse("account_login")))
    signed_in, sign_in_time = timed(lambda: sign_in(client, creator.email, factories.PASSWORD))
    dashboard, dashboard_time = timed(lambda: client.get(reverse("portal:dashboard")))

    assert home.status_code == HTTPStatus.OK and home_time < 1
    assert page.status_code == HTTPStatus.OK and page_time < 1
    assert signed_in.status_code == HTTPStatus.FOUND
    assert sign_in_time < 1.5, f"sign-in took {sign_in_time:.1f} s"  # the one cache timeout
    assert dashboard.status_code == HTTPStatus.OK and dashboard_time < 0.5


def test_a_request_that_publishes_to_a_hung_broker_pays_about_a_second_once(
    client, creator, tmp_path, django_capture_on_commit_callbacks, redis_everywhere
):
    client.force_login(creator)
    hang(redis_everywhere)

    def register_a_work(n):
        path = files.make_jpeg(tmp_path / f"work-{n}.jpg", size=(400, 300), seed=n)
        with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("works:create"),
                {"title": f"Work {n}", "kind": "photograph", "file": handle},
            )

    first, first_time = timed(lambda: register_a_work(1))
    assert first.status_code == HTTPStatus.FOUND
    assert first_time < 2, f"the first publish to a hung broker took {first_time:.1f} s"
    for n in (2, 3):
        response, elapsed = timed(lambda n=n: register_a_work(n))
        assert response.status_code == HTTPStatus.FOUND
        assert elapsed < 0.5, f"request {n} took {elapsed:.1f} s: it should skip the broker"


# --- Stopped ------------------------------------------------------------------------------------


def test_sign_in_works_with_redis_stopped_and_says_limits_are_off(
    client, creator, redis_everywhere, caplog
):
    redis_everywhere.stop()
    caplog.set_level("WARNING")

    assert client.get(reverse("portal:home")).status_code == HTTPStatus.OK
    wrong = sign_in(client, creator.email, "not the password")
    assert wrong.status_code == HTTPStatus.OK
    assert "not correct" in wrong.content.decode()
    assert not wrong.wsgi_request.user.is_authenticated

    right = sign_in(client, creator.email, factories.PASSWORD)
    assert right.status_code == HTTPStatus.FOUND
    assert client.get(reverse("portal:dashboard")).status_code == HTTPStatus.OK

    said = [r for r in caplog.records if "rate limits are off" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in caplog.records]


def test_api_limits_are_counted_in_redis_and_off_while_it_is_stopped(
    client, creator, redis_everywhere, settings
):
    """Both API limits are counted in one round trip, each counter expiring on its own; with
    Redis stopped the API still answers (limits off)."""
    settings.API_RATE_LIMIT_PER_KEY = "3/min"
    settings.API_RATE_LIMIT_PER_IP = "100/min"
    ratelimits._paused_until = 0.0
    developer = factories.AIDeveloperFactory()
    member = factories.DeveloperMemberFactory(developer=developer).user
    _, clear = api_key_create(actor=member, developer=developer, name="pipeline")
    work = factories.WorkFactory(owner=creator)
    url = f"/api/v1/works/{work.public_id}"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {clear}"}

    assert [client.get(url, **headers).status_code for _ in range(3)] == [200] * 3
    refused = client.get(url, **headers)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 1 <= int(refused["Retry-After"]) <= 60
    counters = redis.Redis.from_url(redis_everywhere.url)
    keys = counters.keys("*ratelimit:api-*")
    assert len(keys) == 2  # the address's and the key's
    assert all(0 < counters.ttl(key) <= 120 for key in keys)

    redis_everywhere.stop()
    assert client.get(url, **headers).status_code == HTTPStatus.OK


# --- The worker after a long outage -------------------------------------------------------------

# Celery retries a lost broker with kombu's back-off (2 s, 4 s, … 30 s between tries). The
# worker under test waits at most 0.1 s between tries instead, so Celery's default cap of 100
# tries is spent in about ten seconds rather than forty-five minutes.
FAST_RECONNECT = textwrap.dedent(
    """
    import kombu.connection

    _ensure = kombu.connection.Connection._ensure_connection

    def _fast(self, errback=None, max_retries=None, *args, **kwargs):
        kwargs.update(interval_start=0.05, interval_step=0.05, interval_max=0.1)
        return _ensure(self, errback, max_retries, **kwargs)

    kombu.connection.Connection._ensure_connection = _fast
    """
)


def test_a_worker_reconnects_after_an_outage_longer_than_celerys_retry_cap(
    transactional_db, broker_env, redis_server, tmp_path
):
    (tmp_path / "sitecustomize.py").write_text(FAST_RECONNECT)
    worker = WorkerProcess(
        {"CELERY_QUEUE": broker_env["CELERY_QUEUE"], "CELERY_BROKER_URL": redis_server.url},
        extra_env={
            "REDIS_URL": redis_server.url,  # the heartbeat's cache: Redis too, as in production
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])
            ),
        },
        log_path=tmp_path / "worker.log",
    )
    worker.start()
    try:
        redis_server.stop()
        wait_for(lambda: b"Trying again" in worker.log(), timeout=10, what="the worker to retry")
        # Longer than 100 tries at ≤ 0.1 s apart (each refused at once).
        time.sleep(20)
        assert worker.process.poll() is None, (
            "the worker gave up:\n" + worker.log().decode()[-2000:]
        )
        redis_server.start()
        with use_broker(redis_server.url, {"socket_timeout": 2, "socket_connect_timeout": 2}):
            task_id = heartbeat.apply_async().id
        try:
            wait_for(
                lambda: f"{task_id}] succeeded".encode() in worker.log(),
                timeout=30,
                what="the task published after the outage to run",
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{worker.log().decode()[-3000:]}") from None
    finally:
        worker.stop()
