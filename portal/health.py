"""Health of the three things the portal needs: the database, the broker and a live worker."""

import os
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

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
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return {"ok": False, "transport": url.split(":", 1)[0], "error": exc.__class__.__name__}
    return {"ok": True, "transport": url.split(":", 1)[0]}


def check_worker() -> dict:
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    if beat is None:
        return {"ok": False, "error": "no heartbeat yet"}
    age = max(0.0, time.time() - float(beat))
    return {"ok": age <= settings.HEARTBEAT_MAX_AGE, "last_heartbeat_seconds_ago": round(age, 1)}


def report() -> dict:
    checks = {"database": check_database(), "broker": check_broker(), "worker": check_worker()}
    return {"ok": all(c["ok"] for c in checks.values()), **checks}
