"""Benchmark: matching a disclosure's manifest against the registry (issue 17), on PostgreSQL.

Target (docs/benchmarks.md, "Disclosures: matching a manifest"): a manifest of 1,000,000 rows
(mixed identifiers, 1 % of rows naming a registered work) against 1,000,000 registered works,
matched in under 5 minutes of worker time; the worker's memory flat (peak RSS at 1,000,000
rows at most 1.2× the peak at 100,000); no query per row.

The registry is ``bench/_registry_data``'s (``WORKS`` works built server-side in a scratch
database ``bench_disclosures_<random>``). The manifests are CSV files written here, every value
a function of the row's random draw, so the benchmark knows which rows must match without
reading the database:

- columns ``url, isbn, doi, sha256, phash, title, author``; each row one of ``SHAPES`` (most
  rows one or two cells: an address, an address with a file's SHA-256 or pHash or a caption,
  an ISBN, a DOI, a title with its author…);
- every 100th row (1 %) is *planted*: it names a registered work one of the ways of
  ``PLANTS`` — its address as stored or written another way (host case, ``:443``, ``utm_*``,
  ``fbclid``, a fragment), its ISBN with hyphens, its DOI as a ``https://doi.org/`` link, its
  file's SHA-256 in capitals, its file's pHash exact or 1–2 bits off, or its title and
  creator's name written differently (case, accents, punctuation, a leading article);
- every other row is a miss, several of them near ones: addresses on the creators' own hosts
  with no such work, valid ISBNs and DOIs of works not registered, random hashes, registered
  titles without an author or with another creator's name.

Both manifests are submitted with ``disclosures.services.disclosure_submit`` (kept by the
default storage, a temporary ``MEDIA_ROOT``); each is then matched in a fresh process by
``disclosures.matching.disclosure_run``, as the worker's task runs it, which reports its time
(wall and CPU), its peak RSS (``VmHWM``: the process's high-water mark), and the SQL queries
run for each batch of ``DISCLOSURE_BATCH_ROWS`` rows (counted with an execute wrapper, nothing
stored). Telling the creators found (issue 18: one email each) runs in the same call once the
matching has committed: it is timed and counted apart, outside the target. Exact rows: the
findings are the planted rows, each with its work and kind (none
missed, no other row, no site), and the queries of a batch do not grow with the rows.

Sizes: ``BENCH_DISCLOSURES_WORKS`` (1,000,000; smoke 2,000), ``BENCH_DISCLOSURES_SMALL``
(100,000 rows; smoke 1,000) and ``BENCH_DISCLOSURES_ROWS`` (1,000,000; smoke 2,000); in the
smoke run batches of 500 rows so that several run. ``BENCH_DISCLOSURES_DEBUG`` sets the
matching process's ``DEBUG`` (default ``1``, the embedded default's, as a worker started from
the repository runs). ``BENCH_DISCLOSURES_PROFILE=<folder>``: the matching runs under cProfile,
its statistics are written there (``<rows>.prof``) and the top of them printed on stderr.
Without PostgreSQL the benchmark reports that it was skipped.

Run: ``.venv/bin/python -m bench disclosures`` (``--smoke`` for the smoke run)
"""

import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import _registry_data as data
from bench import sized

WORKS = int(os.environ.get("BENCH_DISCLOSURES_WORKS", sized("1000000", "2000")))
SMALL = int(os.environ.get("BENCH_DISCLOSURES_SMALL", sized("100000", "1000")))
LARGE = int(os.environ.get("BENCH_DISCLOSURES_ROWS", sized("1000000", "2000")))
BATCH_ROWS = sized("", "500")  # "": the setting's default (DISCLOSURE_BATCH_ROWS)
DEBUG = os.environ.get("BENCH_DISCLOSURES_DEBUG", "1")
PROFILE = os.environ.get("BENCH_DISCLOSURES_PROFILE", "")
PLANT_EVERY = 100  # 1 % of rows name a registered work
SECONDS_TARGET = 300  # for LARGE rows
RSS_RATIO_TARGET = 1.2

