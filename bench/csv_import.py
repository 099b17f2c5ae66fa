"""Benchmark: import a catalogue CSV of 10,000 and of 100,000 rows on the embedded default.

Targets: 10,000 rows in under 30 s of worker time, and a peak memory at 100,000 rows no more
than 1.2 times that at 10,000 (the import streams: only one batch of rows is ever in memory)
(issue 4); and a rate that does not fall as the catalogue grows: 100,000 rows at no less than
0.8 times the rows per second of 10,000, side by side in one run (issue 12). Each size gets a
scratch folder (``VAR_DIR``: its own SQLite database, made by ``manage.py migrate``, and media
folder) and a fresh Python process that creates one creator and runs the import engine
synchronously, as the worker would, timing it and reading its own ``ru_maxrss``. The files are
realistic: titles, every kind, years, descriptions, about 60 % of rows with an ISBN, an ISRC or
web addresses (valid check digits), 1 % bad rows. The smoke run (``BENCH_SMOKE=1``) imports
100 and 1,000 rows.

Run: ``.venv/bin/python -m bench.csv_import`` (or ``make bench BENCH_ARGS=csv_import``)
"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import sized

ROOT = Path(__file__).resolve().parent.parent
SIZES = sized((10_000, 100_000), (100, 1_000))
TIME_TARGET_S = 30.0
RSS_RATIO_TARGET = 1.2
RATE_RATIO_TARGET = 0.8

_MAKE = r"""
import csv, random, sys

WORDS = ("harbour lights tide evening quiet north river glass winter song field stone "
         "paper lantern orchard salt morning garden island shadow letter bridge cloud").split()
KINDS = ("book", "Article or journalism", "poem", "photograph", "Sound recording",
         "composition", "artwork", "video", "script", "performance", "other")

def isbn13(rng):
    digits = "978" + "".join(str(rng.randrange(10)) for _ in range(9))
    total = sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)

def isrc(rng, n):
    return f"GB-{rng.choice(['AAA','B12','XYZ'])}-{rng.randrange(100):02d}-{n % 100000:05d}"

rows, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(rows)
with open(path, "w", newline="", encoding="utf-8") as f:
    out = csv.writer(f)
    out.writerow(["title", "kind", "year", "description", "co_creators",
                  "isbn", "isrc", "iswc", "doi", "urls"])
    for n in range(rows):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5))).capitalize()
        title = f"{title} {n}"
        kind = rng.choice(KINDS)
        year = str(rng.randint(1950, 2025)) if rng.random() < 0.9 else ""
        description = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 25)))
        isbn = code = urls = ""
        chance = rng.random()
        if chance < 0.25:
            isbn = isbn13(rng)
        elif chance < 0.4:
            code = isrc(rng, n)
        elif chance < 0.6:
            urls = f"https://creator.example/works/{n} https://shop.example/item/{n}"
        if rng.random() < 0.01:
            year = "nineteen-ninety"  # a bad row
        out.writerow([title, kind, year, description, "", isbn, code, "", "", urls])
"""

_RUN = r"""
import json, os, resource, shutil, sys, time
import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()
from django.conf import settings
from django.db import connection
from accounts.models import User
from works import imports
from works.models import ImportJob

source = sys.argv[1]
owner = User.objects.create_user(email="bench@example.org", password="x" * 20)
name = "imports/bench.csv"
target = settings.MEDIA_ROOT / name
target.parent.mkdir(parents=True, exist_ok=True)
shutil.copyfile(source, target)
job = ImportJob.objects.create(owner=owner, kind="csv", source=name, original_name="bench.csv",
                               size=target.stat().st_size)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
steps = [0]  # SQLite's virtual-machine instructions, in thousands: the same on any machine

def tick():
    steps[0] += 1
    return 0

