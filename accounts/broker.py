"""Publishing a Celery task from a request without ever making the request wait long.

The broker only wakes workers: whatever must not be lost is in the database first and a sweep
finds it again. So a publish that cannot reach the broker quickly is given up, not waited for:

* each publish is bounded to about a second — a connection of its own with short connect and
  read timeouts (a hung Redis, stopped with SIGSTOP, cannot hold it) and a short retry policy;
* it never raises: a failure is logged and ``publish`` returns ``False``;
* after a failure, this process skips the broker for ``BROKER_PUBLISH_PAUSE`` seconds, so the
  next requests pay nothing while the broker is down (the sweeps deliver meanwhile).

The connection is kept per thread and dropped after a failure; the worker's own connection
(``CELERY_BROKER_TRANSPORT_OPTIONS``) is not affected by these timeouts.
"""

import logging
import threading
import time

from django.conf import settings
from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)

_paused_until = 0.0  # per process: after a failed publish, skip the broker until then
_local = threading.local()

# Worst case with a hung broker: an attempt, a reconnection and a second attempt of at most
# PUBLISH_SOCKET_TIMEOUT each, plus the pause between them — about a second.
PUBLISH_SOCKET_TIMEOUT = 0.3
PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0.1,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
# Failures that are the broker's (logged without a traceback); anything else gets one.
_BROKER_ERRORS = (KombuError, OSError)


def paused() -> bool:
    """Is this process skipping the broker after a failed publish?"""
    return time.monotonic() < _paused_until


def _connection(app):
    conn = getattr(_local, "connection", None)
    if conn is None:
        conn = app.connection_for_write(
            connect_timeout=PUBLISH_SOCKET_TIMEOUT,
            transport_options={
                "socket_timeout": PUBLISH_SOCKET_TIMEOUT,
                "socket_connect_timeout": PUBLISH_SOCKET_TIMEOUT,
                "max_retries": 1,
            },
        )
        _local.connection = conn
    return conn


def _drop_connection() -> None:
    conn = getattr(_local, "connection", None)
    _local.connection = None
    if conn is not None:
        try:
            conn.release()
        except Exception:  # a broken connection may fail to close; it is dropped either way
            pass


def reset() -> None:
    """Forget the pause and this thread's connection (tests; a changed broker URL)."""
    global _paused_until
    _paused_until = 0.0
    _drop_connection()


def publish(task, *, args=(), kwargs=None, countdown=None) -> bool:
    """Send ``task`` with these arguments to the broker. Returns whether it was sent.

    Bounded to about a second, never raises. While paused after a failure, returns ``False``
    at once: the caller's sweep picks the work up."""
    global _paused_until
    app = task.app
    if app.conf.task_always_eager:  # tests and CELERY_TASK_ALWAYS_EAGER: run it here
        try:
            task.apply_async(args, kwargs, countdown=countdown)
        except Exception:
            logger.exception("Task %s failed (eager)", task.name)
            return False
        return True
    if paused():
        logger.info("Broker paused; %s left for its sweep", task.name)
        return False
    started = time.monotonic()
    try:
        task.apply_async(
            args,
            kwargs,
            countdown=countdown,
            connection=_connection(app),
            retry=True,
            retry_policy=PUBLISH_RETRY_POLICY,
        )
    except Exception as exc:  # any broker error: the sweep queues it again later
        _drop_connection()
        _paused_until = time.monotonic() + settings.BROKER_PUBLISH_PAUSE
        logger.warning(
            "Broker unreachable (%s after %.1f s); %s left for its sweep, "
            "publishing paused for %.0f s",
            exc.__class__.__name__,
            time.monotonic() - started,
            task.name,
            settings.BROKER_PUBLISH_PAUSE,
            exc_info=not isinstance(exc, _BROKER_ERRORS),
        )
        return False
    _paused_until = 0.0
    return True
