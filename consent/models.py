from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .vocabulary import Choice, Use


class Preference(models.Model):
    """A creator's choice for one use: their default (``work`` empty) or a work's override."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_preferences"
    )
    work = models.ForeignKey(
        "works.Work", null=True, blank=True, on_delete=models.CASCADE, related_name="preferences"
    )
    use = models.CharField(max_length=16, choices=Use.choices)
    choice = models.CharField(max_length=8, choices=Choice.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # (owner, work): a creator's defaults are found without reading their works' overrides.
        indexes = [models.Index(fields=["owner", "work"])]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "use"], condition=Q(work__isnull=True), name="one_default_per_use"
            ),
            models.UniqueConstraint(
                fields=["work", "use"], condition=Q(work__isnull=False), name="one_override_per_use"
            ),
        ]

    def __str__(self):
        return f"{self.work or 'default'} {self.use}={self.choice}"


class CreditPreference(models.Model):
    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_preference"
    )
    credit_line = models.CharField(
        max_length=300,
        blank=True,
        help_text="Exactly what must appear wherever your work is used, e.g. “© Ada Quill 2019”.",
    )
    attribution_required = models.BooleanField(default=True)
    link = models.URLField("credit link", blank=True, max_length=500)
    licensing_contact = models.CharField(
        max_length=300,
        blank=True,
        help_text="An email address or web page where AI developers ask for a licence.",
    )
    terms_url = models.URLField("licence terms", blank=True, max_length=500)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Credit of {self.owner}"


class LicenceGrantQuerySet(models.QuerySet):
    def active_on(self, day):
        return self.filter(revoked_at__isnull=True, starts_on__lte=day).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=day)
        )


class LicenceGrant(models.Model):
    """An exception for one AI developer: it may make some uses of some (or all) of the
    creator's works under a licence, for a period."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="licence_grants"
    )
    developer = models.ForeignKey(
        "notices.AIDeveloper", on_delete=models.PROTECT, related_name="licence_grants"
    )
    all_works = models.BooleanField(default=False)
    works = models.ManyToManyField("works.Work", blank=True, related_name="licence_grants")
    uses = models.JSONField(help_text='The uses granted, e.g. ["train-genai"].')
    licence_ref = models.CharField("licence reference", max_length=100)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # When the beat job wrote the ledger entries for the start and the end of the period.
    start_recorded_at = models.DateTimeField(null=True, blank=True)
    end_recorded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = LicenceGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-pk"]
        indexes = [
            models.Index(fields=["owner", "developer"]),
            models.Index(
                fields=["starts_on"],
                condition=Q(start_recorded_at__isnull=True),
                name="grant_start_due",
            ),
            models.Index(
                fields=["ends_on"], condition=Q(end_recorded_at__isnull=True), name="grant_end_due"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="grant_ends_after_start",
            )
        ]

    def __str__(self):
        return f"{self.developer} {'/'.join(self.uses)} under {self.licence_ref}"

    def is_active_on(self, day) -> bool:
        return (
            self.revoked_at is None
            and self.starts_on <= day
            and (self.ends_on is None or day <= self.ends_on)
        )


class LedgerChain(models.Model):
    """The head of one creator's chain of consent-ledger entries. Appending locks this row; the
    database lets the head move only to the entry just appended (migration 0006)."""

    chain_id = models.UUIDField(unique=True, help_text="The creator's opaque reference.")
    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ledger_chain",
    )
    length = models.PositiveIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default="0" * 64)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"chain {self.chain_id} ({self.length} entries)"


class LedgerEntryQuerySet(models.QuerySet):
    """Entries are appended, never changed: bulk updates and deletes are refused in code (and by
    triggers on both databases, see migrations 0002 and 0006)."""

    def update(self, **kwargs):
        raise LedgerImmutable("Consent-ledger entries are never updated.")

    def delete(self):
        raise LedgerImmutable("Consent-ledger entries are never deleted.")

    def erase_labels(self) -> int:
        """Blank the display labels (not hashed) — the one change allowed, when an account is
        deleted. The hashed columns stay as written."""
        return super().update(actor_label="", scope_label="")


class LedgerImmutable(Exception):
    pass


class LedgerEntry(models.Model):
    chain = models.ForeignKey(LedgerChain, on_delete=models.PROTECT, related_name="entries")
    seq = models.PositiveIntegerField()
    canonical = models.TextField(help_text="The entry as canonical JSON text: what is hashed.")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    # Labels for people and works named by opaque ids in ``canonical``: shown in timelines, not
    # hashed, and erased when an account is deleted — so personal data can go while the chain
    # stays verifiable.
    actor_label = models.CharField(max_length=254, blank=True)
    scope_label = models.CharField(max_length=300, blank=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["chain", "seq"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="one_entry_per_seq")]
        # Digests (and the change feed) read the entries of a period across every chain.
        indexes = [models.Index(fields=["created_at"], name="ledger_entry_created")]

    def __str__(self):
        return f"{self.chain_id}#{self.seq} {self.hash[:12]}"

    def save(self, *args, **kwargs):
        # The one invariant a model must hold itself: an entry, once written, never changes.
        if self.pk is not None or not self._state.adding:
            raise LedgerImmutable("Consent-ledger entries are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerImmutable("Consent-ledger entries are never deleted.")
