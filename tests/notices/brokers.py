"""Pointing this process's Celery app at another broker, for fault tests.

Celery keeps a pool of broker connections and a pool of producers, keyed by the connection's
parameters and cached on the app on first use: changing ``broker_url`` alone would keep
publishing through the old ones. ``use_broker`` closes them and drops the app's references, so
the next publish builds new pools from the new settings; it restores everything on exit.
(It reaches into two private attributes of the app: Celery has no public way to do this.)
"""

import subprocess
import time
from contextlib import contextmanager

import kombu.pools

from accounts import broker
from portal.celery import app as celery_app
from tests.services import free_port, wait_for


def reset_pools() -> None:
    """Close every broker connection this process pooled and forget the pools (kombu keeps
    them in a process-wide registry, so closing the app's pool alone would leave a closed
    pool to be found again)."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def use_broker(url: str | None = None, transport_options: dict | None = None, *, eager=False):
    conf = celery_app.conf
    saved = (conf.get("broker_write_url"), conf.broker_transport_options, conf.task_always_eager)
    if url is not None:
        # The write URL, not ``broker_url``: Celery reads CELERY_BROKER_URL from the
        # environment before its own settings, and CI sets that variable.
        conf.broker_write_url = url
    if transport_options is not None:
        conf.broker_transport_options = transport_options
    conf.task_always_eager = eager
    reset_pools()
    broker.reset()  # requests' own publishing connection and pause
    try:
        yield celery_app
    finally:
        conf.broker_write_url, conf.broker_transport_options, conf.task_always_eager = saved
        reset_pools()
        broker.reset()


class PrivateRedis:
    """A ``redis-server`` of the test's own on a free port, that the test stops and restarts.
    Never the shared one on 6379."""

    def __init__(self):
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10, what=f"redis-server on port {self.port}")
        return self

    def _answers(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except redis.RedisError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        # The port is free once nothing answers on it.
        deadline = time.monotonic() + 5
        while self._answers() and time.monotonic() < deadline:
            time.sleep(0.05)
