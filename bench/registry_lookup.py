"""Benchmark: the works registry's bulk lookup selector on 1,000,000 works, on PostgreSQL.

The selector the endpoint runs, ``works_registry.lookup.lookup``, in one process (the HTTP
benchmark — gunicorn, 4 clients, against a bare view — is ``bench/registry_api.py``):

- 10,000 mixed identifiers (``bench/_registry_data.sample``: URLs, SHA-256, pHashes, ISBN,
  ISRC, ISWC, DOI; about 60 % hits) for the bench developer: identifiers per second, and the
  ratio to the bare identifier queries alone for the same items (one query per kind, values
  already normalised; no work objects, no decisions) — at least 0.5×;
- 1,000 pHashes in one call: under 2 s;
- correctness: every hit of the sample matched, every miss not.

A scratch database ``bench_registry_<random>`` is created on ``BENCH_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432``), migrated and filled by ``bench/_registry_data.build``
(``BENCH_REGISTRY_WORKS``, default 1,000,000; 2,000 in the smoke run), then a fresh process
pointed at it runs the lookups (best of 3, after one warm-up). Without PostgreSQL the benchmark
reports that it was skipped.

Run: ``.venv/bin/python -m bench registry_lookup``
"""

import importlib.util
import json
import os
import subprocess
import sys
import time

from bench import _registry_data as data
from bench import sized

WORKS = int(os.environ.get("BENCH_REGISTRY_WORKS", sized("1000000", "2000")))
ITEMS = 10_000
PHASHES = 1_000

_CHILD = """
import json, sys, time

import django

django.setup()
from bench import _registry_data as data
from notices.models import AIDeveloper
from works.conflicts.index import max_distance_checked, phash_near
from works.identifiers import SCHEMES, normalise
from works.models import WorkFile, WorkIdentifier
from works_registry.lookup import lookup

n, size, phashes = (int(a) for a in sys.argv[1:4])
developer = AIDeveloper.objects.get(slug=data.DEVELOPER_SLUG)
mixed = data.sample(n, size, seed=1)
images = data.sample(n, phashes, seed=2, kinds=("phash",))

wanted = {}
for item in mixed.items:
    (kind, value), = item.items()
    if kind in SCHEMES:
        value = normalise(kind, value)
    elif kind == "phash":
        value = int(value, 16)
    wanted.setdefault(kind, set()).add(value)


def bare():
    found = 0
    for scheme in SCHEMES:
        if wanted.get(scheme):
            found += len(WorkIdentifier.objects.filter(scheme=scheme, value__in=sorted(
                wanted[scheme])).values_list("work_id", "value"))
    found += len(WorkFile.objects.filter(sha256__in=sorted(wanted["sha256"])).values_list(
        "work_id", "sha256"))
    found += len(list(phash_near({h: h for h in wanted["phash"]}, max_distance_checked(None))))
    return found


def best(call, runs=3):
    call()  # warm: the connection, the plans, the caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), result


lookup_s, results = best(lambda: lookup(mixed.items, developer=developer))
bare_s, _ = best(bare)
phash_s, image_results = best(lambda: lookup(images.items, developer=developer))
right = sum((r.get("matched") is h) for r, h in zip(results, mixed.hits))
right += sum((r.get("matched") is h) for r, h in zip(image_results, images.hits))
print(json.dumps({
    "lookup_s": lookup_s, "bare_s": bare_s, "phash_s": phash_s, "right": right,
    "checked": len(results) + len(image_results), "hits": sum(mixed.hits),
}))
"""


def _row(name, value, unit, target=None, ok=True, exact=False) -> dict:
    return {"name": name, "value": value, "unit": unit, "target": target, "ok": ok, "exact": exact}


def run() -> list[dict]:
    if (
        importlib.util.find_spec("works_registry") is None
        or not (data.ROOT / "works_registry" / "lookup.py").exists()
    ):
        return [_row("skipped: works_registry.lookup is not there yet", 0, "")]
    if why := data.postgres_or_skip():
        return [_row(f"skipped: {why}", 0, "")]
    import psycopg

    with data.scratch_database() as database_url:
        with psycopg.connect(database_url) as connection:
            connection.autocommit = True
            built = data.build(connection, WORKS)
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(WORKS), str(ITEMS), str(PHASHES)],
            cwd=data.ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(data.ROOT),
                "DJANGO_SETTINGS_MODULE": "portal.settings",
                "DATABASE_URL": database_url,
            },
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-3000:])
        m = json.loads(done.stdout.strip().splitlines()[-1])
    ratio = m["bare_s"] / m["lookup_s"]
    return [
        _row("registry works (bench/_registry_data)", WORKS, "works"),
        _row("build (server-side INSERT … SELECT, ANALYZE)", round(built.seconds, 1), "s"),
        _row(f"lookup of {ITEMS:,} mixed identifiers, best of 3", round(m["lookup_s"], 3), "s"),
        _row("identifiers a second (one process)", round(ITEMS / m["lookup_s"]), "/s"),
        _row("bare identifier queries, same items", round(m["bare_s"], 3), "s"),
        _row("lookup ÷ bare, in identifiers a second", round(ratio, 2), "×", "≥ 0.5", ratio >= 0.5),
        _row(
            f"lookup of {PHASHES:,} pHashes, best of 3",
            round(m["phash_s"], 3),
            "s",
            "< 2",
            m["phash_s"] < 2,
        ),
        _row(
            "answers right (hits matched, misses not)",
            m["right"],
            f"of {m['checked']}",
            f"= {m['checked']}",
            m["right"] == m["checked"],
            exact=True,
        ),
    ]


if __name__ == "__main__":
    started = time.monotonic()
    for row in run():
        print(row)
    print(f"{time.monotonic() - started:.0f} s")
