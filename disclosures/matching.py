"""Matching a disclosure's manifest against the registry, in the worker (docs/disclosures.md).

The registry's own matcher does the work: each row's identifiers, addresses, SHA-256 and pHash
go through ``works_registry.lookup`` (parsed and normalised as the lookup API parses them, then
``matches``: one query per kind present in a batch, the pHash block index within
``PHASH_MAX_DISTANCE``), an address no work answered through the creators' verified sites
(``works_registry.sites_lookup.sites_covering``), and a row's title with its author through
``works_registry.titles`` (folded titles and creators' names: a *weak* finding).

The run: a worker claims the disclosure under a lease with one conditional UPDATE that adds one
to ``attempts`` (its token); the manifest is read in batches of ``DISCLOSURE_BATCH_ROWS`` rows;
each batch's findings and the row it reached are written in one transaction, conditional on the
token — a worker that lost its lease writes nothing more. A killed worker's run is taken over by
the sweep once the lease ends and goes on after the last row written; findings are unique per
(row, work) and (row, site), so nothing is found twice. Cancelling is checked at every batch.
A manifest that turns out broken, or longer than ``DISCLOSURE_MAX_ROWS``, fails with its reason
and its findings are removed: a failed disclosure shows no half-made finding.
"""

import logging
from collections import defaultdict
from datetime import timedelta
from itertools import islice

from django.conf import settings
from django.core.cache import cache
from django.db import reset_queries, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts import broker
from accounts.storage import StorageUnavailable
from works.models import Work, WorkIdentifier
from works_registry.lookup import ItemError, matches, parse_item
from works_registry.models import Site
from works_registry.sites_lookup import sites_covering
from works_registry.titles import title_author_matches

from . import notify
from .manifests import ManifestError, manifest_open
from .models import Disclosure, Finding

logger = logging.getLogger(__name__)

# The kinds a row may be matched by, strongest first: a row that names one work in several ways
# keeps the strongest (one finding per row and work).
STRENGTH = ["sha256", "isbn", "isrc", "iswc", "doi", "url", "phash", "site", "title"]
IDENTIFIER_KINDS = ("sha256", "isbn", "isrc", "iswc", "doi", "url", "phash")
VALUE_MAX = 500
Kind = Finding.Kind
State = Disclosure.State

GAVE_UP = (
    "Matching stopped several times before it could finish (the worker was stopped or the "
    "file store did not answer). Submit the manifest again, or contact the registry."
)
MANIFEST_GONE = "The manifest file is no longer stored: submit it again."


class LeaseLost(Exception):
    """Another worker holds this disclosure now: stop without writing."""


class Cancelled(Exception):
    pass


# --- The lease -----------------------------------------------------------------------------------


def _lease_end():
    return timezone.now() + timedelta(seconds=settings.DISCLOSURE_LEASE_SECONDS)


def claim(disclosure_id: int) -> int | None:
    """Take the disclosure for this worker; the token, or None when it is not ours to run."""
    now = timezone.now()
    claimed = (
        Disclosure.objects.filter(pk=disclosure_id, state__in=[State.QUEUED, State.RUNNING])
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            state=State.RUNNING,
            lease_until=_lease_end(),
            attempts=F("attempts") + 1,
            started_at=Coalesce("started_at", now),
        )
    )
    if not claimed:
        return None
    return Disclosure.objects.values_list("attempts", flat=True).get(pk=disclosure_id)


def _ours(disclosure_id: int, token: int):
    return Disclosure.objects.filter(pk=disclosure_id, attempts=token, state=State.RUNNING)


def enqueue(disclosure_id: int) -> None:
    from .tasks import disclosure_match

    # Bounded to about a second and never raises: if the broker is down the sweep queues it.
    broker.publish(disclosure_match, args=(disclosure_id,))


# --- Matching one batch ---------------------------------------------------------------------


