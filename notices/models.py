import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone


class AIDeveloper(models.Model):
    """An organisation that trains or runs AI models and receives the portal's notices."""

    name = models.CharField("organisation name", max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    website = models.URLField(blank=True, max_length=500)
    crawler_user_agents = models.TextField(
        "crawler user-agents",
        blank=True,
        help_text="The user-agent tokens its crawlers send, one per line (e.g. GPTBot).",
    )
    is_active = models.BooleanField(
        "active", default=True, help_text="Inactive developers receive no notices."
    )

    class DigestFrequency(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        OFF = "off", "Off"

    digest_frequency = models.CharField(
        "consent digest",
        max_length=10,
        choices=DigestFrequency.choices,
        default=DigestFrequency.WEEKLY,
        help_text="How often the organisation receives the works whose decisions changed.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "AI developer"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("notices:developer-detail", args=[self.slug])

    @property
    def user_agent_list(self) -> list[str]:
        return [line.strip() for line in self.crawler_user_agents.splitlines() if line.strip()]


class DeveloperContactQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(confirmed_at__isnull=False, removed_at__isnull=True)

    def current(self):
        return self.filter(removed_at__isnull=True)


class DeveloperContact(models.Model):
    """An address notices are sent to. It counts only once confirmed through a link sent to it.

    The address of a contact never changes: a new address is a new contact, confirmed anew, so
    whoever edits the registry cannot silently divert notices.
    """

    developer = models.ForeignKey(AIDeveloper, on_delete=models.CASCADE, related_name="contacts")
    email = models.EmailField()
    label = models.CharField(max_length=120, blank=True, help_text="e.g. Legal, Data protection")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = DeveloperContactQuerySet.as_manager()

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                "developer",
                Lower("email"),
                condition=Q(removed_at__isnull=True),
                name="one_current_contact_per_address",
            )
        ]

    def __str__(self):
        return f"{self.email} ({self.developer})"

    @property
    def state(self) -> str:
        if self.removed_at:
            return "removed"
        return "confirmed" if self.confirmed_at else "awaiting confirmation"


# --- The notice engine: an outbox of notices, one delivery per channel and recipient -----------


class Notice(models.Model):
    """One notice to one AI developer, written by the caller in the transaction of the event
    that causes it. The engine knows nothing of what it says: ``topic`` is the caller's opaque
    handle (``removal:42``), ``key`` its idempotency key, from which every channel derives the
    identity of what it sends (see ``Delivery.identity``)."""

    class Kind(models.TextChoices):
        NOTICE = "notice", "Notice"
        REMINDER = "reminder", "Reminder"

    developer = models.ForeignKey(AIDeveloper, on_delete=models.PROTECT, related_name="notices")
    topic = models.CharField(max_length=200, db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NOTICE)
    reminds = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reminders",
        help_text="For a reminder: the notice it reminds of.",
    )
    key = models.CharField("idempotency key", max_length=200, unique=True)
    subject = models.TextField()
    text = models.TextField()
    html = models.TextField(blank=True)
    reply_to = models.EmailField(blank=True)
    answerable = models.BooleanField(
        default=True,
        help_text="Whether the notice asks for an answer (and its emails carry an answer link).",
    )
    answer_due_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    overdue_handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The deadline run's index: open notices with a deadline, by deadline.
            models.Index(
                fields=["answer_due_at"],
                condition=Q(
                    kind="notice",
                    answer_due_at__isnull=False,
                    answered_at__isnull=True,
                    overdue_handled_at__isnull=True,
                ),
                name="notice_deadline_open",
            ),
            models.Index(fields=["created_at"], name="notice_created"),
        ]

    def __str__(self):
        return f"{self.subject} → {self.developer}"

    def attachment_list(self) -> list["NoticeAttachment"]:
        """The attachments with their blobs (the bytes are read from storage only when asked
        for): the prefetched ones when the engine loaded a batch (one query for all), else one
        query for this notice."""
        if "attachments" in getattr(self, "_prefetched_objects_cache", {}):
            return list(self.attachments.all())
        return list(self.attachments.select_related("blob"))

    @property
    def is_overdue(self) -> bool:
        return self.overdue_at is not None and self.answered_at is None


