"""What a disclosure tells its developer (docs/disclosures.md): the compliance report — rows
read, rows matched, and matched rows by the effective decision for this developer and the
disclosure's uses, licences included — and the exclusion list, every matched row whose work or
site is not freely allowed for every one of those uses.

Both are computed when asked, from the findings and the decisions in force
(``consent.decisions``, the one place a decision is computed): when a creator changes a
decision, or grants this developer a licence, the next report follows. A finding the creator
dismissed ("not my work") counts nowhere. Findings are read in chunks of ``CHUNK``; each chunk
costs a constant number of queries (its works' owners, three for their decisions, one or two
for the sites' owners), whatever the size of the manifest."""

from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace

from consent.decisions import decisions_for_works
from consent.vocabulary import Choice
from works.models import Work
from works_registry.models import Site
from works_registry.sites_lookup import owner_decisions

from .models import Disclosure, Finding

CHUNK = 10_000
DENIED, LICENCE, ALLOWED = "denied", "licence", "allowed"
# A row's verdict is its strictest finding's: denied > licence > allowed.
ORDER = {ALLOWED: 0, LICENCE: 1, DENIED: 2}


def verdict(decisions: dict, uses: list[str]) -> str:
    """``denied`` if any of the uses is not allowed, ``licence`` if one is allowed only under a
    licence this developer does not hold, else ``allowed`` (a grant to it counts as allowed)."""
    choices = {decisions[use].choice for use in uses}
    if Choice.DENY in choices:
        return DENIED
    if Choice.LICENCE in choices:
        return LICENCE
    return ALLOWED


def _counted(disclosure: Disclosure):
    return (
        Finding.objects.filter(disclosure=disclosure)
        .exclude(state=Finding.State.DISMISSED)
        .order_by("row", "pk")
    )


def _judged(disclosure: Disclosure) -> Iterator[tuple[dict, str, dict]]:
    """``(finding row, verdict, target)`` for every counted finding, in row order; target is
    ``{"public_id", "kind": "work"|"site"}``."""
    fields = ("pk", "row", "work_id", "site_id", "kind", "value", "weak", "distance")
    last = (0, 0)
    developer = disclosure.developer
    while True:
        chunk = list(
            _counted(disclosure)
            .filter(row__gte=last[0])
            .exclude(row=last[0], pk__lte=last[1])
            .values(*fields)[:CHUNK]
        )
        if not chunk:
            return
        last = (chunk[-1]["row"], chunk[-1]["pk"])
        work_ids = {f["work_id"] for f in chunk if f["work_id"]}
        site_ids = {f["site_id"] for f in chunk if f["site_id"]}
        works = {
            row["pk"]: row
            for row in Work.objects.filter(pk__in=work_ids).values("pk", "owner_id", "public_id")
        }
        decisions = decisions_for_works(
            [SimpleNamespace(pk=w["pk"], owner_id=w["owner_id"]) for w in works.values()],
            developer=developer,
        )
        sites = {
            row["pk"]: row
            for row in Site.objects.filter(pk__in=site_ids).values("pk", "owner_id", "public_id")
        }
        by_owner, _ = owner_decisions({s["owner_id"] for s in sites.values()}, developer=developer)
        for finding in chunk:
            if finding["work_id"]:
                work = works.get(finding["work_id"])
                if work is None:
                    continue
                judged = verdict(decisions[work["pk"]], disclosure.uses)
                target = {"kind": "work", "public_id": work["public_id"]}
            else:
                site = sites.get(finding["site_id"])
                if site is None:
                    continue
                judged = verdict(by_owner[site["owner_id"]], disclosure.uses)
                target = {"kind": "site", "public_id": site["public_id"]}
            yield finding, judged, target


def report(disclosure: Disclosure) -> dict:
    """Rows read and matched, and matched rows by verdict (a row's strictest finding)."""
    rows: dict[int, str] = {}
    for finding, judged, _ in _judged(disclosure):
        known = rows.get(finding["row"])
        if known is None or ORDER[judged] > ORDER[known]:
            rows[finding["row"]] = judged
    by_verdict = Counter(rows.values())
    return {
        "rows_read": disclosure.rows_read,
        "rows_total": disclosure.rows_total,
        "rows_matched": len(rows),
        "rows_denied": by_verdict[DENIED],
        "rows_licence_only": by_verdict[LICENCE],
        "rows_allowed": by_verdict[ALLOWED],
        "rows_to_exclude": by_verdict[DENIED] + by_verdict[LICENCE],
    }


EXCLUSION_FIELDS = ["row", "value", "match", "weak", "distance", "target", "public_id", "decision"]


def exclusions(disclosure: Disclosure) -> Iterator[dict]:
    """Every counted finding whose work or site is not freely allowed for every use of the
    disclosure, in row order: what must come out of the dataset before training."""
    for finding, judged, target in _judged(disclosure):
        if judged == ALLOWED:
            continue
        yield {
            "row": finding["row"],
            "value": finding["value"],
            "match": finding["kind"],
            "weak": finding["weak"],
            "distance": finding["distance"],
            "target": target["kind"],
            "public_id": target["public_id"],
            "decision": judged,
        }
