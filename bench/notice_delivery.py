"""Benchmark: the notice engine on PostgreSQL and Redis, delivering to a local SMTP server.

Targets (issue 6):

1. One worker process delivers notices at no less than 0.3× the rate of raw ``smtplib``
   sends of the same messages over one connection from one process, both measured in this
   run. The worker's rate runs from the first enqueue (the commit of 500 notices) to the last
   ``delivered_at``: it includes the broker round trip, the claim, loading the notice, building
   the message, the send, and recording the attempt — everything a real delivery costs. The
   raw rate is ``smtplib.SMTP.sendmail`` of the very bytes the worker built, prebuilt.
2. A sweep over 100,000 delivered and 1,000 due deliveries takes under 1 s, with the broker
   real (the 1,000 ``apply_async`` calls to Redis count). The selection + lease reset alone
   (what the partial index serves) is reported separately, and so is the query plan.

Setup: a scratch PostgreSQL database (created and dropped here), a queue and cache prefix of
its own on Redis, an aiosmtpd sink in its own process, and one ``celery worker --pool solo``
(log level WARNING, as the per-task INFO lines are not what is measured). Skipped, with a note,
when PostgreSQL or Redis cannot be reached (``BENCH_DATABASE_URL``, ``BENCH_REDIS_URL``).
The smoke run (``BENCH_SMOKE=1``) delivers one round of 5 notices and sweeps 1,010 deliveries.

Run: ``.venv/bin/python -m bench notice_delivery`` (or ``make bench BENCH_ARGS=notice_delivery``)
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import sized

ROOT = Path(__file__).resolve().parent.parent
N_NOTICES = sized(500, 5)
ROUNDS = sized(5, 1)  # worker and raw alternate, N_NOTICES each; medians are reported
SWEEP_DUE = sized(1000, 10)  # due deliveries in the sweep, among 100 times as many delivered
RATIO_TARGET = 0.3
SWEEP_TARGET_S = 1.0
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
WORKER_LOG_LEVEL = os.environ.get("BENCH_WORKER_LOG_LEVEL", "WARNING")

_SETUP = r"""
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from tests.factories import AIDeveloperFactory, DeveloperContactFactory
developer = AIDeveloperFactory(name="Bench Models", slug="bench")
DeveloperContactFactory(developer=developer, email="legal@bench.example")
"""

_DELIVER = r"""
import json, smtplib, sys, time
import django
django.setup()
from django.conf import settings
from django.db import transaction
from notices.models import AIDeveloper, Delivery
from notices.deliveries import publishing_together
from notices.services import notice_create
from notices.transports import EmailTransport

n, rounds_count = int(sys.argv[1]), int(sys.argv[2])
developer = AIDeveloper.objects.get(slug="bench")
WORKS = [{"title": f"Work {i}", "isbn": "9780306406157", "sha256": "ab" * 32} for i in range(12)]
TEXT = "\n".join(
    ["Dear Bench Models,", "",
     "On behalf of the creator named below, their guild asks you to stop using the works listed",
     "in the attached manifest for training or running AI models, to remove them from your",
     "datasets, and to remove them from models and derived models."]
    + [f"- {w['title']} (ISBN {w['isbn']})" for w in WORKS]
    + ["", "Please answer within 30 days.", "", "Writers' Guild of Great Britain"]
)
HTML = "<p>" + TEXT.replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p>"


def notice(i):
    return dict(
        developer=developer, topic=f"removal:{i}", key=f"removal:{i}:developer:{developer.pk}",
        subject=f"Removal request {i}: 12 works", text=TEXT, html=HTML,
        reply_to="notices@wggb.example",
        attachments=[("works.json", json.dumps({"works": WORKS}), "application/json")],
    )


def wait_delivered(count, timeout=120):
    # Polls rarely: the rate comes from the recorded delivered_at, not from this loop, and a
    # busy poll would take CPU from the worker on a small machine.
    deadline = time.time() + timeout
    while time.time() < deadline:
        if Delivery.objects.filter(status="delivered").count() >= count:
            return
        time.sleep(0.25)
    raise SystemExit(f"only {Delivery.objects.filter(status='delivered').count()} delivered")


# Warm-up: the worker connects, imports and opens its SMTP connection.
notice_create(**notice(0))
wait_delivered(1)

