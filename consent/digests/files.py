"""A digest as files: one JSON object and one CSV table that say the same, written one work at
a time (for attachments and for the streamed export alike)."""

import json
from collections.abc import Iterable, Iterator
from datetime import UTC
from itertools import chain as chained

from django.utils import timezone

from works.csvsafe import stream_rows

from ..vocabulary import USES
from .build import UNKNOWN, Digest
from .periods import Period

FORMAT = "ccp-consent-digest/1"


def json_document(digest: Digest, period: Period, rows: Iterable[dict]) -> Iterator[str]:
    """The digest as one JSON object, written one work at a time; the count comes last."""
    head = {
        "format": FORMAT,
        "developer": {"slug": digest.developer.slug, "name": digest.developer.name},
        "period": {
            "label": period.label,
            "frequency": period.frequency,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        },
        "uses": USES,
        "generated_at": timezone.now().astimezone(UTC).isoformat(timespec="seconds"),
    }
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "works": ['
    separator, count = "\n", 0
    for row in rows:
        yield separator + json.dumps(row, ensure_ascii=False)
        separator, count = ",\n", count + 1
    yield f'\n], "works_count": {count}}}\n'


CSV_COLUMNS = [
    "public_id",
    "title",
    "url",
    "kind",
    "status",
    "claim_state",
    "credit_name",
    "identifiers",
    "changed_uses",
    *(
        f"{use}{part}"
        for use in USES
        for part in ("", "_source", "_licence", "_previous", "_previous_licence")
    ),
    "ledger_chain",
    "ledger_hashes",
]


def _csv_row(row: dict) -> list:
    cells = [row[name] for name in CSV_COLUMNS[:7]]
    cells += [" ".join(row["identifiers"]), " ".join(row["changed_uses"])]
    for use in USES:
        now, before = row["decision"][use], row["previous"][use]
        cells += [now["choice"], now["source"], now["licence_ref"]] if now else [UNKNOWN, "", ""]
        cells += [before["choice"], before["licence_ref"]] if before else [UNKNOWN, ""]
    cells += [row["ledger"]["chain"], " ".join(e["hash"] for e in row["ledger"]["entries"])]
    return cells


def csv_document(rows: Iterable[dict]) -> Iterator[str]:
    """The digest as CSV, one row per work, every cell safe to open in a spreadsheet."""
    return stream_rows(chained([CSV_COLUMNS], (_csv_row(row) for row in rows)))