COLUMNS = ("url", "isbn", "doi", "sha256", "phash", "title", "author")
# What a row holds (weights in %): a crawl's address, often with its file's hash or a caption;
# books by ISBN, articles by DOI; titles with their authors.
SHAPES = (
    (("url",), 40),
    (("url", "sha256"), 10),
    (("url", "phash"), 5),
    (("url", "title"), 5),  # a caption: a title without an author matches nothing
    (("sha256",), 5),
    (("phash",), 3),
    (("isbn",), 8),
    (("doi",), 7),
    (("title", "author"), 12),
    (("isbn", "title", "author"), 5),
)
# How a planted row names its work, in turn; and the kind of finding it must give.
PLANTS = (
    ("url", "url"),
    ("url variant", "url"),
    ("isbn with hyphens", "isbn"),
    ("doi link", "doi"),
    ("sha256 in capitals", "sha256"),
    ("phash", "phash"),
    ("phash 1-2 bits off", "phash"),
    ("title and author", "title"),
)


# --- The manifest ------------------------------------------------------------------------------


def _miss_value(column: str, rng: random.Random, works: int, owners: int, shape: tuple):
    """A value of ``column`` that names no registered work (some of them near ones); for a
    title with an author in the ``shape``, maybe ``(title, author)``: a registered title with
    another creator's name."""
    beyond = works + 1 + rng.randrange(8 * works)  # a work number not registered
    if column == "url":
        if rng.random() < 0.5:  # a creator's own host, a page not registered
            return data.url(beyond, owners)
        return f"https://img{rng.randrange(1000)}.cdn.example/{rng.getrandbits(96):024x}.jpg"
    if column == "isbn":
        return data.isbn(beyond)
    if column == "doi":
        return data.doi(beyond)
    if column == "sha256":
        return f"{rng.getrandbits(256):064x}"
    if column == "phash":
        return f"{rng.getrandbits(64):016x}"
    if column == "author":
        return data.creator_name(rng.randrange(1, owners + 1))
    # title: a title nobody registered, or a registered work's title as a caption (no
    # author) or with another creator's name — never its own creator's.
    if rng.random() < 0.5 and (owners > 1 or "author" not in shape):
        g = rng.randrange(1, works + 1)
        if "author" in shape:
            return data.title(g), data.creator_name(data.owner_of(g, owners) % owners + 1)
        return data.title(g)
    return rng.choice((data.title(beyond), f"Photograph {beyond} of a harbour"))


