"""The works registry as one AI developer sees it, in one file (docs/api.md, "Export"): every
work, then every verified site, with its answer for that developer — the objects
``lookup.work_objects`` and ``changes.site_objects`` build, as the change feed's entries carry
them — one JSON document a line, gzip-compressed.

The first line is a header: the format, the developer, when the file was built, how many works
and sites follow, and ``cursor``: where the change feed (``changes.py``) follows on. A client
that loads the file and then follows the feed from that cursor holds exactly the current answers
for itself: the cursor is read inside the snapshot the file is read from, so every change the
file does not show lies after it (a change it shows may be listed again: entries are answers,
not differences).

Built by the worker (``tasks.registry_export_build``, thin): ``export_build`` claims the
developer's export (at most one build at a time: a conditional UPDATE and a lease), reads the
works and sites in one snapshot — on PostgreSQL one REPEATABLE READ, READ ONLY transaction, on
SQLite one read transaction — in chunks of ``CHUNK`` by primary key, streams them through gzip
into a temporary file, then stores it through Django's storage API
(``registry-exports/<developer>/``) and swaps it in: memory stays flat whatever the number of
works. Progress and the lease are written as it goes on a second connection (the snapshot's
own is read-only). The last file built is served until the next one replaces it.

When: on request (``export_request``: the developer's page, ``POST /api/v1/export``), and daily
— ``exports_sweep`` (beat, hourly) queues a build for every export older than
``WORKS_REGISTRY_EXPORT_MAX_AGE`` seconds and wakes the worker again for a build whose message
or worker was lost.
"""

import gzip
import hashlib
import json
import logging
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connection, connections, reset_queries, transaction
from django.db.models import F, Q
from django.http import FileResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.http import http_date, parse_etags

from accounts import broker
from consent.vocabulary import USES
from works.models import Work

from . import changes
from .export_models import RegistryExport
from .lookup import work_objects
from .models import Site

logger = logging.getLogger(__name__)

FORMAT = "ccp-registry-export/1"
CHUNK = 2000  # works read, answered and written at a time
QUEUED_RETRY_AFTER = timedelta(minutes=1)
FAILED = "The export could not be built; the next attempt is automatic, or ask again."
State = RegistryExport.State


class LeaseLost(Exception):
    """The build is no longer this worker's (its lease ran out and another took it)."""


# --- Asking for an export ------------------------------------------------------------------------


def export_for(developer) -> RegistryExport | None:
    return RegistryExport.objects.filter(developer=developer).first()


def _enqueue(export_id: int) -> None:
    from .tasks import registry_export_build

    # Bounded to about a second and never raises: if the broker is down, the sweep queues it.
    broker.publish(registry_export_build, args=(export_id,))


@transaction.atomic
def export_request(*, developer, actor=None, now=None) -> RegistryExport:
    """Ask for a new export of ``developer``'s registry: queued, and the worker woken once
    this commits — unless a build is queued or running already, which is the one asked for."""
    now = now or timezone.now()
    RegistryExport.objects.get_or_create(developer=developer)
    export = RegistryExport.objects.select_for_update().get(developer=developer)
    if export.state == State.IDLE:
        export.state = State.QUEUED
        export.requested_at, export.requested_by = now, actor
        export.done = export.total = 0
        export.save(update_fields=["state", "requested_at", "requested_by", "done", "total"])
        transaction.on_commit(lambda: _enqueue(export.pk), robust=True)
    return export


