"""The shared cache (Redis in production) that fails open: when Redis is down or hung, every
page still works.

What lives in this cache can be lost without harm: sign-in rate limits (allauth's), the API's
and uploads' counters, throttles on emails, the worker's heartbeat. So ``FailOpenRedisCache``
treats an unreachable Redis as an empty cache instead of raising:

* reads miss (``get`` → the default, ``get_many`` → ``{}``, ``has_key`` → False);
* writes are dropped (``set``, ``touch``, ``delete`` … → False), but ``add`` answers True, as
  it would have on an empty cache — a lock taken with ``add`` (allauth's rate-limit lock) is
  granted, so **rate limits fail open**;
* ``incr``/``decr`` raise ``ValueError``, as for a missing key (callers start a new count);
  ``count_many`` (counters bumped in one round trip, for rate limits) answers None.

Short socket timeouts (``OPTIONS`` in settings) bound what one failure costs; after a failure
the cache is not asked again for ``FAIL_OPEN_PAUSE`` seconds (per process; the ``OPTIONS`` key
``fail_open_pause`` overrides it), so pages stay fast, and the warning that says limits are off
is logged once per pause, not once per request.

Only Redis's connection and timeout errors are treated so; anything else still raises.
``ping()`` and ``get_or_raise()`` raise like the plain backend, for the health checks, which
must see the fault.
"""

import logging
import threading
import time
from functools import partial

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

FAIL_OPEN_PAUSE = 10.0  # seconds this process leaves Redis alone after a failure
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

# Per process and per server (Django makes one cache object per thread): when to ask again.
_down_until: dict[str, float] = {}
_lock = threading.Lock()


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.fail_open_pause = float(options.pop("fail_open_pause", FAIL_OPEN_PAUSE))
        super().__init__(server, {**params, "OPTIONS": options})
        self._breaker_key = str(server)
        self._counting_client = None  # Django makes one cache object per thread

    # --- the circuit breaker ---------------------------------------------------------------

    def _is_down(self) -> bool:
        return time.monotonic() < _down_until.get(self._breaker_key, 0.0)

    def _failed(self, operation: str, exc: BaseException) -> None:
        with _lock:
            if self._is_down():  # another thread said it already
                return
            _down_until[self._breaker_key] = time.monotonic() + self.fail_open_pause
        logger.warning(
            "Cache unreachable (%s on %s: %s): rate limits are off and the cache is skipped "
            "for %.0f s",
            type(exc).__name__,
            operation,
            exc,
            self.fail_open_pause,
        )

    def _guarded(self, operation: str, fallback, *args, **kwargs):
        return self._guarded_call(
            operation, fallback, partial(getattr(super(), operation), *args, **kwargs)
        )

    def _guarded_call(self, operation: str, fallback, call):
        if self._is_down():
            return fallback()
        try:
            return call()
        except UNREACHABLE as exc:
            self._failed(operation, exc)
            return fallback()

    def ping(self) -> bool:
        """Ask Redis, whatever the breaker says; raises if it does not answer."""
        return self._cache.get_client(write=True).ping()

    def get_or_raise(self, key, default=None, version=None):
        """``get`` as the plain backend does it: raises if Redis does not answer."""
        return super().get(key, default, version)

    # --- reads miss ------------------------------------------------------------------------

    def get(self, key, default=None, version=None):
        return self._guarded("get", lambda: default, key, default, version)

    def get_many(self, keys, version=None):
        return self._guarded("get_many", dict, keys, version)

    def has_key(self, key, version=None):
        return self._guarded("has_key", lambda: False, key, version)

    # --- writes are dropped; add is granted ------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded("add", lambda: True, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded("set", lambda: False, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded("set_many", lambda: list(data), data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded("touch", lambda: False, key, timeout, version)

    def delete(self, key, version=None):
        return self._guarded("delete", lambda: False, key, version)

    def delete_many(self, keys, version=None):
        return self._guarded("delete_many", lambda: None, keys, version)

    def clear(self):
        return self._guarded("clear", lambda: False)

    # --- counters start again --------------------------------------------------------------

    def incr(self, key, delta=1, version=None):
        return self._guarded("incr", _missing(key), key, delta, version)

    def decr(self, key, delta=1, version=None):
        return self._guarded("decr", _missing(key), key, delta, version)

    def count_many(self, counters: list[tuple[str, int]], version=None) -> list[int] | None:
        """Add one to each counter ``(key, timeout)`` — made at 1, to expire ``timeout``
        seconds later, if it is not there — and answer the new counts, all in one round trip
        (``INCR`` and ``EXPIRE … NX`` for each, in one pipeline), where ``incr`` after ``add``
        takes up to four per counter. None when Redis is unreachable (nothing counted: callers
        let the request through)."""
        keys = [(self.make_and_validate_key(key, version=version), t) for key, t in counters]

        def counted():
            if self._counting_client is None:  # Django makes a client a call: 0.2 ms each
                self._counting_client = self._cache.get_client(None, write=True)
            pipeline = self._counting_client.pipeline(transaction=False)
            for key, timeout in keys:
                pipeline.incr(key)
                pipeline.expire(key, int(timeout), nx=True)
            return pipeline.execute()[::2]

        return self._guarded_call("count_many", lambda: None, counted)


def _missing(key):
    def fallback():
        raise ValueError(f"Key '{key}' not found (the cache is unreachable)")

    return fallback