def match_rows(rows) -> list[Finding]:
    """The findings of a batch of manifest rows (``Row``: ``number`` and ``values``), unsaved,
    one per (row, work) and (row, site), the strongest kind kept. A constant number of queries
    per batch (one per kind present, one for sites, the title matcher's)."""
    if settings.DEBUG:  # Django then keeps every query's SQL: the batches before are forgotten
        reset_queries()
    wanted: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    written: dict[tuple[int, str], str] = {}  # (index, kind) → the value as the row wrote it
    pairs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        values = row.values
        for kind in IDENTIFIER_KINDS:
            value = values.get(kind)
            if not value:
                continue
            try:
                kind_, normalised = parse_item({kind: value})
            except ItemError:  # a malformed cell matches nothing; the row's others still count
                continue
            wanted[kind_][normalised].append(index)
            written[(index, kind_)] = value
        if values.get("title") and values.get("author"):
            pairs[(values["title"], values["author"])].append(index)

    best: dict[tuple[int, str, int], tuple[str, int]] = {}  # (index, "work"|"site", pk) → kind, d

    def add(index, target, pk, kind, distance=0):
        key = (index, target, pk)
        known = best.get(key)
        if known is None or (STRENGTH.index(kind), distance) < (
            STRENGTH.index(known[0]),
            known[1],
        ):
            best[key] = (kind, distance)

    for kind, values in wanted.items():
        for index, works in matches({kind: values}).items():
            for work_id, distance in works.items():
                add(index, "work", work_id, kind, distance)
    answered = {index for index, _, _ in best}
    urls = {
        url: [i for i in indexes if i not in answered] for url, indexes in wanted["url"].items()
    }
    for index, sites in sites_covering(urls).items():
        for site in sites:
            add(index, "site", site["pk"], Kind.SITE)
            written[(index, Kind.SITE)] = written[(index, "url")]
    for index, works in title_author_matches(pairs).items():
        for work_id in works:
            add(index, "work", work_id, Kind.TITLE)
            row = rows[index].values
            written[(index, Kind.TITLE)] = f"{row['title']} — {row['author']}"

    findings = []
    for (index, target, pk), (kind, distance) in best.items():
        findings.append(
            Finding(
                row=rows[index].number,
                work_id=pk if target == "work" else None,
                site_id=pk if target == "site" else None,
                kind=kind,
                value=written[(index, "url" if kind == Kind.SITE else kind)][:VALUE_MAX],
                distance=distance,
                weak=kind == Kind.TITLE,
            )
        )
    return findings


# --- The run ------------------------------------------------------------------------------------


def _batches(rows, size: int):
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def disclosure_run(*, disclosure_id: int) -> Disclosure | None:
    """The worker's part: claim, match from where the last run stopped, finish. Safe to call
    again at any time for the same disclosure (a redelivered message, the sweep)."""
    token = claim(disclosure_id)
    if token is None:
        return None
    disclosure = Disclosure.objects.get(pk=disclosure_id)
    if token > settings.DISCLOSURE_MAX_ATTEMPTS:
        return _fail(disclosure_id, token, GAVE_UP)
    if not disclosure.manifest:
        return _fail(disclosure_id, token, MANIFEST_GONE)
    since = timezone.now()
    try:
        with manifest_open(disclosure.manifest) as manifest:
            _describe(disclosure_id, token, manifest)
            for batch in _batches(
                manifest.rows(start_after=disclosure.rows_read), settings.DISCLOSURE_BATCH_ROWS
            ):
                _write_batch(disclosure_id, token, batch)
    except ManifestError as exc:
        return _fail(disclosure_id, token, exc.message)
    except FileNotFoundError:
        return _fail(disclosure_id, token, MANIFEST_GONE)
    except Cancelled:
        return _finish(disclosure_id, token, State.CANCELLED)
    except LeaseLost:
        logger.info("Disclosure %s: lease lost, another worker runs it", disclosure_id)
        return None
    except StorageUnavailable:
        # The manifest could not be read: the lease runs out and the sweep runs it again
        # (from the last row written), up to DISCLOSURE_MAX_ATTEMPTS times.
        logger.warning("Disclosure %s: the file store did not answer", disclosure_id)
        return None
    return _finish(disclosure_id, token, State.DONE, matched_through=since)


def _describe(disclosure_id: int, token: int, manifest) -> None:
    updated = _ours(disclosure_id, token).update(
        manifest_format=manifest.format,
        manifest_compressed=manifest.compressed,
        columns=list(manifest.columns),
        ignored_columns=list(manifest.ignored),
        rows_total=manifest.rows_total,
    )
    if not updated:
        raise LeaseLost


def _write_batch(disclosure_id: int, token: int, batch) -> None:
    findings = match_rows(batch)
    for finding in findings:
        finding.disclosure_id = disclosure_id
    with transaction.atomic():
        current = (
            _ours(disclosure_id, token)
            .select_for_update()
            .values_list("cancel_requested", flat=True)
            .first()
        )
        if current is None:
            raise LeaseLost
        if current:
            raise Cancelled
        Finding.objects.bulk_create(findings, ignore_conflicts=True, batch_size=1000)
        matched_rows = len({f.row for f in findings})
        _ours(disclosure_id, token).update(
            rows_read=batch[-1].number,
            rows_matched=F("rows_matched") + matched_rows,
            lease_until=_lease_end(),
        )


def _counts(disclosure_id: int) -> dict:
    row = Finding.objects.filter(disclosure_id=disclosure_id).aggregate(
        findings=Count("pk"), rows=Count("row", distinct=True)
    )
    return {"findings_count": row["findings"], "rows_matched": row["rows"]}


