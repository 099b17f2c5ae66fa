"""Benchmark: the works list page does not slow down with the size of the catalogue.

Target (issue 4): the works list page of 50 works costs at most 1.5× more time when the creator
has 10,000 works than when they have exactly 50 — full page against full page, both measured in
one run. A fresh subprocess builds a scratch SQLite database (the embedded default), gives one
creator exactly 50 works and another 10,000 (each with identifiers; one in five with an image
file record), then renders the first page for each, alternating, through Django's full request
stack (middleware, session, templates), and compares the medians.

The smoke run (``BENCH_SMOKE=1``) compares 50 works with 120, rendering each page twice.

Run: ``.venv/bin/python -m bench works_list``
"""

from bench import sized

from ._child import run_django

RATIO_TARGET = 1.5
ROUNDS = sized(150, 2)
LARGE = sized(10_000, 120)  # works of the second creator (the first has a full page, 50)

_CHILD = r"""
import json, statistics, sys, time
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment
from accounts.models import User
from works.models import Work, WorkFile, WorkIdentifier

setup_test_environment()  # lets the test client build responses as in tests
call_command("migrate", verbosity=0)

def make(email, n):
    user = User.objects.create_user(email=email, password="x")
    works = Work.objects.bulk_create(
        Work(owner=user, title=f"Work {i:05d}", kind="photograph", year=2000 + i % 25)
        for i in range(n)
    )
    WorkIdentifier.objects.bulk_create(
        WorkIdentifier(work=w, scheme="url", value=f"https://{email}/w/{w.pk}") for w in works
    )
    WorkFile.objects.bulk_create(
        WorkFile(work=w, status="ready", original_name="p.jpg", size=1, sha256="0" * 64,
                 family="image", format="jpeg", mime="image/jpeg",
                 thumbnail=f"thumbnails/{w.pk}.jpg")
        for w in works[::5]
    )
    return user

small, large = make("small.example", 50), make("large.example", int(sys.argv[2]))
clients = {}
for name, user in (("50", small), ("large", large)):
    client = Client()
    client.force_login(user)
    assert client.get("/works/").status_code == 200  # warm up
    clients[name] = client
times = {"50": [], "large": []}
for _ in range(int(sys.argv[1])):
    for name, client in clients.items():
        started = time.perf_counter()
        response = client.get("/works/")
        times[name].append(time.perf_counter() - started)
        assert response.status_code == 200
        assert response.content.count(b'<li class="work-item') == 50  # full page, both sides
print(json.dumps({name: statistics.median(values) for name, values in times.items()}))
"""


def run() -> list[dict]:
    medians = run_django(_CHILD, ROUNDS, LARGE)
    ratio = medians["large"] / medians["50"]
    return [
        {
            "name": "page of 50, creator with 50 works (median)",
            "value": medians["50"] * 1000,
            "unit": "ms",
            "target": None,
            "ok": True,
        },
        {
            "name": f"page of 50, creator with {LARGE:,} works (median)",
            "value": medians["large"] * 1000,
            "unit": "ms",
            "target": None,
            "ok": True,
        },
        {
            "name": f"ratio {LARGE:,} / 50",
            "value": ratio,
            "unit": "×",
            "target": f"≤ {RATIO_TARGET}",
            "ok": ratio <= RATIO_TARGET,
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
