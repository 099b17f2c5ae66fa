"""What a removal notice says about the works, built **once** per approval and shared by every
developer's notice (titles, identifiers, public URLs, SHA-256 and perceptual hashes, claim
states), plus the small part that differs per developer (the licence grants it holds).

A constant number of queries, whatever the number of works.
"""

import csv
import io
import json
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from consent.models import LicenceGrant
from works.csvsafe import safe_cell
from works.models import Work, WorkIdentifier

CSV_COLUMNS = [
    "public_id",
    "title",
    "kind",
    "year",
    "claim_state",
    "url",
    "identifiers",
    "sha256",
    "phash",
]


@dataclass(frozen=True)
class Manifest:
    works: list[dict]
    json_bytes: bytes
    csv_bytes: bytes

    @property
    def count(self) -> int:
        return len(self.works)


def _work_row(work: Work) -> dict:
    file = getattr(work, "file", None)
    identifiers = [f"{i.scheme}:{i.value}" for i in work.identifiers.all()]
    return {
        "public_id": work.public_id,
        "title": work.title,
        "kind": work.kind,
        "year": work.year,
        "claim_state": work.claim_state,
        "url": f"{settings.SITE_URL}{reverse('works:public', args=[work.public_id])}",
        "identifiers": identifiers,
        "sha256": (file.sha256 if file is not None and file.sha256 else None),
        "phash": (
            f"{file.phash & 0xFFFFFFFFFFFFFFFF:016x}"
            if file is not None and file.phash is not None
            else None
        ),
    }


def manifest_build(work_ids) -> Manifest:
    works = (
        Work.objects.filter(pk__in=list(work_ids))
        .select_related("file")
        .prefetch_related(
            Prefetch("identifiers", queryset=WorkIdentifier.objects.order_by("scheme", "value"))
        )
        .order_by("title", "pk")
    )
    rows = [_work_row(w) for w in works]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = {**row, "identifiers": " ".join(row["identifiers"])}
        writer.writerow(
            [safe_cell("" if values[c] is None else str(values[c])) for c in CSV_COLUMNS]
        )
    return Manifest(
        works=rows,
        json_bytes=json.dumps({"works": rows}, ensure_ascii=False, indent=1).encode(),
        csv_bytes=buffer.getvalue().encode(),
    )


def grants_by_developer(*, owner_id: int, work_ids, developer_ids) -> dict[int, list[dict]]:
    """The licence grants each developer holds from the creator, active today, on any of the
    works (or all their works): what a reviewer is warned of, and what each notice mentions."""
    work_ids = set(work_ids)
    found: dict[int, list[dict]] = {pk: [] for pk in developer_ids}
    grants = (
        LicenceGrant.objects.active_on(timezone.localdate())
        .filter(owner_id=owner_id, developer_id__in=list(developer_ids))
        .prefetch_related(Prefetch("works", queryset=Work.objects.only("pk", "public_id")))
        .order_by("pk")
    )
    for grant in grants:
        covered = (
            "all"
            if grant.all_works
            else sorted(w.public_id for w in grant.works.all() if w.pk in work_ids)
        )
        if covered == []:
            continue
        found[grant.developer_id].append(
            {
                "licence": grant.licence_ref,
                "uses": sorted(grant.uses),
                "works": covered,
                "from": grant.starts_on.isoformat(),
                "to": grant.ends_on.isoformat() if grant.ends_on else None,
            }
        )
    return found
