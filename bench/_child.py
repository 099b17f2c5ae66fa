"""Run a benchmark's measuring code in a fresh Django process on a scratch database: a temporary
``VAR_DIR`` (SQLite and the filesystem broker there) unless ``database_url`` names another
database. The child prints one JSON line last; that is what comes back."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_django(code: str, *args, database_url: str = "", eager: bool = True, timeout=900) -> dict:
    with tempfile.TemporaryDirectory() as var:
        env = {
            **os.environ,
            "VAR_DIR": var,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "1",
            "DATABASE_URL": database_url,
            "REDIS_URL": "",
            "CELERY_BROKER_URL": "",
            "CELERY_TASK_ALWAYS_EAGER": "1" if eager else "0",
        }
        result = subprocess.run(
            [sys.executable, "-c", code, *map(str, args)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])