transport = EmailTransport()
smtp = smtplib.SMTP(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=30)
smtp.ehlo()
rounds = []
for r in range(rounds_count):
    first = 1 + r * n
    started = []
    with transaction.atomic(), publishing_together():
        transaction.on_commit(lambda: started.append(time.time()))  # runs first: first enqueue
        for i in range(first, first + n):
            notice_create(**notice(i))
    wait_delivered(first + n)
    topics = [f"removal:{i}" for i in range(first, first + n)]
    batch = Delivery.objects.filter(notice__topic__in=topics)
    last = max(batch.values_list("delivered_at", flat=True))
    worker_seconds = last.timestamp() - started[0]
    # The same messages, prebuilt, over one connection from this one process.
    messages = [
        (transport.prepare(d).data, d.recipient)
        for d in batch.select_related("notice__developer").prefetch_related("notice__attachments")
    ]
    t = time.perf_counter()
    for data, recipient in messages:
        smtp.sendmail(settings.NOTICES_FROM_EMAIL, [recipient], data)
    raw_seconds = time.perf_counter() - t
    rounds.append({"worker": n / worker_seconds, "raw": n / raw_seconds})
smtp.quit()
assert Delivery.objects.filter(status="delivered").count() == rounds_count * n + 1
print(json.dumps({"n": n, "rounds": rounds, "bytes": sum(len(m) for m, _ in messages) // n}))
"""

_SWEEP = r"""
import json, statistics, sys, time
import django
django.setup()
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from notices import deliveries
from notices.models import AIDeveloper, Delivery

developer = AIDeveloper.objects.get(slug="bench")
total = int(sys.argv[1]) * 101  # one in 101 due
with connection.cursor() as cursor:
    cursor.execute('''
        INSERT INTO notices_notice (developer_id, topic, kind, key, subject, text, html,
                                    reply_to, answerable, created_at)
        SELECT %s, 'sweep:' || g, 'notice', 'sweep:' || g, 'Sweep bench', 'x', '', '',
               true, now() - interval '2 days'
        FROM generate_series(1, %s) AS g''', [developer.pk, total])
    cursor.execute('''
        INSERT INTO notices_delivery (notice_id, channel, recipient, status, attempts,
                                      next_attempt_at, last_error, window_started_at,
                                      delivered_at, created_at)
        SELECT n.id, 'email', 'legal@bench.example',
               CASE WHEN n.id % 101 = 0 THEN 'queued' ELSE 'delivered' END, 1,
               now() - interval '1 day', '', now() - interval '2 days',
               CASE WHEN n.id % 101 = 0 THEN NULL ELSE now() - interval '1 day' END,
               now() - interval '2 days'
        FROM notices_notice AS n WHERE n.topic LIKE 'sweep:%' ''')
    cursor.execute("ANALYZE notices_notice")
    cursor.execute("ANALYZE notices_delivery")
counts = dict(Delivery.objects.filter(notice__topic__startswith="sweep:")
              .values_list("status").annotate(n=Count("pk")))

now = timezone.now()
qs = (Delivery.objects.filter(status__in=Delivery.PENDING, next_attempt_at__lte=now)
      .order_by("next_attempt_at").values_list("pk", flat=True)[:1000])
plan = qs.explain()

select_times, sweep_times, published = [], [], []
for _ in range(5):
    t = time.perf_counter()
    ids = deliveries.due_ids()
    Delivery.objects.filter(pk__in=ids, status="sending", lease_until__lt=timezone.now()).update(
        status="queued", lease_until=None)
    select_times.append(time.perf_counter() - t)
for _ in range(5):
    t = time.perf_counter()
    published.append(deliveries.sweep())
    sweep_times.append(time.perf_counter() - t)
# The same with one broker message per delivery (as with NOTICES_BATCH_SIZE=1).
from django.conf import settings
settings.NOTICES_BATCH_SIZE = 1
single_times = []
for _ in range(3):
    t = time.perf_counter()
    published.append(deliveries.sweep())
    single_times.append(time.perf_counter() - t)
print(json.dumps({"counts": counts, "plan": plan, "selected": len(ids), "published": published,
                  "select": select_times, "sweep": sweep_times, "single": single_times}))
"""


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child(code: str, env: dict, *args) -> dict | None:
    result = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-4000:])
    lines = result.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else None


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute(sql)


def _skip(why: str) -> list[dict]:
    print(f"  notice_delivery skipped: {why}", file=sys.stderr)
    return [{"name": f"skipped: {why}", "value": 0, "unit": "", "target": None, "ok": True}]


def run() -> list[dict]:
    if not _reachable(DATABASE_URL, 5432):
        return _skip("PostgreSQL unreachable")
    if not _reachable(REDIS_URL, 6379):
        return _skip("Redis unreachable")
    tag = uuid.uuid4().hex[:8]
    database = f"bench_notices_{tag}"
    parts = urlsplit(DATABASE_URL)
    scratch_url = urlunsplit(parts._replace(path=f"/{database}"))
    queue = f"bench-notices-{tag}"
    smtp_port = _free_port()
    processes: list[subprocess.Popen] = []
    _admin(f'CREATE DATABASE "{database}"')
    with tempfile.TemporaryDirectory() as var:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-" + "x" * 50,
            "ALLOWED_HOSTS": "localhost",
            "VAR_DIR": var,
            "DATABASE_URL": scratch_url,
            "CELERY_BROKER_URL": REDIS_URL,
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": f"bench-{tag}",
            "CELERY_QUEUE": queue,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_USE_TLS": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        try:
            sink = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "_smtp_sink.py"), str(smtp_port)],
                stdout=subprocess.PIPE,
                text=True,
            )
            processes.append(sink)
            sink.stdout.readline()  # the port: it is listening
            worker_log = open(os.environ.get("BENCH_WORKER_LOG", os.devnull), "w")  # noqa: SIM115
            _child(_SETUP, env)
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo",
                 "--concurrency", "1", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "--queues", queue, "--loglevel", WORKER_LOG_LEVEL],
                cwd=ROOT,
                env=env,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
            processes.append(worker)
            delivery = _child(_DELIVER, env, N_NOTICES, ROUNDS)
            worker.kill()
            worker.wait(10)
            sweep = _child(_SWEEP, env, SWEEP_DUE)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
            _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            _purge_redis(queue, f"bench-{tag}")
    return _rows(delivery, sweep)


def _purge_redis(queue: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = [queue, f"_kombu.binding.{queue}", *client.scan_iter(f"{prefix}:*")]
    keys += list(client.scan_iter(f"*{queue}*"))
    if keys:
        client.delete(*set(keys))


def _median(values):
    return statistics.median(values)


def _rows(delivery: dict, sweep: dict) -> list[dict]:
    n = delivery["n"]
    rounds = delivery["rounds"]
    worker_rate = _median([r["worker"] for r in rounds])
    raw_rate = _median([r["raw"] for r in rounds])
    ratio = _median([r["worker"] / r["raw"] for r in rounds])
    print(
        "  rounds (worker, raw msg/s): "
        + ", ".join(f"({r['worker']:.0f}, {r['raw']:.0f})" for r in rounds),
        file=sys.stderr,
    )
    uses_index = "delivery_due" in sweep["plan"]
    print(f"  message size {delivery['bytes']:,} bytes; sweep plan:\n    "
          + sweep["plan"].replace("\n", "\n    "), file=sys.stderr)  # fmt: skip
    sweep_median = _median(sweep["sweep"])
    select_median = _median(sweep["select"])
    single_median = _median(sweep["single"])
    done = SWEEP_DUE * 100
    messages = -(-SWEEP_DUE // 100)  # NOTICES_BATCH_SIZE ids a message
    return [
        {"name": f"raw smtplib, one connection ({n} messages, median of {len(rounds)})",
         "value": raw_rate, "unit": "msg/s", "target": None, "ok": True},
        {"name": f"one worker, enqueue → delivered ({n} notices, median of {len(rounds)})",
         "value": worker_rate, "unit": "msg/s", "target": None, "ok": True},
        {"name": "worker / raw (median of the rounds' ratios)", "value": ratio, "unit": "×",
         "target": f"≥ {RATIO_TARGET}", "ok": ratio >= RATIO_TARGET},
        {"name": f"sweep: select + lease reset ({done:,} done, {SWEEP_DUE:,} due), median of 5",
         "value": select_median * 1000, "unit": "ms", "target": None, "ok": True},
        {"name": f"sweep incl. publishing {SWEEP_DUE:,} ids to Redis ({messages} messages), "
                 "median of 5",
         "value": sweep_median * 1000, "unit": "ms", "target": f"< {SWEEP_TARGET_S * 1000:.0f}",
         "ok": sweep_median < SWEEP_TARGET_S},
        {"name": "every sweep published every due delivery", "value": len(sweep["published"]),
         "unit": "sweeps", "target": f"all {SWEEP_DUE:,}", "exact": True,
         "ok": set(sweep["published"]) == {SWEEP_DUE}},
        {"name": "the same, one message per delivery (batch size 1), median of 3",
         "value": single_median * 1000, "unit": "ms",
         "target": f"< {SWEEP_TARGET_S * 1000:.0f}", "ok": single_median < SWEEP_TARGET_S},
        {"name": "sweep query reads the partial index delivery_due", "value": int(uses_index),
         "unit": "", "target": "1", "ok": uses_index},
    ]  # fmt: skip


if __name__ == "__main__":
    for row in run():
        print(row)
