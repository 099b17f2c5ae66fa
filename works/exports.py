"""The creator's catalogue as rows, for the CSV and JSON downloads.

Rows are streamed: the works are read with ``iterator(chunk_size=...)`` and their identifiers
prefetched one chunk at a time (one query per chunk, never one per work), so a catalogue of any
size is never held in memory at once.

The CSV columns include every column of the import template under the same name (``title``,
``kind``, ``year``, ``description``, ``co_creators``, ``isbn``, ``isrc``, ``iswc``, ``doi``,
``urls``), with several identifiers of a scheme separated by spaces as the import expects, so an
export can be imported again. After them come the columns the apps above ``works`` add
(``works.extensions``): each work's effective AI choice per use (``ai_train_genai``,
``ai_train_ai``, ``ai_ai_input``, ``ai_search``, ``ai_style`` — ``allow``, ``deny`` or
``licence``), which the import ignores.
"""

from collections.abc import Iterator
from itertools import islice

from django.conf import settings
from django.urls import reverse

from accounts.models import User

from . import extensions
from .fingerprints import to_unsigned64
from .identifiers import display
from .models import Work, WorkIdentifier
from .selectors import works_for_owner

CHUNK_SIZE = 2000
STATUSES = ("all", Work.Status.ACTIVE, Work.Status.ARCHIVED)

IDENTIFIER_COLUMNS = {
    WorkIdentifier.Scheme.ISBN: "isbn",
    WorkIdentifier.Scheme.ISRC: "isrc",
    WorkIdentifier.Scheme.ISWC: "iswc",
    WorkIdentifier.Scheme.DOI: "doi",
    WorkIdentifier.Scheme.URL: "urls",
}

COLUMNS = (
    "public_id",
    "title",
    "kind",
    "year",
    "description",
    "co_creators",
    "status",
    "claim_state",
    "isbn",
    "isrc",
    "iswc",
    "doi",
    "urls",
    "public_url",
    "file",
    "sha256",
    "phash",
    "created_at",
)


def columns() -> tuple[str, ...]:
    """``COLUMNS``, then the columns the apps above ``works`` add (``works.extensions``): each
    work's effective AI choice per use, from ``consent`` (``ai_train_genai``…)."""
    return COLUMNS + tuple(c for extra in extensions.export_columns for c in extra.columns)


def catalogue_rows(
    user: User, *, status: str = "all", chunk_size: int = CHUNK_SIZE
) -> Iterator[dict]:
    """One dict per work of ``user`` (keys: ``columns()``), oldest first, read lazily.

    ``status`` is ``"all"``, ``"active"`` or ``"archived"``; anything else is a ``ValueError``.
    """
    if status not in STATUSES:  # checked now, not when the first row is asked for
        raise ValueError(f"unknown status {status!r}; expected one of {STATUSES}")
    works = works_for_owner(user, status=status, sort="oldest")
    return _rows(works.iterator(chunk_size=chunk_size), chunk_size=chunk_size)


def _rows(works: Iterator[Work], *, chunk_size: int) -> Iterator[dict]:
    # One public URL reversed, the others derived from it (a reverse() per work adds up).
    sample = "PUBLICID"
    before, after = (settings.SITE_URL + reverse("works:public", args=[sample])).split(sample)
    # The added columns are computed a chunk at a time (the chunks the iterator reads and
    # prefetches identifiers for): a few queries per chunk, never one per work.
    while chunk := list(islice(works, chunk_size)):
        added = [extra.values(chunk) for extra in extensions.export_columns]
        for work in chunk:
            row = _row(work, public_url=before + work.public_id + after)
            for extra, values in zip(extensions.export_columns, added, strict=True):
                row.update(values.get(work.pk) or dict.fromkeys(extra.columns, ""))
            yield row


def _row(work: Work, *, public_url: str) -> dict:
    identifiers: dict[str, list[str]] = {column: [] for column in IDENTIFIER_COLUMNS.values()}
    for identifier in work.identifiers.all():  # prefetched for the whole chunk
        identifiers[IDENTIFIER_COLUMNS[identifier.scheme]].append(
            display(identifier.scheme, identifier.value)
        )
    work_file = getattr(work, "file", None)  # select_related: None costs no query
    phash = work_file.phash if work_file else None
    return {
        "public_id": work.public_id,
        "title": work.title,
        "kind": work.kind,
        "year": work.year,
        "description": work.description,
        "co_creators": work.co_creators,
        "status": work.status,
        "claim_state": work.claim_state,
        **{column: " ".join(values) for column, values in identifiers.items()},
        "public_url": public_url,
        "file": work_file.original_name if work_file else "",
        "sha256": work_file.sha256 if work_file else "",
        "phash": f"{to_unsigned64(phash):016x}" if phash is not None else "",
        "created_at": work.created_at.isoformat(),
    }
