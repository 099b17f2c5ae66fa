"""The works registry's change feed (docs/api.md, "Change feed"): for one AI developer, the works
and sites whose answer *for it* may have changed since a cursor, oldest change first, each with
its answer now — the object ``lookup.work_objects`` (``sites_lookup.site_object``) builds, or a
removal.

**Recording.** Every change that may alter an answer writes a ``Change`` row in its own
transaction, through the hooks of the layers below (registered in ``apps.py``):

- ``works.listeners``: a work created, or its title, kind, identifiers, status or claim changed
  → one ``work`` row;
- ``consent.ledger`` (every consent change appends an entry): the digest's candidate rules
  (``consent.digests.entry_touches``) — a default → one ``owner`` row for all their works, an
  override or a bulk apply → a ``work`` row per work named; a licence grant created, revoked,
  started or ended → the same, for that grant's developer only; credit → nothing;
- ``accounts``: their credit or display name → one ``owner`` row; their account deleted → a
  ``work`` row per work, written before they go (the public ids are kept: removals);
- ``sites_services`` (every change of a site's status): a ``site`` row when the site becomes
  or stops being verified (``change_record_site``). A site's answer is their defaults and the
  caller's licences for all their works: every ``owner`` row above comes with a ``site`` row for
  each of their verified sites (at most ``SITES_MAX_PER_CREATOR``, read when it is written).

An ``owner`` row is not expanded when written — a creator with 10,000 works changes their default
with one row — but when a page is read, resumably: a cursor may point inside an expansion.

**Order.** Rows are read by ``(txid, id)``. On PostgreSQL ``txid`` is the writing transaction's
id, and a page reads only rows whose transaction is below the oldest one still running
(``pg_snapshot_xmin``): every such transaction has ended, so no row can commit later *behind*
a cursor already handed out, however transactions interleave (ids alone can: an id taken
early by a transaction that commits late). The feed lags by the longest write transaction
running. On SQLite one transaction writes at a time, so ids are in commit order and ``txid``
is 0.

**Reading.** A page: the rows after the cursor (one query), the works of their creators for
the ``owner`` rows (one query, at most ``limit`` works a creator), the works by public id and
their objects (``work_objects``: one, then five) — a number of queries that does not grow with
the changes. A work is listed once a page; its answer is read when the page is, so a work
listed by several changes carries its latest answer, and a client that applies the entries in
order (upsert or delete) ends holding the current answers. Before reading, the caller's licence
grants whose period started or ended by date are recorded (``grant_periods_record``), so a
licence that expired at midnight is in the feed before the hourly job runs.
"""

from dataclasses import dataclass

from django.core import signing
from django.db import connection
from django.db.models import Q, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber

from consent.digests import entry_touches
from consent.models import LicenceGrant
from consent.services import grant_periods_record
from works.models import Work

from .changes_models import Change
from .lookup import work_objects
from .models import Site
from .sites_lookup import SITE_FIELDS, owner_decisions, site_object
from .sites_lookup import page_url_template as site_page_url

MAX_LIMIT = 1000
MAX_OWNERS_PER_PAGE = 100  # creators expanded in one page (bounds the expansion query)
DONE = -1  # a position's ``after`` when its row is fully listed
_SALT = "works_registry.changes.cursor"


