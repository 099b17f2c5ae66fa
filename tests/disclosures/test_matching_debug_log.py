"""With ``DEBUG`` on — the embedded default, so a worker started from the repository — Django
keeps the SQL of every query a connection runs (up to 9,000). A batch's queries name thousands
of values, so a worker matching a manifest of a million rows held them all: its peak memory grew
from 136 MB at 100,000 rows to 192 MB at 1,000,000 (bench/disclosures.py). Each batch now
forgets the SQL of the batches before it, and the worker's memory stays flat."""

from django.db import connection

from disclosures import matching, services
from disclosures.models import Disclosure

from .planted import DENIED_ISBN, csv_bytes, manifest_file

ROWS = 60
BATCH = 5


def test_with_debug_on_a_run_keeps_the_sql_of_one_batch_not_of_every_batch(
    settings, developer, planted
):
    settings.DEBUG = True
    settings.DISCLOSURE_BATCH_ROWS = BATCH
    rows = [["url", "isbn"]] + [
        [f"https://cdn.example.net/{i}.jpg", DENIED_ISBN if i % 7 == 0 else ""]
        for i in range(1, ROWS + 1)
    ]
    disclosure, _ = services.disclosure_submit(
        actor=None,
        developer=developer,
        fields=services.Fields(name="Crawl", uses=["train-ai"]),
        manifest=manifest_file(csv_bytes(rows)),
        via="api",
    )
    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    connection.queries_log.clear()
    with connection.execute_wrapper(count):
        matching.disclosure_run(disclosure_id=disclosure.pk)

    done = Disclosure.objects.get(pk=disclosure.pk)
    assert (done.state, done.rows_read, done.rows_matched) == ("done", ROWS, ROWS // 7)
    batches = ROWS // BATCH
    assert len(executed) >= 4 * batches  # every batch ran its queries…
    assert len(connection.queries_log) <= len(executed) / 3  # …and only the last one's are kept
