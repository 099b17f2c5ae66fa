"""Benchmark: the creator's request list and the staff's review queue do not grow with the data.

Target (issue 8): a constant number of queries at 10 and at 10,000 requests (the tests check
10 against a few hundred; here a full page of 25 against 10,000), and a page time that does not
grow with them — full page against full page, reported as a ratio measured side by side in one
run (target ≤ 1.5×, as for the works list). A fresh subprocess builds a scratch SQLite database
(the embedded default): two guilds, each with one creator and one staff member; the first
creator has 25 requests (a full page of either list), the second 10,000 (each naming two
works and two developers; one in five approved, with one notice per developer, half of them
answered). Each page is then rendered through Django's full request stack, alternating, and
the medians compared.

The smoke run (``BENCH_SMOKE=1``) compares 25 requests with 60, rendering each page twice.

Run: ``.venv/bin/python -m bench removal_lists``
"""

from bench import sized

from ._child import run_django

RATIO_TARGET = 1.5
ROUNDS = sized(60, 2)
LARGE = sized(10_000, 60)  # requests of the second creator (the first has a full page, 25)

_CHILD = r"""
import json, statistics, sys, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone
from accounts.models import Guild, GuildMembership, GuildStaffAppointment, User
from notices.models import AIDeveloper, Notice
from removals.models import RemovalRequest
from works.models import Work

setup_test_environment()
call_command("migrate", verbosity=0)
now = timezone.now()
developers = [AIDeveloper.objects.create(name=f"Dev {i}", slug=f"dev-{i}") for i in range(2)]

def make(slug, n):
    guild = Guild.objects.create(name=slug, slug=slug)
    creator = User.objects.create_user(email=f"creator@{slug}.example", password="x")
    GuildMembership.objects.create(user=creator, guild=guild, status="verified", decided_at=now)
    staff = User.objects.create_user(email=f"staff@{slug}.example", password="x")
    GuildStaffAppointment.objects.create(user=staff, guild=guild)
    works = Work.objects.bulk_create(
        Work(owner=creator, title=f"Work {i}", kind="book") for i in range(20)
    )
    requests = RemovalRequest.objects.bulk_create(
        RemovalRequest(
            creator=creator, filed_by=creator, title=f"Request {i}",
            status="approved" if i % 5 == 0 else "submitted",
            submitted_at=now, asks=["cease"], good_faith=True, accurate=True,
        )
        for i in range(n)
    )
    Through = RemovalRequest.works.through
    Through.objects.bulk_create(
        Through(removalrequest_id=r.pk, work_id=works[(k + j) % 20].pk)
        for k, r in enumerate(requests) for j in range(2)
    )
    DevThrough = RemovalRequest.developers.through
    DevThrough.objects.bulk_create(
        DevThrough(removalrequest_id=r.pk, aideveloper_id=d.pk)
        for r in requests for d in developers
    )
    Notice.objects.bulk_create(
        Notice(
            developer=d, topic=f"removal:{r.pk}", key=f"removal:{r.pk}:developer:{d.pk}",
            subject="s", text="t", answer_due_at=now,
            answered_at=now if (r.pk + d.pk) % 2 else None,
        )
        for r in requests if r.status == "approved" for d in developers
    )
    return creator, staff

pages = {}
for label, n in (("25", 25), ("large", int(sys.argv[2]))):
    creator, staff = make(f"g{n}", n)
    for who, user, url in (("list", creator, "/requests/"), ("queue", staff, "/review/")):
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == 200  # warm up
        pages[(who, label)] = (client, url)

times = {key: [] for key in pages}
queries = {}
for _ in range(int(sys.argv[1])):
    for key, (client, url) in pages.items():
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times[key].append(time.perf_counter() - started)
        assert response.status_code == 200
        queries[key] = len(captured.captured_queries)
print(json.dumps({
    "median": {f"{w}:{l}": statistics.median(v) for (w, l), v in times.items()},
    "queries": {f"{w}:{l}": q for (w, l), q in queries.items()},
}))
"""


def run() -> list[dict]:
    data = run_django(_CHILD, ROUNDS, LARGE)
    median, queries = data["median"], data["queries"]
    rows = []
    for page, title in (("list", "their request list"), ("queue", "staff review queue")):
        small, large = median[f"{page}:25"], median[f"{page}:large"]
        same = queries[f"{page}:25"] == queries[f"{page}:large"]
        rows += [
            {
                "name": f"{title}: queries at 25 / at {LARGE:,}",
                "value": f"{queries[f'{page}:25']} / {queries[f'{page}:large']}",
                "unit": "",
                "target": "equal",
                "ok": same,
                "exact": True,
            },
            {
                "name": f"{title}: full page, 25 requests (median)",
                "value": small * 1000,
                "unit": "ms",
                "target": None,
                "ok": True,
            },
            {
                "name": f"{title}: ratio {LARGE:,} / 25",
                "value": large / small,
                "unit": "×",
                "target": f"≤ {RATIO_TARGET}",
                "ok": large / small <= RATIO_TARGET,
            },
        ]
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
