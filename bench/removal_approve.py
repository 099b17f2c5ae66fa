"""Benchmark: approving a removal request for 1,000 works against 50 developers.

Target (issue 8): the approval — claims verified, the manifest built once, one notice per
developer with its attachments and deliveries, the timeline rows, the commit and the one
broker publish after it — takes under 2 s and creates exactly 50 notices. Measured in a fresh
subprocess on a scratch SQLite database (the embedded default, filesystem broker) and, when
reachable, on a scratch PostgreSQL database; the median of several approvals (a new request
each time, same works and developers) is reported, with the time of building the manifest
alone beside it for scale.

The smoke run (``BENCH_SMOKE=1``) approves one request for 20 works against 3 developers.

Run: ``.venv/bin/python -m bench removal_approve``
"""

import os
import sys
import uuid
from urllib.parse import urlsplit, urlunsplit

from bench import sized

from ._child import run_django

TARGET_S = 2.0
ROUNDS = sized(5, 1)
N_WORKS = sized(1000, 20)
N_DEVELOPERS = sized(50, 3)
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")

_CHILD = r"""
import json, statistics, sys, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

call_command("migrate", verbosity=0)
from accounts.models import Guild, GuildMembership, GuildStaffAppointment, User
from notices.models import AIDeveloper, DeveloperContact, Notice
from removals import services
from removals.manifest import manifest_build
from works.models import Work, WorkFile, WorkIdentifier

n_works, n_devs, rounds = (int(a) for a in sys.argv[1:4])
guild = Guild.objects.create(name="Bench Guild", slug="bench", contact_email="g@bench.example")
creator = User.objects.create_user(email="creator@bench.example", password="x")
GuildMembership.objects.create(
    user=creator, guild=guild, status="verified", decided_at=timezone.now()
)
staff = User.objects.create_user(email="staff@bench.example", password="x")
GuildStaffAppointment.objects.create(user=staff, guild=guild)
works = Work.objects.bulk_create(
    Work(owner=creator, title=f"Work {i:05d}", kind="book", year=2000 + i % 25)
    for i in range(n_works)
)
WorkIdentifier.objects.bulk_create(
    WorkIdentifier(work=w, scheme="url", value=f"https://bench.example/w/{w.pk}") for w in works
)
WorkFile.objects.bulk_create(
    WorkFile(work=w, status="ready", original_name="p.jpg", size=1, sha256=f"{w.pk:064x}",
             family="image", format="jpeg", mime="image/jpeg", phash=w.pk * 7919)
    for w in works[::2]
)
developers = [
    AIDeveloper.objects.create(name=f"Developer {i:02d}", slug=f"dev-{i:02d}")
    for i in range(n_devs)
]
DeveloperContact.objects.bulk_create(
    DeveloperContact(developer=d, email=f"legal@dev{i}.example", confirmed_at=timezone.now())
    for i, d in enumerate(developers)
)

times, manifest_times, counts = [], [], []
for r in range(rounds):
    request = services.draft_create(actor=creator, creator=creator, title=f"Round {r}")
    services.draft_update(actor=creator, request=request, works=works, developers=developers,
                          asks=["cease", "datasets", "models"], where_used="https://x.example")
    services.request_submit(actor=creator, request=request, good_faith=True, accurate=True)
    started = time.perf_counter()
    manifest_build([w.pk for w in works])
    manifest_times.append(time.perf_counter() - started)
    started = time.perf_counter()
    services.request_approve(actor=staff, request=request)  # its own transaction, committed
    times.append(time.perf_counter() - started)
    counts.append(Notice.objects.filter(topic=request.topic).count())
print(json.dumps({"approve": statistics.median(times), "max": max(times),
                  "manifest": statistics.median(manifest_times), "counts": counts,
                  "vendor": connection.vendor}))
"""


def _postgres(url: str):
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        return None, None
    admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    return admin, (name, urlunsplit(parts._replace(path=f"/{name}")))


def _rows(label: str, result: dict) -> list[dict]:
    exact = all(count == N_DEVELOPERS for count in result["counts"])
    return [
        {
            "name": f"{label}: approve {N_WORKS:,} works × {N_DEVELOPERS} developers (median)",
            "value": result["approve"],
            "unit": "s",
            "target": f"< {TARGET_S}",
            "ok": result["approve"] < TARGET_S,
        },
        {
            "name": f"{label}: slowest of {ROUNDS}",
            "value": result["max"],
            "unit": "s",
            "target": None,
            "ok": True,
        },
        {
            "name": f"{label}: of which the manifest alone (median)",
            "value": result["manifest"],
            "unit": "s",
            "target": None,
            "ok": True,
        },
        {
            "name": f"{label}: notices per approval",
            "value": min(result["counts"]),
            "unit": "",
            "target": f"= {N_DEVELOPERS}",
            "ok": exact,
            "exact": True,
        },
    ]


def run() -> list[dict]:
    args = (N_WORKS, N_DEVELOPERS, ROUNDS)
    rows = _rows("SQLite", run_django(_CHILD, *args, eager=False))
    admin, scratch = _postgres(DATABASE_URL)
    if admin is None:
        print("PostgreSQL unreachable: the PostgreSQL rows are skipped", file=sys.stderr)
        return rows
    name, url = scratch
    try:
        rows += _rows("PostgreSQL", run_django(_CHILD, *args, database_url=url, eager=False))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
