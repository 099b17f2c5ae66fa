"""Benchmark: the works registry's change feed and export (issue 15), on PostgreSQL.

Targets (docs/benchmarks.md, "Change feed and export"):

- a page of 1,000 changes (``works_registry.changes.changes_page``, the selector the endpoint
  runs) in under 0.5× the time of a bulk lookup of 1,000 mixed items
  (``works_registry.lookup.lookup``, ``bench/_registry_data.sample``) for the same developer, on
  1,000,000 works — one run each, after a warm-up;
- the export of 1,000,000 works built as the worker builds it (``export.export_build``, outside
  any transaction: one REPEATABLE READ snapshot, a second connection for progress) with its
  memory flat: the build's peak RSS at 1,000,000 works at most 1.2× its peak at 100,000; its time
  reported.

The log the page reads is written as the portal writes it (the column defaults give each row
its transaction's id): 600 ``work`` rows for random works, then 2 ``owner`` rows (two creators'
defaults, about 333 works each: the page stops inside the second one), one row for another
developer's licence (never listed to this one) — so a page holds 1,000 entries: 600 works, then
one creator's works in full and part of another's. Exact rows check that the page listed 1,000
works and that the export file holds a header and one line per work.

Each size is built in a scratch database ``bench_feed_<random>`` on ``BENCH_PG_URL``
(``bench/_registry_data``: ``BENCH_FEED_SMALL`` and ``BENCH_FEED_WORKS``, default 100,000 and
1,000,000; 1,000 and 2,000 in the smoke run); the measures run in fresh processes pointed at
it. Without PostgreSQL the benchmark reports that it was skipped.

Run: ``.venv/bin/python -m bench registry_feed`` (``BENCH_SMOKE=1`` for the smoke run)
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from bench import _registry_data as data
from bench import sized

SMALL = int(os.environ.get("BENCH_FEED_SMALL", sized("100000", "1000")))
LARGE = int(os.environ.get("BENCH_FEED_WORKS", sized("1000000", "2000")))
PAGE = 1000
PAGE_TARGET = 0.5
RSS_RATIO_TARGET = 1.2

_LOG = """
INSERT INTO works_registry_change (kind, owner_id, public_id, developer_id, created_at)
SELECT 'work', w.owner_id, w.public_id, NULL, now()
  FROM works_work w
 WHERE w.id IN (SELECT id FROM works_work ORDER BY md5(id::text) LIMIT 600);
INSERT INTO works_registry_change (kind, owner_id, public_id, developer_id, created_at)
SELECT 'owner', owner_id, '', NULL, now()
  FROM (SELECT owner_id FROM works_work GROUP BY owner_id ORDER BY owner_id LIMIT 2) o;
INSERT INTO works_registry_change (kind, owner_id, public_id, developer_id, created_at)
SELECT 'owner', (SELECT min(owner_id) FROM works_work), '', id, now()
  FROM notices_aideveloper WHERE slug = '{other}';
"""

_FEED = """
import json, sys, time

import django

django.setup()
from bench import _registry_data as data
from notices.models import AIDeveloper
from works_registry.changes import Position, changes_page
from works_registry.lookup import lookup

n, size = int(sys.argv[1]), int(sys.argv[2])
developer = AIDeveloper.objects.get(slug=data.DEVELOPER_SLUG)
items = data.sample(n, size, seed=3).items
start = Position(0, 0)


def timed(call):
    call()  # warm: the connection, the plans, the caches
    begun = time.perf_counter()
    result = call()
    return time.perf_counter() - begun, result


page_s, page = timed(lambda: changes_page(developer=developer, position=start, limit=size))
lookup_s, _ = timed(lambda: lookup(items, developer=developer))
print(json.dumps({
    "page_s": page_s, "lookup_s": lookup_s, "entries": len(page.results),
    "works": sum(1 for e in page.results if e["type"] == "work" and not e["removed"]),
    "more": page.more,
}))
"""

_EXPORT = """
import gzip, json, resource, time

import django

django.setup()
from django.core.files.storage import default_storage
from notices.models import AIDeveloper
from bench import _registry_data as data
from works_registry import export
from works_registry.export_models import RegistryExport