connection.ensure_connection()
connection.connection.set_progress_handler(tick, 1000)
started, cpu = time.perf_counter(), time.process_time()
imports.job_run(job_id=job.pk)
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
connection.connection.set_progress_handler(None, 1000)
job.refresh_from_db()
print(json.dumps({
    "seconds": elapsed,
    "cpu_seconds": cpu,
    "ksteps": steps[0],
    "status": job.status,
    "error": job.error,
    "rows": job.processed_rows,
    "created": job.created_count,
    "errors": job.error_count,
    "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "before_kb": before,
}))
"""


def _python(code: str, *args: str, env: dict | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env={**(env or os.environ), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return done.stdout


LOCAL = ("DATABASE_URL", "SQLITE_PATH", "MEDIA_ROOT", "CELERY_BROKER_URL", "CELERY_BROKER_FOLDER",
         "REDIS_URL", "EMAIL_HOST", "DEBUG")  # fmt: skip


def _scratch_env(folder: Path) -> dict:
    """The embedded default in a folder of its own: SQLite, media, broker under VAR_DIR."""
    env = {name: value for name, value in os.environ.items() if name not in LOCAL}
    return {**env, "VAR_DIR": str(folder), "LOG_LEVEL": "WARNING"}


def migrate(var: Path) -> None:
    """``manage.py migrate`` on the embedded default under ``var``."""
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=_scratch_env(var),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (WAL included), through SQLite's backup API."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def measure(rows: int, folder: Path, migrated: Path) -> dict:
    """Import ``rows`` rows into a copy of the ``migrated`` scratch database."""
    csv_path = folder / f"catalogue-{rows}.csv"
    _python(_MAKE, str(rows), str(csv_path))
    var = folder / f"var-{rows}"
    var.mkdir()
    _copy_database(migrated / "db.sqlite3", var / "db.sqlite3")
    output = _python(_RUN, str(csv_path), env=_scratch_env(var))
    result = json.loads(output.strip().splitlines()[-1])
    result["file_mb"] = csv_path.stat().st_size / 1e6
    return result


def _row(name, value, unit, target=None, ok=True) -> dict:
    return {"name": name, "value": value, "unit": unit, "target": target, "ok": ok}


def _label(rows: int) -> str:
    return f"{rows // 1000}k rows" if rows >= 1000 else f"{rows} rows"


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = Path(tmp)
        migrated = folder / "migrated"
        migrated.mkdir()
        migrate(migrated)  # once: it takes longer than a smoke run's imports
        small, large = (measure(rows, folder, migrated) for rows in SIZES)
    for result in (small, large):
        if result["status"] != "done":
            raise RuntimeError(f"the import did not finish: {result}")
    ratio = large["maxrss_kb"] / small["maxrss_kb"]
    small_rate = small["rows"] / small["seconds"]
    large_rate = large["rows"] / large["seconds"]
    rate_ratio = large_rate / small_rate
    cpu_ratio = (large["rows"] / large["cpu_seconds"]) / (small["rows"] / small["cpu_seconds"])
    steps = [round(1000 * r["ksteps"] / r["rows"]) for r in (small, large)]
    s, big = _label(SIZES[0]), _label(SIZES[1])
    return [
        _row(f"{s}: file size", round(small["file_mb"], 1), "MB"),
        _row(
            f"{s}: import time",
            round(small["seconds"], 2),
            "s",
            f"< {TIME_TARGET_S:g}",
            small["seconds"] < TIME_TARGET_S,
        ),
        _row(f"{s}: rows per second", round(small_rate), "/s"),
        _row(f"{s}: works created", small["created"], ""),
        _row(f"{s}: peak RSS", round(small["maxrss_kb"] / 1024, 1), "MB"),
        _row(f"{big}: import time", round(large["seconds"], 2), "s"),
        _row(f"{big}: rows per second", round(large_rate), "/s"),
        _row(
            f"rows per second {big} / {s}",
            round(rate_ratio, 3),
            "×",
            f"≥ {RATE_RATIO_TARGET}",
            rate_ratio >= RATE_RATIO_TARGET,
        ),
        _row(f"rows per CPU second {big} / {s} (less sensitive to load)", round(cpu_ratio, 3), "×"),
        _row(f"SQLite instructions per row, {s} / {big}", f"{steps[0]} / {steps[1]}", ""),
        _row(f"{big}: peak RSS", round(large["maxrss_kb"] / 1024, 1), "MB"),
        _row("peak RSS before importing", round(large["before_kb"] / 1024, 1), "MB"),
        _row(
            f"peak RSS {big} / {s}",
            round(ratio, 3),
            "×",
            f"≤ {RSS_RATIO_TARGET}",
            ratio <= RSS_RATIO_TARGET,
        ),
    ]


def print_table(rows: list[dict]) -> None:
    width = max(len(row["name"]) for row in rows)
    print(f"{'measure':<{width}}  {'value':>10}  unit  {'target':>7}  ok")
    for row in rows:
        target = row["target"] or ""
        ok = ("yes" if row["ok"] else "NO") if row["target"] else ""
        print(f"{row['name']:<{width}}  {row['value']:>10}  {row['unit']:<4}  {target:>7}  {ok}")


if __name__ == "__main__":
    results = run()
    print_table(results)
    sys.exit(0 if all(row["ok"] for row in results) else 1)
