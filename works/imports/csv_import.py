"""The CSV import, run by the worker.

Two streaming passes over the stored file: the first counts the rows (the progress bar's total,
and the row limit) and settles the encoding; the second reads the rows in batches of
``WORKS_IMPORT_BATCH_SIZE``. Each batch, in one short transaction: checks its rows, matches
them against the owner's works (one query for identifiers, one for titles), creates the new
works and identifiers with ``bulk_create``, records the bad rows, and moves the job's counters
forward with one UPDATE. Only one batch of rows is ever in memory.

Matching (the same owner only; another creator's work with the same ISBN is a conflict, not a
match): a row with identifiers or URLs matches the work that has any of them; a row with none
matches a work with the same title, kind and year. Rows repeated within the file match the work
the first of them created. A matched row adds the identifiers the work did not have yet and
changes nothing else. That makes a re-run harmless: rows imported before match what they made.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import reset_queries, transaction
from django.db.models import Q

from accounts import storage as stored_files

from .. import services
from ..models import ImportJob, ImportRowError, Work, WorkIdentifier
from .csvfiles import (
    CSV_COLUMNS,
    ImportFileError,
    count_rows,
    data_rows,
    detect_delimiter,
    detect_encoding,
    parse_header,
    records,
    text_of,
)
from .jobs import advance
from .rows import Row, parse_row

REQUIRED = ("title", "kind")
UNKNOWN_COLUMN = "This column is not one we import, so it was ignored. The columns are: {columns}."


def run_csv(job: ImportJob, token: int) -> None:
    limit = settings.WORKS_IMPORT_MAX_ROWS
    # Read more than once (its encoding, its rows counted, then imported): seekable, which on
    # a bucket is a temporary copy removed at the end.
    with stored_files.seekable(job.source) as binary:
        encoding = detect_encoding(binary)
        delimiter = detect_delimiter(binary, encoding)
        header = _header(binary, encoding, delimiter)
        total, encoding = count_rows(binary, encoding=encoding, delimiter=delimiter, limit=limit)
        if total > limit:
            raise ImportFileError(
                f"This file has more than {limit:,} rows: an import takes at most {limit:,}. "
                "Split it into several files and import each."
            )
        if job.total_rows is None:
            with transaction.atomic():
                ImportRowError.objects.bulk_create(
                    ImportRowError(
                        job=job,
                        row=1,
                        column=name[:100],
                        message=UNKNOWN_COLUMN.format(columns=", ".join(CSV_COLUMNS)),
                    )
                    for name in header.unknown
                )
                advance(job, token, total_rows=total)
        done = ImportJob.objects.values_list("processed_rows", flat=True).get(pk=job.pk)
        text = text_of(binary, encoding)
        try:
            reader = records(text, delimiter)
            header = parse_header(next(reader, None), known=CSV_COLUMNS, required=REQUIRED)
            _import_rows(job, token, header, data_rows(reader), skip=done)
        finally:
            text.detach()


def _header(binary, encoding, delimiter):
    text = text_of(binary, encoding)
    try:
        first = next(records(text, delimiter), None)
    except UnicodeDecodeError:
        first = None
    finally:
        text.detach()
    return parse_header(first, known=CSV_COLUMNS, required=REQUIRED)


def _import_rows(job, token, header, rows, *, skip: int) -> None:
    size = settings.WORKS_IMPORT_BATCH_SIZE
    batch: list[tuple[int, list[str]]] = []
    for index, (number, record) in enumerate(rows):
        if index < skip:  # imported by an earlier run of this job
            continue
        batch.append((number, record))
        if len(batch) >= size:
            _import_batch(job, token, header, batch)
            batch = []
    if batch:
        _import_batch(job, token, header, batch)


def _import_batch(job, token, header, batch) -> None:
    rows: list[Row] = []
    errors: list[ImportRowError] = []
    failed = 0
    for number, record in batch:
        result = parse_row(number, header.cells(record))
        if isinstance(result, Row):
            rows.append(result)
        else:
            failed += 1
            errors.extend(
                ImportRowError(job=job, row=number, column=column, message=message)
                for column, message in result
            )
    with transaction.atomic():
        plan = plan_batch(job.owner, rows)
        Work.objects.bulk_create(plan.works)
        ImportRowError.objects.bulk_create(errors)
        advance(
            job,
            token,
            processed=len(batch),
            created=len(plan.works),
            matched=plan.matched,
            errors=failed,
        )
        # Another creator's work with one of these identifiers is a conflict for staff: the
        # new works and those gaining identifiers, through the one path works gain them by.
        services.identifiers_add(actor=job.owner, identifiers=plan.identifiers, works=plan.works)
    reset_queries()  # with DEBUG on, Django keeps every query's SQL: not across 100,000 rows


# --- Matching ----------------------------------------------------------------------------------


@dataclass
class Plan:
    works: list[Work] = field(default_factory=list)  # to create
    identifiers: list[WorkIdentifier] = field(default_factory=list)  # to add, new works' too
    matched: int = 0
    enriched: set[int] = field(default_factory=set)  # existing works gaining identifiers


def plan_batch(owner, rows: list[Row]) -> Plan:
    """What to write for ``rows``: new works, identifiers to add, and how many rows matched a
    work (already registered, or created by an earlier row of this batch)."""
    by_pair = _existing_by_pair(owner, rows)
    by_key = _existing_by_key(owner, rows)
    plan = Plan()
    new_by_pair: dict[tuple[str, str], Work] = {}
    new_by_key: dict[tuple, Work] = {}
    for row in rows:
        pairs = row.pairs
        target = next((by_pair[p] for p in pairs if p in by_pair), None)
        if target is None:
            target = next((new_by_pair[p] for p in pairs if p in new_by_pair), None)
        if target is None and not pairs:
            target = by_key.get(row.natural_key) or new_by_key.get(row.natural_key)
        if target is None:
            target = row.work(owner)
            plan.works.append(target)
            new_by_key.setdefault(row.natural_key, target)
        else:
            plan.matched += 1
        for scheme, value in pairs:
            if (scheme, value) in by_pair or (scheme, value) in new_by_pair:
                continue  # already one of the owner's works' (this one's, or another's)
            new_by_pair[(scheme, value)] = target
            if isinstance(target, int):
                plan.enriched.add(target)
                link = {"work_id": target}
            else:
                link = {"work": target}
            plan.identifiers.append(WorkIdentifier(scheme=scheme, value=value, **link))
    return plan


def _existing_by_pair(owner, rows) -> dict[tuple[str, str], int]:
    """(scheme, value) → the owner's earliest work with it, for every pair in ``rows``.

    Two queries, each through its own index, so that the cost follows the batch and not the
    size of their catalogue: the works holding these identifiers (the ``(scheme, value)``
    index; a handful of creators at most share one), then which of them are theirs (primary
    keys). Joined in one query, SQLite may walk all their works instead."""
    values: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for scheme, value in row.pairs:
            values[scheme].add(value)
    if not values:
        return {}
    condition = Q()
    for scheme, wanted in values.items():
        condition |= Q(scheme=scheme, value__in=sorted(wanted))
    holders = list(
        WorkIdentifier.objects.filter(condition)
        .order_by()
        .values_list("scheme", "value", "work_id")
    )
    ids = sorted({pk for _, _, pk in holders})
    theirs: set[int] = set()
    for start in range(0, len(ids), 500):  # one query unless many creators share a value
        theirs.update(
            Work.objects.filter(pk__in=ids[start : start + 500], owner_id=owner.pk)
            .order_by()
            .values_list("pk", flat=True)
        )
    found: dict[tuple[str, str], int] = {}
    for scheme, value, work_id in holders:
        if work_id in theirs and work_id < found.get((scheme, value), work_id + 1):
            found[(scheme, value)] = work_id
    return found


def _existing_by_key(owner, rows) -> dict[tuple, int]:
    """(title, kind, year) → the owner's earliest such work, for the rows without identifiers.

    Through the ``(owner, title)`` index; unordered, as ``ORDER BY pk`` would lead SQLite to
    walk all their works in primary-key order instead."""
    keys = {row.natural_key for row in rows if not row.pairs}
    if not keys:
        return {}
    found: dict[tuple, int] = {}
    for title, kind, year, pk in (
        Work.objects.filter(
            owner_id=owner.pk,
            title__in=sorted({key[0] for key in keys}),
            kind__in=sorted({key[1] for key in keys}),
        )
        .order_by()
        .values_list("title", "kind", "year", "pk")
    ):
        key = (title, kind, year)
        if key in keys and pk < found.get(key, pk + 1):
            found[key] = pk
    return found
