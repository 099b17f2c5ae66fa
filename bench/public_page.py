"""Benchmark: the public work page, with all its AI-signal headers, against a trivial page.

Target (issue 5): ``/w/<public_id>/`` serves at least 60 % of the requests per second of a
trivial view rendering the same base template without database access — same gunicorn, same
configuration, measured in one run.

A scratch folder (``VAR_DIR``) gets its own SQLite database (``migrate``), a creator with 1,000
works, an override on every use of every work (5,000 rows), their defaults and a licence grant to
a developer (which public signals must ignore), and the static files (``collectstatic``, as in
production). One gunicorn (``-w 4``, ``DEBUG=0``, settings ``bench._settings_public_page``: the
project's settings plus ``/bench/trivial/``) serves both pages; ``wrk`` (2 threads, 16
connections) loads each for 10 s, alternating trivial / public twice, after a warm-up. Reported:
requests per second of each (mean of the two runs) and the ratio, for two database set-ups, the
same for both pages:

* the embedded default as it ships, with the public-page cache on (``consent.page_cache``: a
  crawler re-reading a page costs the version query and the stored page). The target is checked
  here;
* the same with the cache off (``PUBLIC_PAGE_CACHE=0``): every request renders the page — for
  comparison, without a target.

The smoke run (``BENCH_SMOKE=1``) seeds 20 works and loads each page for 1 s, once, from one
gunicorn worker.

Run: ``.venv/bin/python -m bench public_page`` (needs ``wrk``: ``apt-get install wrk``; without
it the benchmark says so and is skipped).
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench import sized

ROOT = Path(__file__).resolve().parent.parent
RATIO_TARGET = 0.6
DURATION_S = sized(10, 1)
ROUNDS = sized(2, 1)
WARM_UP_S = sized(2, 1)
N_WORKS = sized(1000, 20)
WORKERS = sized(4, 1)
CONNECTIONS = 16

_SEED = r"""
import datetime, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("createcachetable", verbosity=0)
from accounts.models import CreatorProfile, User
from consent.models import CreditPreference, LicenceGrant, Preference
from notices.models import AIDeveloper
from works.models import Work

USES = ["train-genai", "train-ai", "ai-input", "search", "style"]
user = User.objects.create_user(email="alice@bench.example", password="x")
CreatorProfile.objects.create(user=user, display_name="Alice Author", credit_name="Alice Author")
CreditPreference.objects.create(owner=user, credit_line="© Alice Author",
                                licensing_contact="licensing@alice.example")
works = Work.objects.bulk_create(
    Work(owner=user, title=f"Work {i:04d}", kind="book", year=2000 + i % 25)
    for i in range(int(sys.argv[1]))
)
Preference.objects.bulk_create(
    Preference(owner=user, work=w, use=use, choice=("licence", "deny", "allow")[(w.pk + j) % 3])
    for w in works for j, use in enumerate(USES)
)
Preference.objects.bulk_create(
    Preference(owner=user, work=None, use=use, choice="deny") for use in USES
)
labs = AIDeveloper.objects.create(name="Example AI Labs", slug="example-ai-labs")
LicenceGrant.objects.create(owner=user, developer=labs, all_works=True, uses=["train-ai"],
                            licence_ref="LIC-1", starts_on=datetime.date(2020, 1, 1))
print(works[len(works) // 2].public_id)
"""

# What PostgreSQL's autovacuum does by itself: table statistics for the query planner.
_ANALYZE = r"""
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, deadline: float, log: Path) -> None:
    last: object = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError as exc:
            last = exc
            time.sleep(0.2)
    tail = log.read_text()[-3000:] if log.exists() else ""
    raise RuntimeError(f"gunicorn did not answer {url} in time ({last}):\n{tail}")


def _wrk(url: str, seconds: int) -> float:
    result = subprocess.run(
        ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr or result.stdout)
    if re.search(r"Non-2xx or 3xx responses", result.stdout):
        raise RuntimeError(f"errors while loading {url}:\n{result.stdout}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))


def _skipped(reason: str) -> list[dict]:
    return [{"name": f"skipped: {reason}", "value": 0, "unit": "", "target": None, "ok": True}]


def _measure(env: dict, var: Path, public_id: str) -> dict[str, float]:
    """Start gunicorn with ``env``; load each page with wrk, alternating; mean req/s of each."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    urls = {"trivial": f"{base}/bench/trivial/", "public": f"{base}/w/{public_id}/"}
    log_path = var / f"gunicorn-{port}.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "portal.wsgi:application",
                "-w",
                str(WORKERS),
                "-b",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait(urls["trivial"], time.monotonic() + 60, log_path)
            with urllib.request.urlopen(urls["public"], timeout=5) as response:
                assert response.headers["Content-Usage"], "the public page lost its signals"
                assert response.headers["Link"], "the public page lost its licence link"
            for url in urls.values():
                _wrk(url, WARM_UP_S)  # warm-up: every worker has loaded templates and connections
            rps: dict[str, list[float]] = {"trivial": [], "public": []}
            for _ in range(ROUNDS):
                for name, url in urls.items():
                    rps[name].append(_wrk(url, DURATION_S))
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {name: sum(values) / len(values) for name, values in rps.items()}


def _django(code: str, env: dict, *args) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return result.stdout


# (label, environment, ANALYZE first?, target applies?) — the embedded default as it ships
# (SQLite, connections kept between requests), with the public-page cache on (a crawler reading
# pages again: the version query, then the stored page) and off (every request rendered).
CONFIGS = [
    (
        "embedded default, page cache on",
        {"PUBLIC_PAGE_CACHE": "1"},
        False,
        True,
    ),
    (
        "embedded default, page cache off (every page rendered)",
        {"PUBLIC_PAGE_CACHE": "0"},
        False,
        False,
    ),
]


def run() -> list[dict]:
    if shutil.which("wrk") is None:
        return _skipped("wrk is not installed (apt-get install wrk)")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        var = Path(folder)
        env = {
            **os.environ,
            "VAR_DIR": str(var),
            "STATIC_ROOT": str(var / "static"),
            "DJANGO_SETTINGS_MODULE": "bench._settings_public_page",
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-not-a-secret",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "DATABASE_URL": "",
            "REDIS_URL": "",
            "LOG_LEVEL": "WARNING",
        }
        public_id = _django(_SEED, env, N_WORKS).strip().splitlines()[-1]
        static = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if static.returncode != 0:
            raise RuntimeError(static.stderr[-3000:])
        for label, extra, analyze, targeted in CONFIGS:
            if analyze:
                _django(_ANALYZE, env)
            rps = _measure({**env, **extra}, var, public_id)
            ratio = rps["public"] / rps["trivial"]
            rows += [
                {
                    "name": f"{label}: trivial page",
                    "value": rps["trivial"],
                    "unit": "req/s",
                    "target": None,
                    "ok": True,
                },
                {
                    "name": f"{label}: public work page",
                    "value": rps["public"],
                    "unit": "req/s",
                    "target": None,
                    "ok": True,
                },
                {
                    "name": f"{label}: ratio public / trivial",
                    "value": ratio,
                    "unit": "×",
                    "target": f"≥ {RATIO_TARGET}" if targeted else None,
                    "ok": ratio >= RATIO_TARGET if targeted else True,
                },
            ]
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
