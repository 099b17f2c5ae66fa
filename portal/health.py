"""Health of what the portal needs: the database, the shared cache, the broker, the file
storage (the media folder, or the bucket) and a live worker.

Each check runs in a thread of its own, all at once, and ``report`` waits for them until
``HEALTHZ_TIMEOUT`` seconds: a check still running then (a hung Redis, a database that does not
answer) is reported as ``{"ok": false, "error": "timeout"}``, so ``/healthz`` answers in time
whatever its dependencies do. The checks have socket timeouts of their own too, so a thread
left behind ends soon after.
"""

import os
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections

HEARTBEAT_KEY = "portal:worker-heartbeat"


def heartbeat_write(now: float | None = None) -> None:
    cache.set(HEARTBEAT_KEY, now if now is not None else time.time(), timeout=None)


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "down"; say which
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True}


def check_cache() -> dict:
    try:
        ping = getattr(cache, "ping", None)  # the fail-open Redis cache: ask Redis itself
        if ping is not None:
            ping()
        else:
            cache.get(HEARTBEAT_KEY)
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True}


def check_broker() -> dict:
    from kombu import Connection

    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_FOLDER
        ok = folder.is_dir() and os.access(folder, os.W_OK)
        return {"ok": ok, "transport": "filesystem"} | (
            {} if ok else {"error": "folder not writable"}
        )
    try:
        # Two tries of a quarter of the budget each: a refusal or a hang is named in time.
        timeout = settings.HEALTHZ_TIMEOUT / 4
        options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
        with Connection(url, connect_timeout=timeout, transport_options=options) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2 * timeout)
    except Exception as exc:
        return {"ok": False, "transport": url.split(":", 1)[0], "error": exc.__class__.__name__}
    return {"ok": True, "transport": url.split(":", 1)[0]}


def check_storage() -> dict:
    """Where files are kept: the folder writable, or the bucket answering (``HeadBucket``)."""
    from django.core.files.storage import default_storage

    backend = settings.MEDIA_STORAGE
    try:
        default_storage.health()
    except Exception as exc:
        return {"ok": False, "backend": backend, "error": exc.__class__.__name__}
    return {"ok": True, "backend": backend}


def check_worker() -> dict:
    try:
        # Past the fail-open cache's guard: an unreachable cache is an error here, not a miss.
        beat = getattr(cache, "get_or_raise", cache.get)(HEARTBEAT_KEY)
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    if beat is None:
        return {"ok": False, "error": "no heartbeat yet"}
    age = max(0.0, time.time() - float(beat))
    return {"ok": age <= settings.HEARTBEAT_MAX_AGE, "last_heartbeat_seconds_ago": round(age, 1)}


# Checks run in threads of their own, all at once, bounded by HEALTHZ_TIMEOUT. The worker's
# heartbeat is read in the request's thread instead: on the embedded default it lives in the
# database cache, where a thread of its own would not see what this request's transaction sees;
# on Redis the cache's socket timeout bounds it (CACHE_SOCKET_TIMEOUT, half a second).
THREADED = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "storage": check_storage,
}


def _run(check, results: dict, name: str) -> None:
    try:
        results[name] = check()
    except Exception as exc:  # a check that fails unexpectedly is a failing check
        results[name] = {"ok": False, "error": exc.__class__.__name__}
    finally:
        connections.close_all()  # this thread's own database connections


def report() -> dict:
    """Every check; any still running after ``HEALTHZ_TIMEOUT`` seconds is a "timeout"."""
    timeout = settings.HEALTHZ_TIMEOUT
    deadline = time.monotonic() + timeout
    results: dict[str, dict] = {}
    threads = [
        threading.Thread(
            target=_run, args=(check, results, name), daemon=True, name=f"healthz-{name}"
        )
        for name, check in THREADED.items()
    ]
    for thread in threads:
        thread.start()
    worker = check_worker()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    checks = {
        name: results.get(name) or {"ok": False, "error": "timeout", "timeout_seconds": timeout}
        for name in THREADED
    }
    checks["worker"] = worker
    return {"ok": all(c["ok"] for c in checks.values()), **checks}
