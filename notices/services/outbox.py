"""The notice outbox: how a caller hands a notice to the engine, and the suppression list.

``notice_create`` writes the notice and one delivery per confirmed contact **in the caller's
transaction** — the one that records the event causing the notice (a removal approved) — and
asks for a worker only once that transaction commits. If the broker is down then, nothing is
lost: the deliveries are rows, and the sweep (``deliveries.sweep``) finds them.
"""

import logging
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from accounts.storage import StoredFiles

from ..attachments import attachment_storage, blobs_for, digest
from ..deliveries import publish_on_commit
from ..models import (
    AIDeveloper,
    AttachmentBlob,
    Delivery,
    DeveloperContact,
    Notice,
    NoticeAttachment,
    Suppression,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

# (filename, content, content type), as ``EmailMessage.attach`` takes them; the content may
# also be an ``AttachmentBlob`` already stored (a reminder carries its notice's files).
Attachment = tuple[str, bytes | str | AttachmentBlob, str]


def notice_create(
    *,
    developer: AIDeveloper,
    topic: str,
    key: str,
    subject: str,
    text: str,
    html: str = "",
    attachments: Iterable[Attachment] = (),
    reply_to: str = "",
    answer_due_at=None,
    answerable: bool = True,
    to_inactive: bool = False,
    kind: str = Notice.Kind.NOTICE,
    reminds: Notice | None = None,
) -> Notice:
    """Queue a notice to ``developer``; idempotent on ``key``.

    Call it inside the transaction that records the event the notice is about, so that both
    commit or neither does. A second call with the same ``key`` returns the first notice and
    creates nothing. One delivery goes to each confirmed contact; an address on the active
    suppression list gets a delivery marked *suppressed* (visible to staff) and is not sent.

    ``answerable=False`` (a digest) asks for no answer: its emails carry no answer link.
    Inactive developers receive no notices, except those a caller owes them for one they
    already received (``to_inactive=True``: a retraction must reach whoever was asked).

    ``topic`` is the caller's handle (``removal:42``): the text before the first ``:`` names the
    overdue handler (``handlers.register_overdue_handler``). ``html`` is trusted HTML the caller
    built from escaped templates; without it the text is sent as HTML too, escaped.

    Attachments' bytes go to the file storage (``notices.attachments``), once per content. If
    the store refuses (``StorageUnavailable``) the call raises and leaves nothing: no notice, no
    row, and the files it had written are deleted again.
    """
    existing = Notice.objects.filter(key=key).first()
    if existing is not None:
        return _same_notice(existing, developer=developer, topic=topic)
    if not developer.is_active and not to_inactive:
        raise ValidationError(f"{developer.name} is inactive and receives no notices.")
    notice = Notice(
        developer=developer,
        topic=topic.strip(),
        kind=kind,
        reminds=reminds,
        key=key.strip(),
        subject=" ".join(subject.split()),
        text=text,
        html=html,
        reply_to=(reply_to or "").strip(),
        answer_due_at=answer_due_at,
        answerable=answerable,
    )
    notice.full_clean(exclude=["developer", "reminds"])
    try:
        # A savepoint: a concurrent call with the same key wins. Files written for it are
        # deleted if it fails.
        with StoredFiles(attachment_storage()) as written, transaction.atomic():
            notice.save(force_insert=True)
            _attachments_create(notice, attachments, written=written)
            queued = _deliveries_create(notice)
    except IntegrityError:
        existing = Notice.objects.filter(key=key).first()
        if existing is None:
            raise
        return _same_notice(existing, developer=developer, topic=topic)
    publish_on_commit(queued)
    return notice


def _attachments_create(
    notice: Notice, attachments: Iterable[Attachment], *, written: StoredFiles
) -> None:
    """Each attachment's bytes are stored once (``AttachmentBlob``, by SHA-256, its file in
    the storage), however many notices carry them."""
    files = []  # (filename, blob or SHA-256, content type)
    contents: dict[str, bytes] = {}
    for filename, content, content_type in attachments:
        if isinstance(content, AttachmentBlob):
            files.append((filename, content, content_type))
            continue
        data = content.encode() if isinstance(content, str) else bytes(content)
        sha256 = digest(data)
        contents[sha256] = data
        files.append((filename, sha256, content_type))
    if not files:
        return
    blobs = blobs_for(contents, written=written)
    NoticeAttachment.objects.bulk_create(
        NoticeAttachment(
            notice=notice,
            filename=filename,
            content_type=content_type,
            blob=blob if isinstance(blob, AttachmentBlob) else blobs[blob],
        )
        for filename, blob, content_type in files
    )


def _same_notice(notice: Notice, *, developer: AIDeveloper, topic: str) -> Notice:
    if notice.developer_id != developer.pk or notice.topic != topic.strip():
        raise ValueError(
            f"Idempotency key {notice.key!r} already belongs to another notice "
            f"({notice.topic}, developer {notice.developer_id})."
        )
    return notice


def _deliveries_create(notice: Notice) -> list[int]:
    """One email delivery per distinct confirmed address and one webhook delivery per active
    endpoint; returns the ids to send."""
    return _email_deliveries_create(notice) + _webhook_deliveries_create(notice)


def _webhook_deliveries_create(notice: Notice) -> list[int]:
    urls = dict.fromkeys(
        WebhookEndpoint.objects.active()
        .filter(developer_id=notice.developer_id)
        .values_list("url", flat=True)
    )
    if not urls:
        return []
    now = timezone.now()
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            notice=notice,
            channel=Delivery.Channel.WEBHOOK,
            recipient=url,
            next_attempt_at=now,
            window_started_at=now,
            created_at=now,
        )
        for url in urls
    )
    if any(d.pk is None for d in deliveries):
        deliveries = list(notice.deliveries.filter(channel=Delivery.Channel.WEBHOOK))
    return [d.pk for d in deliveries]