# --- Positions and cursors -----------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """A place in the feed: the row ``(txid, id)`` and, inside it, the last work listed —
    ``after`` a work's primary key (an ``owner`` row partly listed), 0 (the row not started)
    or ``DONE`` (the row and everything before it listed)."""

    txid: int
    id: int
    after: int = DONE

    @property
    def row(self) -> tuple[int, int]:
        return (self.txid, self.id)


class CursorInvalid(ValueError):
    pass


def cursor_encode(position: Position) -> str:
    """An opaque, signed cursor (``SECRET_KEY``; a cursor signed with a key of
    ``SECRET_KEY_FALLBACKS`` still reads)."""
    payload = [position.txid, position.id, position.after]
    return signing.Signer(salt=_SALT).sign_object(payload)


def cursor_decode(cursor: str) -> Position:
    """The position of a cursor this feed gave, or ``CursorInvalid``."""
    try:
        payload = signing.Signer(salt=_SALT).unsign_object(cursor)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise CursorInvalid(cursor) from None
    if (
        not isinstance(payload, list)
        or len(payload) != 3
        or not all(type(value) is int for value in payload)
        or payload[0] < 0
        or payload[1] < 0
        or payload[2] < DONE
    ):
        raise CursorInvalid(cursor)
    return Position(*payload)


def head_position() -> Position:
    """Where a reader following on from *now* starts, read in the caller's transaction: every
    row not visible to it lies after this position. On PostgreSQL, below the oldest
    transaction still running (its own included); on SQLite, after the last row."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            (horizon,) = cursor.fetchone()
        return Position(horizon, 0, DONE)
    last = Change.objects.order_by("-id").values_list("id", flat=True).first()
    return Position(0, last or 0, DONE)


# --- Recording -----------------------------------------------------------------------------------


def _record(rows: list[Change]) -> None:
    if rows:
        Change.objects.bulk_create(rows, batch_size=1000)


def change_record_works(works, *, developer_id: int | None = None) -> None:
    """A ``work`` row for each of ``works`` (objects with ``public_id`` and ``owner_id``):
    call inside the transaction that changes them."""
    _record(
        [
            Change(
                kind=Change.Kind.WORK,
                owner_id=work.owner_id,
                public_id=work.public_id,
                developer_id=developer_id,
            )
            for work in works
        ]
    )


def _rows(kind: str, owner_id: int, public_ids, developer_id: int | None) -> list[Change]:
    return [
        Change(kind=kind, owner_id=owner_id, public_id=public_id, developer_id=developer_id)
        for public_id in public_ids
    ]


def _verified_sites(owner_id: int) -> list[str]:
    sites = Site.objects.filter(owner_id=owner_id, status=Site.Status.VERIFIED)
    return list(sites.values_list("public_id", flat=True))


def change_record_owner(owner_id: int, *, developer_id: int | None = None) -> None:
    """One ``owner`` row — every work of ``owner_id``, expanded when read — and a ``site`` row
    for each of their verified sites."""
    owner = Change(kind=Change.Kind.OWNER, owner_id=owner_id, developer_id=developer_id)
    sites = _rows(Change.Kind.SITE, owner_id, _verified_sites(owner_id), developer_id)
    _record([owner, *sites])


def change_record_site(site) -> None:
    """A ``site`` row for ``site`` (a ``Site``): call inside the transaction that changes what
    the registry answers about it."""
    _record(_rows(Change.Kind.SITE, site.owner_id, [site.public_id], None))


def on_works_changed(works) -> None:
    """``works.listeners``: works created, or their published fields changed."""
    change_record_works(works)


def on_ledger_append(*, owner, action: str, scope: dict) -> None:
    """``consent.ledger``: the works an entry may change the decision of, by the digest's
    candidate rules; a licence grant's entry for its developer only."""
    touch = entry_touches(action, scope)
    if touch is None:
        return
    developer_id = None
    if touch.developer is not None:
        developer_id = (
            LicenceGrant.objects.filter(pk=touch.grant)
            .values_list("developer_id", flat=True)
            .first()
        )
        if developer_id is None:  # no such grant: nobody's answer changed
            return
    if touch.all_works:
        change_record_owner(owner.pk, developer_id=developer_id)
    else:
        _record(_rows(Change.Kind.WORK, owner.pk, touch.public_ids, developer_id))