def exports_sweep(*, now=None) -> int:
    """Beat, hourly: queue a new build of every export of an active developer last built more
    than ``WORKS_REGISTRY_EXPORT_MAX_AGE`` ago (so an export, once asked for, is rebuilt daily;
    one that failed is tried again), and wake the worker again for builds queued over a minute
    ago or whose lease ran out. Returns how many builds it woke the worker for."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.WORKS_REGISTRY_EXPORT_MAX_AGE)
    old = list(
        RegistryExport.objects.filter(Q(built_at__isnull=True) | Q(built_at__lt=stale))
        .filter(state=State.IDLE, developer__is_active=True)
        .values_list("pk", flat=True)[:100]
    )
    RegistryExport.objects.filter(pk__in=old, state=State.IDLE).update(
        state=State.QUEUED, requested_at=now, done=0, total=0
    )
    lost = RegistryExport.objects.filter(
        Q(state=State.QUEUED, requested_at__lt=now - QUEUED_RETRY_AFTER)
        | Q(state=State.BUILDING, lease_until__lt=now)
    ).values_list("pk", flat=True)[:100]
    ids = sorted(set(old) | set(lost))
    for export_id in ids:
        _enqueue(export_id)
    return len(ids)


# --- Building ------------------------------------------------------------------------------------


def _lease_end():
    return timezone.now() + timedelta(seconds=settings.WORKS_REGISTRY_EXPORT_LEASE)


def _claim(export_id: int) -> int | None:
    """Take the build for this worker: its token (``attempts``), or None when there is none to
    take (nothing asked, or another worker's lease still runs)."""
    now = timezone.now()
    claimed = (
        RegistryExport.objects.filter(pk=export_id, state__in=[State.QUEUED, State.BUILDING])
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            state=State.BUILDING,
            lease_until=_lease_end(),
            attempts=F("attempts") + 1,
            started_at=now,
            done=0,
            total=0,
        )
    )
    if not claimed:
        return None
    return RegistryExport.objects.values_list("attempts", flat=True).get(pk=export_id)


class _Progress:
    """Records how far the build is and renews its lease, on ``using`` — a connection of its
    own while the snapshot's transaction is read-only — or raises ``LeaseLost``."""

    def __init__(self, using, export_id: int, token: int):
        self.using, self.export_id, self.token = using, export_id, token
        quote = using.ops.quote_name
        self.sql = (
            f"UPDATE {quote(RegistryExport._meta.db_table)} SET {quote('done')} = %s, "
            f"{quote('total')} = %s, {quote('lease_until')} = %s "
            f"WHERE {quote('id')} = %s AND {quote('attempts')} = %s AND {quote('state')} = %s"
        )

    def __call__(self, done: int, total: int) -> None:
        lease = self.using.ops.adapt_datetimefield_value(_lease_end())
        with self.using.cursor() as cursor:
            cursor.execute(
                self.sql, [done, total, lease, self.export_id, self.token, State.BUILDING.value]
            )
            if cursor.rowcount != 1:
                raise LeaseLost
        self.using.queries_log.clear()  # DEBUG keeps them, as reset_queries() does for the rest


@contextmanager
def _snapshot(export_id: int, token: int):
    """Read everything in one snapshot, and yield how to record progress meanwhile. Inside a
    transaction already (a test), that transaction is the snapshot and records the progress."""
    if connection.in_atomic_block:
        yield _Progress(connection, export_id, token)
        return
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        if connection.vendor == "postgresql":
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield _Progress(side, export_id, token)
        else:
            # SQLite: a deferred transaction reads one snapshot and takes no write lock (the
            # portal's transactions are IMMEDIATE, which would hold every writer back).
            with connection.cursor() as cursor:
                cursor.execute("BEGIN DEFERRED")
            try:
                yield _Progress(side, export_id, token)
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("COMMIT")
    finally:
        side.close()


