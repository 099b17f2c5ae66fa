"""Rate limits counted in the shared cache, for any door that needs one — the API today.

A limit is written ``"N/period"``: ``"600/min"``, ``"20/s"``, ``"5000/h"``, ``"100/10s"``
(units ``s``, ``min``/``m``, ``h``, ``d``); an empty string turns it off. Hits are counted in
fixed windows of the period (with Redis, ``FailOpenRedisCache.count_many``: one round trip;
otherwise ``cache.incr``, ``cache.add`` when the window's counter does not exist yet), in
Django's default cache, so every process counts together: Redis in production,
where both are atomic; the database cache table on the embedded default, where ``incr`` is not,
and concurrent requests may now and then be counted once for two.

When the cache fails (Redis down, the cache table erroring) the limits **fail open**: the
request goes on unlimited, a warning is logged, and for ``FAIL_OPEN_PAUSE`` seconds this process
does not ask the cache again (so a cache that times out does not slow every request, and the
log gets one line, not one a request).

``api_limit_ip(request)`` and ``api_limit_key(key_id)`` are the API's two limits (settings
``API_RATE_LIMIT_PER_IP`` and ``API_RATE_LIMIT_PER_KEY``, docs/api.md), and
``api_limit_ip_and_key`` counts both in one round trip: each answers ``None``, or the
``Limited`` the caller turns into its 429 — whatever framework serves the endpoint.
"""

import ipaddress
import logging
import math
import re
import time
from dataclasses import dataclass
from functools import lru_cache

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied

logger = logging.getLogger(__name__)

FAIL_OPEN_PAUSE = 30.0  # seconds this process leaves the limits off after the cache failed
UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
UNIT_NAMES = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}
RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")

_paused_until = 0.0  # per process: after a cache failure, limits are off until then


@dataclass(frozen=True)
class Rate:
    count: int
    period: int  # seconds

    def __str__(self) -> str:
        if self.period in UNIT_NAMES:
            return f"{self.count} a {UNIT_NAMES[self.period]}"
        return f"{self.count} every {self.period} seconds"


@dataclass(frozen=True)
class Limited:
    """Over a limit: wait ``retry_after`` seconds (to the end of the window)."""

    retry_after: int
    message: str


@lru_cache(maxsize=32)
def rate_parse(text: str) -> Rate | None:
    """``"600/min"`` → ``Rate(600, 60)``; ``""`` → None (no limit); ImproperlyConfigured for
    anything else."""
    if not (text or "").strip():
        return None
    match = RATE.match(text.lower())
    if match is None or match.group(3) not in UNITS:
        raise ImproperlyConfigured(
            f"Rate limit {text!r}: write it as N/period, e.g. 600/min, 20/s, 100/10s "
            "(units s, min, h, d), or leave it empty for none."
        )
    count, multiple, unit = match.groups()
    period = int(multiple or 1) * UNITS[unit]
    if period < 1:
        raise ImproperlyConfigured(f"Rate limit {text!r}: the period must be at least 1 s.")
    return Rate(int(count), period)


