"""Fixtures for the email outbox's fault tests: a real SMTP server this process and the worker
send to, and a broker that is unreachable until the test brings it back with a real worker.

The broker is unreachable at commit time: on Redis, a private ``redis-server`` that is not
running yet (never the shared one); on the embedded default, a broker folder that does not
exist for this process. Beat is not started: tests call ``mail.sweep()`` themselves, as beat
would.
"""

import time

import pytest
from django.conf import settings as django_settings

from accounts import broker, mail
from portal.celery import app as celery_app
from tests.notices.brokers import PrivateRedis, use_broker
from tests.services import SMTPServer, WorkerProcess, wait_for

REDIS_LEG = django_settings.CELERY_BROKER_URL.startswith("redis")
# The outbox's timings, shrunk: for the worker (environment) and this process (settings).
TIMINGS = {
    "EMAIL_OUTBOX_RETRY_BASE": 0.2,
    "EMAIL_OUTBOX_RETRY_MAX_DELAY": 1.0,
    "EMAIL_OUTBOX_LEASE_SECONDS": 5.0,
    "EMAIL_OUTBOX_SWEEP_GRACE": 0.0,
}


@pytest.fixture
def smtp(settings):
    """A real SMTP server that Django in this process sends to as well (the old in-process
    fallback would have reached it)."""
    server = SMTPServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    for name, value in TIMINGS.items():
        setattr(settings, name, value)
    yield server
    server.stop()


@pytest.fixture
def broker_outage(broker_env, tmp_path):
    """``down()``: this process cannot reach the broker; ``up()``: it can, and a real worker
    runs (sending to ``smtp``). Returns the worker."""
    state = {"workers": [], "redis": None, "stack": []}

    def start_worker(smtp, env):
        worker = WorkerProcess(
            {**broker_env, **env},
            extra_env={
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(smtp.port),
                **{name: str(value) for name, value in TIMINGS.items()},
            },
            log_path=tmp_path / f"worker-{len(state['workers'])}.log",
        )
        state["workers"].append(worker)
        return worker.start()

    class Outage:
        def down(self):
            if REDIS_LEG:
                state["redis"] = PrivateRedis()  # a free port nothing answers on yet
                options = {"socket_connect_timeout": 1, "socket_timeout": 2}
                context = use_broker(state["redis"].url, options)
            else:
                options = dict(celery_app.conf.broker_transport_options)
                broken = {**options, "data_folder_out": str(tmp_path / "no-such-folder")}
                context = use_broker(transport_options=broken)
            context.__enter__()
            state["stack"].append(context)
            broker.reset()

        def up(self, smtp):
            env = {}
            if REDIS_LEG:
                state["redis"].start()  # the same port: this process reconnects
                env["CELERY_BROKER_URL"] = state["redis"].url
            else:
                state["stack"].pop().__exit__(None, None, None)
                context = use_broker()
                context.__enter__()
                state["stack"].append(context)
            broker.reset()
            return start_worker(smtp, env)

        def logs(self):
            return "\n".join(w.log().decode(errors="replace")[-3000:] for w in state["workers"])

    celery_app.conf.task_always_eager = False
    try:
        yield Outage()
    finally:
        for worker in state["workers"]:
            worker.stop()
        while state["stack"]:
            state["stack"].pop().__exit__(None, None, None)
        if state["redis"] is not None:
            state["redis"].stop()
        celery_app.conf.task_always_eager = True
        broker.reset()


def sweep_until(predicate, outage, what, period=0.5, timeout=30.0):
    """Beat's sweep, every ``period`` seconds, until ``predicate`` holds."""
    last = [0.0]

    def check():
        if predicate():
            return True
        if time.monotonic() - last[0] >= period:
            mail.sweep()
            last[0] = time.monotonic()
        return False

    try:
        wait_for(check, timeout=timeout, interval=0.1, what=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- worker logs ---\n{outage.logs()}") from None


def _to(smtp, address):
    return [m for m in smtp.messages if m["To"] == address]