def on_account_changed(*, user, deleted: bool) -> None:
    """``accounts``: their published names changed (every work's and site's credit name), or their
    account is about to be deleted with their works and sites — a removal for each, by its
    public id."""
    if not deleted:
        change_record_owner(user.pk)
        return
    public_ids = Work.objects.filter(owner_id=user.pk).values_list("public_id", flat=True)
    works = _rows(Change.Kind.WORK, user.pk, list(public_ids), None)
    _record([*works, *_rows(Change.Kind.SITE, user.pk, _verified_sites(user.pk), None)])


def on_site_status(site, before: str) -> None:
    """``sites_services``: a site's status changed — the feed's concern when it becomes or stops
    being verified (only verified sites are in the registry; any other is a removal)."""
    if Site.Status.VERIFIED in (before, site.status):
        change_record_site(site)


# --- Reading -------------------------------------------------------------------------------------


@dataclass
class Page:
    results: list[dict]
    position: Position  # where the next page starts
    more: bool  # more changes are there now: ask again at once


def _visible(developer):
    """The rows that concern ``developer`` and may be read now, in feed order."""
    rows = Change.objects.filter(Q(developer__isnull=True) | Q(developer=developer))
    if connection.vendor == "postgresql":
        # Below the oldest transaction still running, evaluated with the rows (one snapshot);
        # and the reader's own rows, when it has written (a test's single transaction).
        horizon = RawSQL("(SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint)", [])
        own = RawSQL("(SELECT pg_current_xact_id_if_assigned()::text::bigint)", [])
        rows = rows.filter(Q(txid__lt=horizon) | Q(txid=own))
    return rows.order_by("txid", "id")


def _after(rows, position: Position):
    """The rows from ``position`` on: after its row, or from its row when it is not done."""
    if connection.vendor == "postgresql":
        later = Q(txid__gt=position.txid) | (
            Q(id__gt=position.id) if position.after == DONE else Q(id__gte=position.id)
        )
        return rows.filter(Q(txid__gte=position.txid) & later)
    # SQLite: txid is always 0, ids are in commit order.
    return (
        rows.filter(id__gt=position.id)
        if position.after == DONE
        else rows.filter(id__gte=position.id)
    )


def _owner_works(
    owners: list[int], *, per_owner: int, resumed: tuple[int, int] | None
) -> dict[int, list[tuple[int, str]]]:
    """``{owner: [(work pk, public id)]}``, each the first ``per_owner`` of their works by pk
    (after ``resumed = (owner, pk)`` for that owner), in one query."""
    if not owners:
        return {}
    works = Work.objects.filter(owner_id__in=owners)
    if resumed is not None:
        works = works.exclude(owner_id=resumed[0], pk__lte=resumed[1])
    ranked = (
        works.annotate(rank=Window(RowNumber(), partition_by="owner_id", order_by="pk"))
        .filter(rank__lte=per_owner)
        .values_list("owner_id", "pk", "public_id")
    )
    found: dict[int, list[tuple[int, str]]] = {owner: [] for owner in owners}
    for owner_id, pk, public_id in ranked:
        found[owner_id].append((pk, public_id))
    for listed in found.values():
        listed.sort()
    return found


def _plan(rows: list[Change], position: Position) -> tuple[list[int], tuple[int, int] | None]:
    """The creators whose works a page may list, in order (at most ``MAX_OWNERS_PER_PAGE``),
    and the one resumed inside its row, with the last work listed there."""
    resumed = None
    first = rows[0] if rows else None
    if (
        first is not None
        and first.kind == Change.Kind.OWNER
        and position.after > 0
        and (first.txid, first.id) == position.row
    ):
        resumed = (first.owner_id, position.after)
    owners: list[int] = []
    for row in rows:
        if row.kind == Change.Kind.OWNER and row.owner_id not in owners:
            if len(owners) == MAX_OWNERS_PER_PAGE:
                break
            owners.append(row.owner_id)
    return owners, resumed