def rate_limits_hit(hits: list[tuple[str, str, Rate | None]]) -> list[int | None]:
    """Count one hit against each ``(scope, ident, rate)`` — with Redis all in one round trip
    (``FailOpenRedisCache.count_many``). For each, None while within its rate (or when it has
    none), else the seconds until the current window ends. Fails open (all None) when the
    cache does."""
    global _paused_until
    waits: list[int | None] = [None] * len(hits)
    if time.monotonic() < _paused_until:
        return waits
    now = time.time()
    counted = [(i, int(now // rate.period), rate) for i, (_, _, rate) in enumerate(hits) if rate]
    if not counted:
        return waits
    keys = [
        (f"ratelimit:{hits[i][0]}:{hits[i][1]}:{rate.period}:{window}", 2 * rate.period)
        for i, window, rate in counted
    ]
    try:
        counts = _count(keys)
    except Exception as exc:  # any cache error: let the request through
        _paused_until = time.monotonic() + FAIL_OPEN_PAUSE
        logger.warning(
            "Rate limits off for %.0f s: the cache is unreachable (%s: %s)",
            FAIL_OPEN_PAUSE,
            type(exc).__name__,
            exc,
        )
        return waits
    if counts is None:  # Redis unreachable: accounts.cache has logged it
        return waits
    for (i, window, rate), count in zip(counted, counts, strict=True):
        if count > rate.count:
            waits[i] = max(1, math.ceil((window + 1) * rate.period - now))
    return waits


def _count(keys: list[tuple[str, int]]) -> list[int] | None:
    if hasattr(cache, "count_many"):  # Redis (accounts.cache): one round trip for all
        return cache.count_many(keys)
    counts = []
    for key, timeout in keys:
        try:
            count = cache.incr(key)
        except ValueError:  # the window's first hit (unless another process just added it)
            count = 1 if cache.add(key, 1, timeout=timeout) else cache.incr(key)
        counts.append(count)
    return counts


def client_ip(request) -> str:
    """The client's address, as allauth's sign-in limits see it (``TRUSTED_PROXY_COUNT``: the
    address that many proxies from the right in ``X-Forwarded-For``, else the peer's). An IPv6
    client is its /64, the block one subscriber is usually given."""
    try:
        ip = get_adapter().get_client_ip(request)
    except (ImproperlyConfigured, PermissionDenied):  # X-Forwarded-For shorter than the proxies
        ip = request.META.get("REMOTE_ADDR", "")
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip or "unknown"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


# --- The API's limits ---------------------------------------------------------------------------


_ADDRESS_MESSAGE = (
    "Too many requests from this address (at most {rate}): try again in {wait} seconds."
)
_KEY_MESSAGE = "Too many requests with this key (at most {rate}): try again in {wait} seconds."


def _limits(*limits: tuple[str, str, str, str]) -> Limited | None:
    """Count one hit against each ``(scope, ident, setting, message)`` at once; the first
    ``Limited`` over its rate (``message`` filled in with the rate and the wait), or None."""
    rates = [rate_parse(getattr(settings, setting)) for _, _, setting, _ in limits]
    waits = rate_limits_hit(
        [(scope, ident, rate) for (scope, ident, _, _), rate in zip(limits, rates, strict=True)]
    )
    for (_, _, _, message), rate, wait in zip(limits, rates, waits, strict=True):
        if wait is not None:
            return Limited(wait, message.format(rate=rate, wait=wait))
    return None


def api_limit_ip(request) -> Limited | None:
    """Every API request counts against its client's address, before its key is looked at."""
    return _limits(("api-ip", client_ip(request), "API_RATE_LIMIT_PER_IP", _ADDRESS_MESSAGE))


def api_limit_key(key_id: int) -> Limited | None:
    """Every request with a valid key counts against that key, wherever it comes from."""
    return _limits(("api-key", str(key_id), "API_RATE_LIMIT_PER_KEY", _KEY_MESSAGE))


def api_limit_ip_and_key(request, key_id: int | None) -> Limited | None:
    """``api_limit_ip`` and, for a valid key (``key_id`` not None), ``api_limit_key``, counted
    together (one round trip): the address's ``Limited`` first, then the key's."""
    limits = [("api-ip", client_ip(request), "API_RATE_LIMIT_PER_IP", _ADDRESS_MESSAGE)]
    if key_id is not None:
        limits.append(("api-key", str(key_id), "API_RATE_LIMIT_PER_KEY", _KEY_MESSAGE))
    return _limits(*limits)


def api_limit_anonymous_work(request) -> Limited | None:
    """A work read from the works registry without a key (``GET /api/v1/works/<id>``) counts
    against its client's address in a budget of its own, lower than a key's."""
    return _limits(
        (
            "api-anon-work",
            client_ip(request),
            "API_RATE_LIMIT_ANONYMOUS_WORK",
            "Too many works read without an API key from this address (at most {rate}): "
            "try again in {wait} seconds, or send your organisation's key.",
        )
    )