def _even(rng, works):  # a work with a file
    return 2 * rng.randrange(1, works // 2 + 1)


def _plant(way: str, rng: random.Random, works: int, owners: int) -> tuple[dict, int]:
    """(cells, g): a row naming work ``g`` the ``way`` of ``PLANTS``."""
    if way in ("url", "url variant"):
        g = rng.randrange(1, works + 1)
        address = data.url(g, owners)
        # ``_url_variant``: the same page as a pipeline may write it (the registry sample's).
        return {"url": data._url_variant(address, rng) if way == "url variant" else address}, g
    if way == "isbn with hyphens":
        g = 4 * rng.randrange(1, works // 4 + 1)
        s = data.isbn(g)
        return {"isbn": f"{s[:3]}-{s[3]}-{s[4:7]}-{s[7:12]}-{s[12]}"}, g
    if way == "doi link":
        g = 4 * rng.randrange((works - 3) // 4 + 1) + 3
        return {"doi": f"https://doi.org/{data.doi(g)}"}, g
    if way == "sha256 in capitals":
        g = _even(rng, works)
        return {"sha256": data.sha256(g).upper()}, g
    if way.startswith("phash"):
        g = _even(rng, works)
        bits = data.phash(g)
        if way != "phash":
            for bit in rng.sample(range(64), rng.randint(1, 2)):
                bits ^= 1 << bit
        return {"phash": f"{bits:016x}"}, g
    g = rng.randrange(1, works + 1)
    o = data.owner_of(g, owners)
    title = rng.choice((f"The {data.title(g).upper()}", f"{data.title(g)}!", f"bench  Work {g}"))
    author = rng.choice((data.creator_name(o), f"BENCH CRÉATOR {o}", f"Bench Creator, {o}"))
    return {"title": title, "author": author}, g


def write_manifest(path: Path, rows: int, works: int, *, seed: int = 17) -> dict[int, tuple]:
    """Write a CSV manifest of ``rows`` rows for a registry of ``works`` works; returns the
    planted rows: ``{row number: (public id, kind of finding, way)}``."""
    owners = data.owners_for(works)
    rng = random.Random(seed)
    shapes, weights = zip(*SHAPES, strict=True)
    planted: dict[int, tuple] = {}
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for number in range(1, rows + 1):
            if number % PLANT_EVERY == PLANT_EVERY // 2:
                way, kind = PLANTS[(number // PLANT_EVERY) % len(PLANTS)]
                cells, g = _plant(way, rng, works, owners)
                planted[number] = (data.public_id(g), kind, way)
            else:
                cells = {}
                shape = rng.choices(shapes, weights)[0]
                for column in shape:
                    if column in cells:  # the author given with a registered title
                        continue
                    value = _miss_value(column, rng, works, owners, shape)
                    if isinstance(value, tuple):
                        cells["title"], cells["author"] = value
                    else:
                        cells[column] = value
            writer.writerow([cells.get(column, "") for column in COLUMNS])
    return planted


# --- The processes -----------------------------------------------------------------------------

_SUBMIT = """
import json, sys
from pathlib import Path

import django

django.setup()
from django.core.files import File
from bench import _registry_data as data
from disclosures import services
from notices.models import AIDeveloper

developer = AIDeveloper.objects.get(slug=data.DEVELOPER_SLUG)
ids = []
for name in sys.argv[1:]:
    with open(name, "rb") as handle:
        disclosure, created = services.disclosure_submit(
            actor=None,
            developer=developer,
            fields=services.Fields(
                name="Bench crawl", version=Path(name).stem, uses=["train-genai", "train-ai"]
            ),
            manifest=File(handle, name=Path(name).name),
            via="api",
        )
    assert created
    ids.append(disclosure.pk)
print(json.dumps({"ids": ids}))
"""

_MATCH = """
import cProfile, io, json, pstats, sys, time

import django

django.setup()
from django.conf import settings
from django.db import connection
from disclosures import matching, notify
from disclosures.models import Disclosure, Finding


def vmhwm_kb():
    with open("/proc/self/status") as status:
        return int(next(l for l in status if l.startswith("VmHWM")).split()[1])


disclosure_id, profile = int(sys.argv[1]), sys.argv[2]
Disclosure.objects.filter(pk=disclosure_id).exists()  # connected, the ORM warm
before = vmhwm_kb()

total = 0
batches = []  # (rows, queries) of each batch
write_batch = matching._write_batch


def counting(execute, sql, params, many, context):
    global total
    total += 1
    return execute(sql, params, many, context)


def counted(disclosure_id, token, batch):
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        write_batch(disclosure_id, token, batch)
    batches.append((len(batch), queries))


matching._write_batch = counted

# Telling the creators found (issue 18) runs in the same call once matching has committed:
# timed and counted apart.
told = {"seconds": 0.0, "cpu": 0.0, "queries": 0, "emails": 0, "peak_before_kb": 0}
findings_announce = notify.findings_announce


def announcing(**kwargs):
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    told["peak_before_kb"] = told["peak_before_kb"] or vmhwm_kb()  # the matching's peak
    begun, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        emails = findings_announce(**kwargs)
    told["seconds"] += time.perf_counter() - begun
    told["cpu"] += time.process_time() - cpu
    told["queries"] += queries
    told["emails"] += emails
    return emails


notify.findings_announce = announcing
profiler = cProfile.Profile() if profile else None
begun, cpu = time.perf_counter(), time.process_time()
with connection.execute_wrapper(counting):
    if profiler:
        profiler.enable()
    done = matching.disclosure_run(disclosure_id=disclosure_id)
    if profiler:
        profiler.disable()
seconds, cpu = time.perf_counter() - begun, time.process_time() - cpu
peak = vmhwm_kb()
if profiler:
    profiler.dump_stats(profile)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
    print(text.getvalue()[-12000:], file=sys.stderr)

findings = list(
    Finding.objects.filter(disclosure_id=disclosure_id)
    .order_by("row", "pk")
    .values_list("row", "work__public_id", "site_id", "kind", "distance", "weak")
)
print(json.dumps({
    "state": done.state if done else None, "error": done.error if done else "",
    "rows_read": done.rows_read if done else 0, "rows_matched": done.rows_matched if done else 0,
    "seconds": seconds, "cpu": cpu, "before_kb": before, "peak_kb": peak,
    "queries": total, "batches": batches, "batch_rows": settings.DISCLOSURE_BATCH_ROWS,
    "debug": settings.DEBUG, "told": told, "findings": findings,
}))
"""


def _row(name, value, unit, target=None, ok=True, exact=False) -> dict:
    return {"name": name, "value": value, "unit": unit, "target": target, "ok": ok, "exact": exact}


def _child(code: str, database_url: str, folder: str, *args, debug: str = DEBUG) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(data.ROOT),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url,
        "VAR_DIR": folder,  # the filesystem broker's messages (nobody consumes them) go there
        "MEDIA_ROOT": str(Path(folder) / "media"),
        "DEBUG": debug,
        "SECRET_KEY": "bench-only-not-a-secret",  # required with DEBUG off
        "ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "0",  # submitting queues; the benchmark runs the match
    }
    if BATCH_ROWS:
        env["DISCLOSURE_BATCH_ROWS"] = BATCH_ROWS
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=data.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3 * 3600,
    )
    if PROFILE and done.stderr:
        print(done.stderr, file=sys.stderr)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _right(measured: dict, planted: dict[int, tuple]) -> tuple[int, list[str]]:
    """How many planted rows were found as planted (their work, their kind), and what is
    wrong: a planted row missed or found as something else, a row found that was not planted."""
    wrong = []
    found: dict[int, list] = {}
    for row, public_id, site_id, kind, distance, weak in measured["findings"]:
        found.setdefault(row, []).append((public_id, site_id, kind, distance, weak))
    right = 0
    for row, (public_id, kind, way) in planted.items():
        got = found.get(row, [])
        if (
            len(got) == 1
            and got[0][:3] == (public_id, None, kind)
            and got[0][4] == (kind == "title")
        ):
            right += 1
        else:
            wrong.append(f"row {row} ({way}, {public_id}): {got}")
    wrong += [f"row {row} not planted: {got}" for row, got in found.items() if row not in planted]
    return right, wrong


def _per_batch(measured: dict) -> tuple[int, float]:
    """The most queries of a full batch, and the mean per 1,000 rows over all batches."""
    full = [queries for rows, queries in measured["batches"] if rows == measured["batch_rows"]]
    rows = sum(rows for rows, _ in measured["batches"]) or 1
    return max(full or [0]), 1000 * sum(q for _, q in measured["batches"]) / rows


def _measure(database_url: str, folder: str, ids: dict[int, int], rows: int) -> dict:
    profile = str(Path(PROFILE) / f"{rows}.prof") if PROFILE else ""
    if profile:
        Path(PROFILE).mkdir(parents=True, exist_ok=True)
    measured = _child(_MATCH, database_url, folder, ids[rows], profile)
    if measured["state"] != "done":
        raise RuntimeError(f"matching {rows:,} rows ended {measured['state']}: {measured['error']}")
    told = measured["told"]
    measured["matching_s"] = measured["seconds"] - told["seconds"]
    measured["matching_cpu"] = measured["cpu"] - told["cpu"]
    measured["matching_queries"] = measured["queries"] - told["queries"]
    return measured


def run() -> list[dict]:
    if why := data.postgres_or_skip():
        return [_row(f"skipped: {why}", 0, "")]
    import psycopg

    with (
        data.scratch_database("bench_disclosures") as database_url,
        tempfile.TemporaryDirectory() as folder,
    ):
        with psycopg.connect(database_url) as connection:
            connection.autocommit = True
            built = data.build(connection, WORKS)
        started = time.monotonic()
        planted, paths = {}, {}
        for rows in (SMALL, LARGE):
            paths[rows] = Path(folder) / f"manifest-{rows}.csv"
            planted[rows] = write_manifest(paths[rows], rows, WORKS)
        written_s = time.monotonic() - started
        started = time.monotonic()
        submitted = _child(_SUBMIT, database_url, folder, paths[SMALL], paths[LARGE])
        submit_s = time.monotonic() - started
        ids = dict(zip((SMALL, LARGE), submitted["ids"], strict=True))
        size_mib = paths[LARGE].stat().st_size / 2**20
        for path in paths.values():
            path.unlink()  # the stored copies are what is matched
        small = _measure(database_url, folder, ids, SMALL)
        large = _measure(database_url, folder, ids, LARGE)

    right, wrong = _right(large, planted[LARGE])
    right_small, wrong_small = _right(small, planted[SMALL])
    for line in (wrong + wrong_small)[:20]:
        print(f"disclosures: {line}", file=sys.stderr)
    most_small, per_1000_small = _per_batch(small)
    most_large, per_1000_large = _per_batch(large)
    rss = large["peak_kb"] / small["peak_kb"]
    kinds = Counter(kind for _, kind, _ in planted[LARGE].values())
    return [
        _row("registry works (bench/_registry_data)", WORKS, "works"),
        _row("build (server-side INSERT … SELECT, ANALYZE)", round(built.seconds, 1), "s"),
        _row(f"manifest of {LARGE:,} rows (CSV)", round(size_mib, 1), "MiB"),
        _row("manifests written (both sizes)", round(written_s, 1), "s"),
        _row("manifests submitted (hashed, stored)", round(submit_s, 1), "s"),
        _row(
            "planted rows: " + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())),
            len(planted[LARGE]),
            "rows",
        ),
        _row(f"{SMALL:,} rows: matched in", round(small["matching_s"], 2), "s"),
        _row(f"{SMALL:,} rows: rows a second", round(SMALL / small["matching_s"]), "/s"),
        _row(
            f"{LARGE:,} rows: matched in",
            round(large["matching_s"], 2),
            "s",
            f"< {SECONDS_TARGET * LARGE / 1_000_000:g}",
            large["matching_s"] < SECONDS_TARGET * LARGE / 1_000_000,
        ),
        _row(f"{LARGE:,} rows: rows a second", round(LARGE / large["matching_s"]), "/s"),
        _row(f"{LARGE:,} rows: CPU of the matching", round(large["matching_cpu"], 1), "s"),
        *(
            _row(
                f"{rows:,} rows: then creators told ({m['told']['emails']:,} emails)",
                round(m["told"]["seconds"], 2),
                "s",
            )
            for rows, m in ((SMALL, small), (LARGE, large))
        ),
        *(
            _row(
                f"{rows:,} rows: telling, a creator",
                round(1000 * m["told"]["seconds"] / max(m["told"]["emails"], 1), 1),
                "ms",
            )
            for rows, m in ((SMALL, small), (LARGE, large))
        ),
        _row(f"{LARGE:,} rows: queries telling creators", large["told"]["queries"], "q"),
        _row("peak RSS before matching", round(large["before_kb"] / 1024, 1), "MB"),
        _row(f"{SMALL:,} rows: peak RSS", round(small["peak_kb"] / 1024, 1), "MB"),
        _row(f"{LARGE:,} rows: peak RSS", round(large["peak_kb"] / 1024, 1), "MB"),
        _row(
            f"peak RSS {LARGE:,} ÷ {SMALL:,} rows" + (" (DEBUG on)" if large["debug"] else ""),
            round(rss, 2),
            "×",
            f"≤ {RSS_RATIO_TARGET}",
            rss <= RSS_RATIO_TARGET,
        ),
        _row(f"batch of {large['batch_rows']:,} rows: queries, {SMALL:,} rows", most_small, "q"),
        _row(f"batch of {large['batch_rows']:,} rows: queries, {LARGE:,} rows", most_large, "q"),
        _row(f"queries per 1,000 rows, {SMALL:,} rows", round(per_1000_small, 2), "q"),
        _row(f"queries per 1,000 rows, {LARGE:,} rows", round(per_1000_large, 2), "q"),
        _row(
            "queries don't grow with rows (most in a batch, large ÷ small)",
            round(most_large / most_small, 2) if most_small else 0,
            "×",
            "≤ 1",
            0 < most_large <= most_small,
            exact=True,
        ),
        _row(f"all queries of the matching, {LARGE:,} rows", large["matching_queries"], "q"),
        _row(
            f"findings = planted rows, {SMALL:,} rows",
            right_small,
            f"of {len(planted[SMALL])}",
            "all, no other",
            not wrong_small and right_small == len(planted[SMALL]),
            exact=True,
        ),
        _row(
            f"findings = planted rows, {LARGE:,} rows",
            right,
            f"of {len(planted[LARGE])}",
            "all, no other",
            not wrong and right == len(planted[LARGE]) == large["rows_matched"],
            exact=True,
        ),
    ]


if __name__ == "__main__":
    started = time.monotonic()
    for row in run():
        print(row)
    print(f"{time.monotonic() - started:.0f} s")
