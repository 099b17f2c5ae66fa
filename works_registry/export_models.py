"""The registry export of each AI developer (``works_registry.export``): the last file built, and
the build in progress."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class RegistryExport(models.Model):
    """One developer's export: the last file built (``file``… ``built_at``; kept and served while
    the next one is built) and the state of the next build — ``idle``, ``queued`` (asked for,
    waiting for the worker) or ``building`` (a worker holds it until ``lease_until``, renewed as
    it goes; ``attempts`` tells one run from the next). ``error`` is why the last build failed."""

    class State(models.TextChoices):
        IDLE = "idle", "Idle"
        QUEUED = "queued", "Waiting for the worker"
        BUILDING = "building", "Being built"

    developer = models.OneToOneField(
        "notices.AIDeveloper", on_delete=models.CASCADE, related_name="registry_export"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.IDLE)
    requested_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    done = models.PositiveBigIntegerField(default=0, help_text="Works written so far.")
    total = models.PositiveBigIntegerField(default=0, help_text="Works to write.")
    error = models.TextField(blank=True)

    file = models.FileField(upload_to="registry-exports/", max_length=300, blank=True)
    etag = models.CharField(max_length=80, blank=True, help_text="SHA-256 of the file's bytes.")
    size = models.PositiveBigIntegerField(default=0)
    works_count = models.PositiveBigIntegerField(default=0)
    cursor = models.CharField(max_length=200, blank=True, help_text="Where the feed follows on.")
    built_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["state", "lease_until"], name="registry_export_due")]

    def __str__(self):
        return f"Registry export of developer {self.developer_id}"

    @property
    def ready(self) -> bool:
        return bool(self.file) and self.built_at is not None

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.total) if self.total else 0