def _listed(rows: list[Change], position: Position, limit: int) -> tuple[dict, Position, bool]:
    """Walk the rows in order: the works and sites to list (``(kind, public id)``, at most
    ``limit``, each once), where the next page starts, and whether more changes are there
    now."""
    owners, resumed = _plan(rows, position)
    works_of = _owner_works(owners, per_owner=limit, resumed=resumed)
    listed: dict[tuple[str, str], None] = {}  # (kind, public id), in order
    expanded: set[int] = set()
    for index, row in enumerate(rows):
        here = (row.txid, row.id)
        if len(listed) >= limit:
            return listed, position, True
        if row.kind != Change.Kind.OWNER:
            listed.setdefault((row.kind, row.public_id))
            position = Position(*here, DONE)
            continue
        owner = row.owner_id
        if owner in expanded:  # listed in full by this page already
            position = Position(*here, DONE)
            continue
        first = index == 0 and resumed is not None
        if owner not in works_of or (resumed and owner == resumed[0] and not first):
            # Beyond this page's creators, or the resumed creator again (their works before the
            # resumed one were read by an earlier page): the next page starts with this row.
            return listed, Position(*here, 0), True
        works = works_of[owner]
        last = resumed[1] if first else 0
        for pk, public_id in works:
            if len(listed) >= limit:
                return listed, Position(*here, last), True
            listed.setdefault((Change.Kind.WORK, public_id))
            last = pk
        if len(works) >= limit:  # they may have more than were read
            return listed, Position(*here, last), True
        if not first:  # the resumed creator's works before ``last`` were not read here
            expanded.add(owner)
        position = Position(*here, DONE)
    return listed, position, len(rows) >= limit


def site_objects(public_ids, *, developer) -> dict[str, dict]:
    """``{public id: the published site object}`` for the verified sites among ``public_ids``,
    each decision for ``developer``; three queries."""
    rows = list(
        Site.objects.filter(public_id__in=public_ids, status=Site.Status.VERIFIED)
        .order_by("pk")
        .values(*SITE_FIELDS)
    )
    if not rows:
        return {}
    mine, public = owner_decisions({row["owner_id"] for row in rows}, developer=developer)
    page_url = site_page_url()
    return {
        row["public_id"]: site_object(
            row, mine[row["owner_id"]], public[row["owner_id"]], page_url=page_url
        )
        for row in rows
    }


def entry(kind: str, public_id: str, answer: dict | None) -> dict:
    """A feed entry (and an export line): the answer now, or a removal."""
    return {"type": kind, "public_id": public_id, "removed": answer is None, kind: answer}


def _entries(keys: list[tuple[str, str]], developer) -> list[dict]:
    """The entry of each ``(kind, public id)``, in order: its work's or site's object for
    ``developer``, or a removal when there is none any more (a site not verified is none)."""
    wanted = [public_id for kind, public_id in keys if kind == Change.Kind.WORK]
    pks = dict(Work.objects.filter(public_id__in=wanted).values_list("public_id", "pk"))
    works = {
        work["public_id"]: work for work in work_objects(pks.values(), developer=developer).values()
    }
    sites = site_objects(
        [public_id for kind, public_id in keys if kind == Change.Kind.SITE], developer=developer
    )
    found = {Change.Kind.WORK: works, Change.Kind.SITE: sites}
    return [entry(kind, public_id, found[kind].get(public_id)) for kind, public_id in keys]


def changes_page(*, developer, position: Position, limit: int = MAX_LIMIT) -> Page:
    """One page of ``developer``'s feed from ``position``: at most ``limit`` entries (1 to
    ``MAX_LIMIT``). Call it outside any transaction that has written (as a request does):
    the edges of the developer's licence periods due by date are recorded first, each in its
    own transaction."""
    limit = max(1, min(limit, MAX_LIMIT))
    grant_periods_record(developer=developer)
    rows = list(_after(_visible(developer), position)[:limit])
    listed, position, more = _listed(rows, position, limit)
    return Page(results=_entries(list(listed), developer), position=position, more=more)