developer = AIDeveloper.objects.get(slug=data.DEVELOPER_SLUG)
asked = RegistryExport.objects.create(developer=developer, state="queued")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
begun = time.perf_counter()
built = export.export_build(export_id=asked.pk)
seconds = time.perf_counter() - begun
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
lines = 0
with default_storage.open(built.file.name, "rb") as raw, gzip.open(raw, "rt") as text:
    header = json.loads(next(text))
    for _ in text:
        lines += 1
print(json.dumps({
    "seconds": seconds, "maxrss_kb": peak, "before_kb": before, "size": built.size,
    "works": built.works_count, "lines": lines, "header_works": header["works_count"],
    "header_sites": header["sites_count"],
}))
"""


def _row(name, value, unit, target=None, ok=True, exact=False) -> dict:
    return {"name": name, "value": value, "unit": unit, "target": target, "ok": ok, "exact": exact}


def _child(code: str, database_url: str, media: str, *args) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=data.ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(data.ROOT),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": media,
            "REDIS_URL": "",
            "CELERY_TASK_ALWAYS_EAGER": "1",
        },
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(works: int, *, feed: bool) -> tuple[float, dict, dict | None]:
    """Build ``works`` works in a scratch database; export them (and read a page of the feed
    against a lookup when ``feed``). Returns (build seconds, export, feed)."""
    import psycopg

    with (
        data.scratch_database("bench_feed") as database_url,
        tempfile.TemporaryDirectory() as media,
    ):
        with psycopg.connect(database_url) as connection:
            connection.autocommit = True
            built = data.build(connection, works)
            for statement in _LOG.format(other=data.OTHER_DEVELOPER_SLUG).split(";"):
                if statement.strip():
                    connection.execute(statement)
        measured = _child(_FEED, database_url, media, works, PAGE) if feed else None
        exported = _child(_EXPORT, database_url, media)
    return built.seconds, exported, measured


def run() -> list[dict]:
    if why := data.postgres_or_skip():
        return [_row(f"skipped: {why}", 0, "")]
    _, small, _ = _measure(SMALL, feed=False)
    build_s, large, feed = _measure(LARGE, feed=True)
    ratio = feed["page_s"] / feed["lookup_s"]
    rss = large["maxrss_kb"] / small["maxrss_kb"]
    return [
        _row("registry works (bench/_registry_data)", LARGE, "works"),
        _row("build (server-side INSERT … SELECT, ANALYZE)", round(build_s, 1), "s"),
        _row(f"page of {PAGE:,} changes", round(feed["page_s"], 3), "s"),
        _row(f"bulk lookup of {PAGE:,} mixed items", round(feed["lookup_s"], 3), "s"),
        _row("page ÷ lookup", round(ratio, 2), "×", f"< {PAGE_TARGET}", ratio < PAGE_TARGET),
        _row(
            "page entries (works listed)",
            feed["works"],
            f"of {PAGE}",
            f"= {PAGE}",
            feed["works"] == PAGE and feed["more"],
            exact=True,
        ),
        _row(f"export of {SMALL:,} works", round(small["seconds"], 1), "s"),
        _row(f"export of {LARGE:,} works", round(large["seconds"], 1), "s"),
        _row("export works a second", round(LARGE / large["seconds"]), "/s"),
        _row("export file (gzip)", round(large["size"] / 2**20, 1), "MiB"),
        _row(f"{SMALL:,}: peak RSS", round(small["maxrss_kb"] / 1024, 1), "MB"),
        _row(f"{LARGE:,}: peak RSS", round(large["maxrss_kb"] / 1024, 1), "MB"),
        _row("peak RSS before building", round(large["before_kb"] / 1024, 1), "MB"),
        _row(
            f"peak RSS {LARGE:,} / {SMALL:,}",
            round(rss, 2),
            "×",
            f"≤ {RSS_RATIO_TARGET}",
            rss <= RSS_RATIO_TARGET,
        ),
        _row(
            "export lines (one a work) and header",
            large["lines"],
            f"of {LARGE}",
            f"= {LARGE}",
            large["lines"] == LARGE == large["works"] == large["header_works"],
            exact=True,
        ),
    ]


if __name__ == "__main__":
    started = time.monotonic()
    for row in run():
        print(row)
    print(f"{time.monotonic() - started:.0f} s")
