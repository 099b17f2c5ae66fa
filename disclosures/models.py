"""A disclosure: a registered AI developer's dataset manifest (its rows: addresses, hashes,
identifiers, titles and authors), matched by the worker against the registry; each row that
matched a creator's work or verified site is a ``Finding`` (docs/disclosures.md)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from consent.vocabulary import Use


class Disclosure(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Matching"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Via(models.TextChoices):
        API = "api", "API"
        DASHBOARD = "dashboard", "Developer dashboard"
        REGISTRY = "registry", "Recorded by a registry manager"

    developer = models.ForeignKey(
        "notices.AIDeveloper", on_delete=models.CASCADE, related_name="disclosures"
    )
    name = models.CharField("dataset name", max_length=200)
    version = models.CharField(max_length=100, blank=True)
    uses = models.JSONField(help_text="Which uses the dataset is for (consent.vocabulary.Use).")
    models_text = models.TextField("models", blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    summary_url = models.URLField("public summary", max_length=500, blank=True)
    source = models.TextField(
        blank=True,
        help_text="Where a registry manager found it (recorded on the developer's behalf).",
    )
    via = models.CharField(max_length=10, choices=Via.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    manifest = models.FileField(upload_to="disclosures/%Y/%m/", max_length=300, blank=True)
    manifest_name = models.CharField(max_length=255)
    manifest_sha256 = models.CharField(max_length=64)
    manifest_size = models.PositiveBigIntegerField()
    manifest_deleted_at = models.DateTimeField(null=True, blank=True)
    manifest_format = models.CharField(max_length=10, blank=True)  # csv, jsonl, parquet
    manifest_compressed = models.BooleanField(default=False)
    columns = models.JSONField(default=list, blank=True)  # the known columns it has
    ignored_columns = models.JSONField(default=list, blank=True)

    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    rows_read = models.PositiveBigIntegerField(default=0)
    rows_total = models.PositiveBigIntegerField(null=True, blank=True)
    rows_matched = models.PositiveBigIntegerField(default=0)
    findings_count = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # Works registered up to this moment have been matched against the manifest; later ones are
    # matched by the daily sweep while the manifest is kept.
    matched_through = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["developer", "manifest_sha256"], name="disclosure_one_per_manifest"
            ),
        ]
        indexes = [models.Index(fields=["state", "lease_until"], name="disclosure_due")]

    def __str__(self):
        return f"{self.name} {self.version}".strip()

    @property
    def finished(self) -> bool:
        return self.state in {self.State.DONE, self.State.FAILED, self.State.CANCELLED}

    @property
    def use_labels(self) -> list[str]:
        return [Use(use).label for use in self.uses if use in Use.values]


class Finding(models.Model):
    """One manifest row that matched one work (or one creator's verified site)."""

    class Kind(models.TextChoices):
        URL = "url", "Address"
        SITE = "site", "Address under the creator's verified site"
        SHA256 = "sha256", "Exact file (SHA-256)"
        PHASH = "phash", "Image (perceptual hash)"
        ISBN = "isbn", "ISBN"
        ISRC = "isrc", "ISRC"
        ISWC = "iswc", "ISWC"
        DOI = "doi", "DOI"
        TITLE = "title", "Title and author"

    class State(models.TextChoices):
        NEW = "new", "New"
        CONFIRMED = "confirmed", "Confirmed"
        DISMISSED = "dismissed", "Not my work"

    disclosure = models.ForeignKey(Disclosure, on_delete=models.CASCADE, related_name="findings")
    row = models.PositiveBigIntegerField()
    work = models.ForeignKey(
        "works.Work", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    site = models.ForeignKey(
        "works_registry.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=500)
    distance = models.PositiveSmallIntegerField(default=0)
    weak = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.NEW)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The email that told the creator of it (disclosures/notify.py); null until then.
    announcement = models.ForeignKey(
        "Announcement", null=True, blank=True, on_delete=models.SET_NULL, related_name="findings"
    )

    class Meta:
        ordering = ["disclosure_id", "row", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(work__isnull=False) ^ Q(site__isnull=False), name="finding_one_target"
            ),
            models.UniqueConstraint(
                fields=["disclosure", "row", "work"],
                condition=Q(work__isnull=False),
                name="finding_once_per_work",
            ),
            models.UniqueConstraint(
                fields=["disclosure", "row", "site"],
                condition=Q(site__isnull=False),
                name="finding_once_per_site",
            ),
        ]
        indexes = [
            # A creator's findings about their works and sites, by state, with what their
            # "Found in datasets" page sorts by: its lists and counts read these alone
            # (disclosures/creator.py).
            models.Index(fields=["work", "state", "disclosure", "row"], name="finding_work"),
            models.Index(fields=["site", "state", "disclosure", "row"], name="finding_site"),
            # The few findings no email has told of yet (the sweep's question).
            models.Index(
                fields=["disclosure"],
                condition=Q(announcement__isnull=True),
                name="finding_unannounced",
            ),
        ]

    def __str__(self):
        return f"row {self.row} of {self.disclosure}"


class Announcement(models.Model):
    """One email telling one creator of the findings about their works in one disclosure: the
    first when matching ended, one more for each later re-match that found more. Each finding
    points to the one that told of it, so none is told twice (disclosures/notify.py)."""

    disclosure = models.ForeignKey(
        Disclosure, on_delete=models.CASCADE, related_name="announcements"
    )
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    findings_count = models.PositiveIntegerField()
    works_count = models.PositiveIntegerField(help_text="Works and sites.")
    message_id = models.CharField(
        max_length=300, blank=True, help_text="The email's; empty when none was sent."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["creator", "disclosure"], name="announcement_creator")]

    def __str__(self):
        return f"{self.disclosure} told to user {self.creator_id}"