class _Hashing:
    """A binary file that hashes and counts what is written to it."""

    def __init__(self, raw):
        self.raw, self.sha256, self.size = raw, hashlib.sha256(), 0

    def write(self, data) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def _line(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _work_line(work: dict) -> bytes:
    return _line(changes.entry("work", work["public_id"], work))


def _site_line(site: dict) -> bytes:
    return _line(changes.entry("site", site["public_id"], site))


def _chunks(rows, field: str = "pk"):
    """The values of ``field`` of ``rows`` (a queryset), in order of primary key, by keyset
    pages of ``CHUNK``."""
    last = 0
    while True:
        page = list(rows.filter(pk__gt=last).order_by("pk").values_list("pk", field)[:CHUNK])
        if page:
            yield [value for _, value in page]
        if len(page) < CHUNK:
            return
        last = page[-1][0]


def _verified_sites():
    return Site.objects.filter(status=Site.Status.VERIFIED)


@dataclass(frozen=True)
class Written:
    name: str
    etag: str
    size: int
    works: int
    cursor: str


def _write(export: RegistryExport, token: int) -> Written:
    developer = export.developer
    with tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as raw:
        hashing = _Hashing(raw)
        with (
            _snapshot(export.pk, token) as progress,
            gzip.GzipFile(fileobj=hashing, mode="wb", mtime=0) as out,
        ):
            position = changes.head_position()
            total, sites = Work.objects.count(), _verified_sites().count()
            progress(0, total)
            header = {
                "format": FORMAT,
                "developer": {"slug": developer.slug, "name": developer.name},
                "generated_at": timezone.now().isoformat(timespec="seconds"),
                "works_count": total,
                "sites_count": sites,
                "cursor": changes.cursor_encode(position),
                "uses": list(USES),
            }
            out.write(_line(header))
            written = 0
            for ids in _chunks(Work.objects.all()):
                objects = work_objects(ids, developer=developer)
                out.write(b"".join(_work_line(objects[pk]) for pk in ids))
                written += len(ids)
                progress(written, total)
                reset_queries()  # with DEBUG on, Django keeps every query's SQL: not for 1,000,000
            for public_ids in _chunks(_verified_sites(), "public_id"):
                objects = changes.site_objects(public_ids, developer=developer)
                out.write(b"".join(_site_line(objects[p]) for p in public_ids))
        raw.seek(0)
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        name = f"registry-exports/{developer.pk}/{stamp}-{uuid.uuid4().hex[:12]}.jsonl.gz"
        name = default_storage.save(name, File(raw))
    return Written(name, hashing.sha256.hexdigest(), hashing.size, written, header["cursor"])


def _ours(export_id: int, token: int):
    return RegistryExport.objects.filter(pk=export_id, attempts=token, state=State.BUILDING)


def export_build(*, export_id: int) -> RegistryExport | None:
    """The worker's part: build the export if it is queued (or its last builder's lease ran
    out), then serve the new file in place of the old. Returns the export when built."""
    token = _claim(export_id)
    if token is None:
        return None
    export = RegistryExport.objects.select_related("developer").get(pk=export_id)
    try:
        written = _write(export, token)
    except LeaseLost:
        logger.warning("Registry export %s: lease lost, another worker builds it", export_id)
        return None
    except Exception:
        logger.exception("Registry export %s failed", export_id)
        _ours(export_id, token).update(state=State.IDLE, lease_until=None, error=FAILED)
        return None
    with transaction.atomic():
        old = _ours(export_id, token).select_for_update().values_list("file", flat=True).first()
        updated = _ours(export_id, token).update(
            state=State.IDLE,
            lease_until=None,
            error="",
            file=written.name,
            etag=written.etag,
            size=written.size,
            works_count=written.works,
            done=written.works,
            total=written.works,
            cursor=written.cursor,
            built_at=timezone.now(),
        )
        stale = old if updated else written.name
        if stale:
            transaction.on_commit(lambda: default_storage.delete(stale), robust=True)
    return RegistryExport.objects.get(pk=export_id) if updated else None


# --- Serving -------------------------------------------------------------------------------------


def export_filename(export: RegistryExport) -> str:
    return f"registry-{export.developer.slug}-{export.built_at:%Y%m%dT%H%M%SZ}.jsonl.gz"


def export_response(request, export: RegistryExport):
    """The export's file as a download — ``application/gzip``, no ``Content-Encoding`` (the
    file *is* gzip; nothing decompresses it on the way) — with its ``ETag``; 304 when the
    request's ``If-None-Match`` names it. None when no file is there."""
    if not export.ready or not export.file:
        return None
    etag = f'"{export.etag}"'
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(export.built_at.timestamp()),
        "Cache-Control": "private, no-cache",
        "X-Registry-Cursor": export.cursor,
    }
    wanted = parse_etags(request.headers.get("If-None-Match", ""))
    if "*" in wanted or any(tag.removeprefix("W/") == etag for tag in wanted):
        response = HttpResponseNotModified()
    else:
        # Streamed through the portal from the folder or the bucket, never a redirect: the API
        # promises these bytes under this ETag.
        try:
            stream = default_storage.stream(export.file.name)
        except FileNotFoundError:
            return None
        response = FileResponse(
            stream,
            as_attachment=True,
            filename=export_filename(export),
            content_type="application/gzip",
        )
        response["Content-Length"] = str(export.size)
        response["X-Content-Type-Options"] = "nosniff"
    for name, value in headers.items():
        response[name] = value
    return response
