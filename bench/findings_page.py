"""Benchmark: a creator's "Found in datasets" page does not grow with their findings.

Target (issue 18): the findings page of a creator with 10,000 findings makes a constant number
of queries, and takes at most 1.5× the time of the page of a creator with 10 findings — both
measured side by side in one run. A fresh subprocess builds a scratch SQLite database (the
embedded default): one AI developer with four done disclosures; a creator with 10 findings, one
with 50 (a full page), one with 10,000 (2,500 works, each found in the four datasets, a fifth of
them confirmed or dismissed), and another creator's 10,000 findings in the same disclosures —
rows the page must never read. Each page is rendered through Django's full request stack
(middleware, session, templates), alternating, and the medians compared: the first page and the
last (page 200, the deepest OFFSET) of the large catalogue against the page at 10, and the
first page against a full page of 50.

The smoke run (``BENCH_SMOKE=1``) uses 10, 50 and 120 findings, rendering each page twice.

Run: ``.venv/bin/python -m bench findings_page``
"""

from bench import sized

from ._child import run_django

RATIO_TARGET = 1.5
ROUNDS = sized(60, 2)
LARGE = sized(10_000, 120)  # findings of the large creator (four per work)

_CHILD = r"""
import json, statistics, sys, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone
from accounts.models import User
from disclosures.models import Disclosure, Finding
from notices.models import AIDeveloper
from works.models import Work

setup_test_environment()
call_command("migrate", verbosity=0)
developer = AIDeveloper.objects.create(name="Example AI Ltd", slug="example-ai")
disclosures = [
    Disclosure.objects.create(
        developer=developer, name=f"WebText {i}", version="2026-11",
        uses=["train-genai", "train-ai"], via="api", manifest_name="m.csv",
        manifest_sha256=f"{i:064x}", manifest_size=1, state="done", finished_at=timezone.now(),
    )
    for i in range(4)
]
STATES = ["new", "new", "new", "confirmed", "dismissed"]

def make(email, n):
    user = User.objects.create_user(email=email, password="x")
    per = min(4, n)
    works = Work.objects.bulk_create(
        Work(owner=user, title=f"Work {i:05d}", title_folded=f"work {i:05d}", kind="book")
        for i in range(-(-n // per))
    )
    findings = [
        Finding(
            disclosure=disclosures[d], row=1 + k * 4 + d, work=w, kind="isbn",
            value=f"978{w.pk:010d}", state=STATES[k % 5],
        )
        for k, w in enumerate(works) for d in range(per)
    ][:n]
    Finding.objects.bulk_create(findings, batch_size=2000)
    return user

pages = {}
sizes = (("10", 10), ("50", 50), ("large", int(sys.argv[2])))
for label, n in sizes:
    user = make(f"creator{label}@example.org", n)
    client = Client()
    client.force_login(user)
    assert client.get("/found-in-datasets/").status_code == 200  # warm up
    pages[label] = (client, "/found-in-datasets/")
    if label == "large":
        last = -(-n // 50)
        pages["large-last"] = (client, f"/found-in-datasets/?page={last}")
make("noise@example.org", int(sys.argv[2]))  # another creator's findings in the same datasets

times = {key: [] for key in pages}
queries = {}
for _ in range(int(sys.argv[1])):
    for key, (client, url) in pages.items():
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times[key].append(time.perf_counter() - started)
        assert response.status_code == 200
        assert b"finding-" in response.content
        queries[key] = len(captured.captured_queries)
print(json.dumps({
    "median": {k: statistics.median(v) for k, v in times.items()},
    "queries": queries,
}))
"""


def run() -> list[dict]:
    data = run_django(_CHILD, ROUNDS, LARGE)
    median, queries = data["median"], data["queries"]
    same = len(set(queries.values())) == 1
    rows = [
        {
            "name": f"queries at 10 / 50 / {LARGE:,} findings (first, last page)",
            "value": (
                f"{queries['10']} / {queries['50']} / {queries['large']}, {queries['large-last']}"
            ),
            "unit": "",
            "target": "equal",
            "ok": same,
            "exact": True,
        },
        {
            "name": "page at 10 findings (median)",
            "value": median["10"] * 1000,
            "unit": "ms",
            "target": None,
            "ok": True,
        },
    ]
    rows.append(
        {
            "name": "full page at 50 / page at 10 (rendering 50 rows, not 10)",
            "value": median["50"] / median["10"],
            "unit": "×",
            "target": None,
            "ok": True,
        }
    )
    for key, title, base in (
        ("large", f"first page at {LARGE:,} / page at 10", "10"),
        ("large-last", f"last page at {LARGE:,} / page at 10", "10"),
        ("large", f"first page at {LARGE:,} / full page at 50", "50"),
    ):
        ratio = median[key] / median[base]
        rows.append(
            {
                "name": title,
                "value": ratio,
                "unit": "×",
                "target": f"≤ {RATIO_TARGET}",
                "ok": ratio <= RATIO_TARGET,
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