def _finish(disclosure_id: int, token: int, state: str, matched_through=None) -> Disclosure | None:
    with transaction.atomic():
        updated = _ours(disclosure_id, token).update(
            state=state,
            lease_until=None,
            finished_at=timezone.now(),
            error="",
            **_counts(disclosure_id),
            **({"matched_through": matched_through} if matched_through else {}),
        )
        if updated and state == State.DONE:
            notify.announce_after_commit(disclosure_id)  # each creator found, told once
    return Disclosure.objects.get(pk=disclosure_id) if updated else None


def _fail(disclosure_id: int, token: int, message: str) -> Disclosure | None:
    """Failed with its reason; its findings removed (none half-made is ever shown)."""
    with transaction.atomic():
        updated = _ours(disclosure_id, token).update(
            state=State.FAILED,
            lease_until=None,
            finished_at=timezone.now(),
            error=message,
            rows_matched=0,
            findings_count=0,
        )
        if updated:
            Finding.objects.filter(disclosure_id=disclosure_id).delete()
    return Disclosure.objects.get(pk=disclosure_id) if updated else None


# --- Works registered later -------------------------------------------------------------------


def _newer(findings: list[Finding], since) -> list[Finding]:
    """The findings whose work was registered, or whose site verified, after ``since``."""
    work_ids = {f.work_id for f in findings if f.work_id}
    site_ids = {f.site_id for f in findings if f.site_id}
    new_works = set(
        Work.objects.filter(pk__in=work_ids, created_at__gt=since).values_list("pk", flat=True)
    )
    new_works |= set(
        WorkIdentifier.objects.filter(work_id__in=work_ids, created_at__gt=since).values_list(
            "work_id", flat=True
        )
    )
    new_sites = set(
        Site.objects.filter(pk__in=site_ids, verified_at__gt=since).values_list("pk", flat=True)
    )
    return [f for f in findings if f.work_id in new_works or f.site_id in new_sites]


def disclosure_rematch(*, disclosure_id: int, now=None) -> int:
    """Match a finished disclosure's kept manifest again for the works registered (or given an
    identifier) and the sites verified since it was last matched: the daily sweep's part, so a
    work registered later is found within a day. Adds findings only (one per row and work, as
    ever; a dismissed one stays dismissed); the disclosure stays ``done`` and its report and
    exclusion list answer throughout. Returns the findings added."""
    now = now or timezone.now()
    disclosure = Disclosure.objects.filter(pk=disclosure_id, state=State.DONE).first()
    if disclosure is None or not disclosure.manifest or disclosure.matched_through is None:
        return 0
    since = disclosure.matched_through
    changed = (
        Work.objects.filter(created_at__gt=since).exists()
        or WorkIdentifier.objects.filter(created_at__gt=since).exists()
        or Site.objects.filter(verified_at__gt=since).exists()
    )
    added = 0
    if changed:
        with manifest_open(disclosure.manifest) as manifest:
            for batch in _batches(manifest.rows(), settings.DISCLOSURE_BATCH_ROWS):
                findings = _newer(match_rows(batch), since)
                for finding in findings:
                    finding.disclosure_id = disclosure_id
                added += len(
                    Finding.objects.bulk_create(findings, ignore_conflicts=True, batch_size=1000)
                )
    Disclosure.objects.filter(pk=disclosure_id, state=State.DONE).update(
        matched_through=now, **_counts(disclosure_id)
    )
    cache.delete(_rematch_key(disclosure_id))
    if added:
        notify.announce_after_commit(disclosure_id)  # one more email, naming only the new ones
    return added


def disclosures_rematch(*, now=None) -> int:
    """Every finished disclosure whose manifest is kept and was last matched a day ago or more:
    queued for ``disclosure_rematch`` (beat, hourly)."""
    from .tasks import disclosure_rematch as task

    now = now or timezone.now()
    ids = list(
        Disclosure.objects.filter(state=State.DONE, matched_through__lt=now - timedelta(days=1))
        .exclude(manifest="")
        .values_list("pk", flat=True)[:50]
    )
    queued = 0
    for disclosure_id in ids:
        # One run at a time for a disclosure, however often the sweep comes by meanwhile.
        if cache.add(_rematch_key(disclosure_id), 1, timeout=settings.DISCLOSURE_TIME_LIMIT):
            broker.publish(task, args=(disclosure_id,))
            queued += 1
    return queued


def _rematch_key(disclosure_id: int) -> str:
    return f"disclosures:rematch:{disclosure_id}"


# --- The sweep ----------------------------------------------------------------------------------


def disclosures_sweep(*, now=None) -> int:
    """Queue again every disclosure queued for a minute (its broker message may be lost) or
    running with an expired lease (its worker was killed); returns how many."""
    now = now or timezone.now()
    ids = list(
        Disclosure.objects.filter(
            Q(state=State.QUEUED, created_at__lt=now - timedelta(minutes=1))
            | Q(state=State.RUNNING, lease_until__lt=now)
        ).values_list("pk", flat=True)[:100]
    )
    for disclosure_id in ids:
        enqueue(disclosure_id)
    return len(ids)