def _email_deliveries_create(notice: Notice) -> list[int]:
    addresses = dict.fromkeys(
        email.strip().lower()
        for email in DeveloperContact.objects.confirmed()
        .filter(developer_id=notice.developer_id)
        .values_list("email", flat=True)
    )
    if not addresses:
        logger.warning("Notice %s: %s has no confirmed contact", notice.key, notice.developer_id)
        return []
    suppressed = dict(
        Suppression.objects.active()
        .filter(address__in=list(addresses))
        .values_list("address", "created_at")
    )
    now = timezone.now()
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            notice=notice,
            channel=Delivery.Channel.EMAIL,
            recipient=address,
            status=Delivery.Status.SUPPRESSED if address in suppressed else Delivery.Status.QUEUED,
            last_error=(
                f"The address is on the suppression list since {suppressed[address]:%Y-%m-%d}."
                if address in suppressed
                else ""
            ),
            next_attempt_at=now,
            window_started_at=now,
            created_at=now,
        )
        for address in addresses
    )
    if any(d.pk is None for d in deliveries):  # backends that return no ids from bulk_create
        deliveries = list(notice.deliveries.filter(channel=Delivery.Channel.EMAIL))
    return [d.pk for d in deliveries if d.status == Delivery.Status.QUEUED]


# --- The suppression list ------------------------------------------------------------------------


def suppression_clear(*, actor: User, suppression: Suppression) -> Suppression:
    """Take an address off the suppression list: later notices go to it again. Deliveries it
    already stopped stay as they are (staff retry them one by one)."""
    if not (actor is not None and actor.is_authenticated and actor.can_manage_registry):
        raise PermissionDenied("Only registry managers and superusers clear suppressions.")
    with transaction.atomic():
        suppression = Suppression.objects.select_for_update().get(pk=suppression.pk)
        if suppression.cleared_at:
            return suppression
        suppression.cleared_at = timezone.now()
        suppression.cleared_by = actor
        suppression.save(update_fields=["cleared_at", "cleared_by"])
        audit_record(
            actor=actor,
            action="suppression.clear",
            obj=suppression,
            before={"address": suppression.address, "state": "suppressed"},
            after={"address": suppression.address, "state": "cleared"},
            reason=suppression.reason,
        )
    return suppression