class AttachmentBlob(models.Model):
    """The bytes of attachments, stored once by their SHA-256: the manifest of a removal
    request sent to fifty developers is one row and one stored file, not fifty copies. The
    file lives in the portal's file storage (a folder, or the bucket): ``notices.attachments``
    writes and reads it."""

    sha256 = models.CharField(max_length=64, unique=True)
    file = models.FileField(upload_to="notice-attachments/", max_length=300)
    size = models.PositiveBigIntegerField()

    def __str__(self):
        return self.sha256


class NoticeAttachment(models.Model):
    """A file the caller built (a JSON or CSV manifest of works), sent with every channel that
    carries files."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    blob = models.ForeignKey(AttachmentBlob, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.filename

    @property
    def content(self) -> bytes:
        """The stored bytes, read from the file storage (``notices.attachments.read``)."""
        from .attachments import read

        return read(self.blob)


def message_id_for(key: str, recipient: str) -> str:
    """The email ``Message-ID`` of the notice with idempotency key ``key`` sent to
    ``recipient``: the same for every attempt and every resend."""
    key_hash = hashlib.sha256(key.encode()).hexdigest()[:32]
    recipient_hash = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:12]
    return f"<{key_hash}.{recipient_hash}@{settings.NOTICES_MESSAGE_ID_DOMAIN}>"


def webhook_id_for(key: str) -> str:
    """The ``webhook-id`` (Standard Webhooks) of the notice with idempotency key ``key``: the
    same for every attempt and every resend."""
    return "msg_" + hashlib.sha256(key.encode()).hexdigest()[:32]


class Delivery(models.Model):
    """A notice on its way to one recipient over one channel: claimed by a worker under a lease,
    attempted, retried with back-off, and finally delivered or failed."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"

    PENDING = (Status.QUEUED, Status.SENDING)

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    recipient = models.CharField(max_length=500)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Retries stop NOTICES_RETRY_LIMIT seconds after this: the creation, or the last "retry now".
    window_started_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                "notice", "channel", "recipient", name="one_delivery_per_channel_and_recipient"
            )
        ]
        indexes = [
            # The sweep's index: only undelivered rows, so it stays small however many
            # deliveries are done.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["queued", "sending"]),
                name="delivery_due",
            ),
            models.Index(fields=["status", "-created_at"], name="delivery_status_created"),
            models.Index(fields=["created_at"], name="delivery_created"),
            models.Index(fields=["delivered_at"], name="delivery_delivered"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} to {self.recipient} ({self.get_status_display()})"

    @property
    def identity(self) -> str:
        """What the channel calls this delivery, derived from the notice's idempotency key:
        the same for every retry and resend, so a recipient recognises a repeat."""
        if self.channel == self.Channel.WEBHOOK:
            return webhook_id_for(self.notice.key)
        return message_id_for(self.notice.key, self.recipient)

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING


class DeliveryAttempt(models.Model):
    class Result(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        TEMPORARY = "temporary", "Temporary failure"
        PERMANENT = "permanent", "Permanent failure"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    result = models.CharField(max_length=20, choices=Result.choices)
    error = models.TextField(blank=True)
    code = models.PositiveIntegerField("SMTP code", null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"{self.get_result_display()} at {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


class SuppressionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(cleared_at__isnull=True)


class Suppression(models.Model):
    """An address that refused a notice permanently: no more notices go to it until staff
    clear it."""

    address = models.CharField(max_length=500, help_text="Lower-cased.")
    reason = models.TextField(blank=True)
    code = models.PositiveIntegerField("SMTP code", null=True, blank=True)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Addresses are stored lower-cased; this is also the index deliveries look up.
            models.UniqueConstraint(
                fields=["address"],
                condition=Q(cleared_at__isnull=True),
                name="one_active_suppression_per_address",
            )
        ]

    def __str__(self):
        return self.address


# --- Webhooks ------------------------------------------------------------------------------------


class WebhookEndpointQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class WebhookEndpoint(models.Model):
    """A URL an AI developer receives notices at, signed per the Standard Webhooks
    specification. The secret is needed in clear to sign, so it is stored encrypted
    (``notices.crypto``), never hashed. After a rotation the previous secret keeps signing too
    until ``previous_secret_until``."""

    developer = models.ForeignKey(
        AIDeveloper, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    secret_encrypted = models.TextField()
    previous_secret_encrypted = models.TextField(blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.url} ({self.developer})"

    def signing_secrets(self, now=None) -> list[str]:
        """The clear secrets to sign with: the current one, then the previous one during its
        overlap."""
        from .crypto import decrypt

        now = now or timezone.now()
        secrets = [decrypt(self.secret_encrypted)]
        if self.previous_secret_encrypted and (
            self.previous_secret_until is not None and self.previous_secret_until > now
        ):
            secrets.append(decrypt(self.previous_secret_encrypted))
        return secrets


# --- Developer organisations: their people and API keys -----------------------------------------


class DeveloperMember(models.Model):
    """A person who acts for an AI developer: they see its notices, answer them and manage its
    webhook, API keys and digest. A person acts for one organisation at most."""

    developer = models.ForeignKey(AIDeveloper, on_delete=models.CASCADE, related_name="members")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="developer_membership"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.user} ({self.developer})"


class DeveloperInvitationQuerySet(models.QuerySet):
    def open(self):
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)


class DeveloperInvitation(models.Model):
    """A registry manager's invitation of one address to an organisation, accepted through a
    signed link by a signed-in person with that (verified) address."""

    developer = models.ForeignKey(AIDeveloper, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = DeveloperInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                "developer",
                Lower("email"),
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_address",
            )
        ]

    def __str__(self):
        return f"{self.email} → {self.developer}"

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        return "revoked" if self.revoked_at else "open"


class APIKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class APIKey(models.Model):
    """A key an organisation's systems call the API with. Only a SHA-256 of it is stored (the
    key is 32 random bytes, so a fast hash is enough); ``prefix`` — the part before the secret —
    is shown so people can tell their keys apart, and finds the row to compare."""

    developer = models.ForeignKey(AIDeveloper, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(
        max_length=100, help_text="What the key is for, e.g. “ingest pipeline”."
    )
    prefix = models.CharField(max_length=20, unique=True)
    hashed = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = APIKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.prefix}… ({self.developer})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# --- Answers ---------------------------------------------------------------------------------


class NoticeAnswer(models.Model):
    """A developer's answer to a notice: acknowledged, then complied or disputed. Several may
    follow one another; the same answer posted twice is recorded once (``fingerprint``)."""

    class Kind(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        COMPLIED = "complied", "Complied"
        DISPUTED = "disputed", "Disputed"

    class Via(models.TextChoices):
        LINK = "link", "Signed link"
        DASHBOARD = "dashboard", "Developer account"
        API = "api", "API"
        STAFF = "staff", "Recorded by staff"

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="answers")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    statement = models.TextField(
        blank=True, help_text="The compliance statement or the reason for the dispute."
    )
    via = models.CharField(max_length=20, choices=Via.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The developer's person, or the staff member who recorded it.",
    )
    api_key = models.ForeignKey(
        APIKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    received_by = models.CharField(
        "received by",
        max_length=200,
        blank=True,
        help_text="For an answer recorded by staff: how it arrived (an email reply, a letter).",
    )
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "fingerprint"], name="one_answer_per_content")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.notice_id})"

    @property
    def by_staff(self) -> bool:
        return self.via == self.Via.STAFF


def answer_attachment_path(instance, filename):
    return f"notices/answers/{instance.answer.notice_id}/{instance.sha256[:16]}/{filename}"


class AnswerAttachment(models.Model):
    """A file staff attached to an answer that arrived by other means (a scanned letter)."""

    answer = models.ForeignKey(NoticeAnswer, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=answer_attachment_path, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.filename
