import secrets
import string
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.folding import FOLDED_MAX

PUBLIC_ID_ALPHABET = string.ascii_letters + string.digits


def new_public_id() -> str:
    """16 letters and digits (95 random bits): unguessable, unlike the primary key, and safe
    everywhere an id travels — never starting with "-" (a CSV formula, a command-line option)."""
    return "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(16))


class Work(models.Model):
    class Kind(models.TextChoices):
        BOOK = "book", "Book"
        ARTICLE = "article", "Article or journalism"
        SCRIPT = "script", "Screenplay or script"
        POEM = "poem", "Poem"
        ARTWORK = "artwork", "Image or artwork"
        PHOTOGRAPH = "photograph", "Photograph"
        COMPOSITION = "composition", "Music composition"
        RECORDING = "recording", "Sound recording"
        PERFORMANCE = "performance", "Performance"
        VIDEO = "video", "Video"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    class Claim(models.TextChoices):
        SELF_DECLARED = "self_declared", "Self-declared"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="works"
    )
    title = models.CharField(max_length=300)
    title_folded = models.CharField(
        max_length=FOLDED_MAX,
        blank=True,
        editable=False,
        help_text="fold_title(title) (accounts/folding.py), set by every writer of a title: "
        "what search and title matching compare.",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    description = models.TextField(blank=True, max_length=5000)
    co_creators = models.TextField(
        "co-creators",
        blank=True,
        max_length=1000,
        help_text="Anyone who made this work with you, and their part (one per line).",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)

    claim_state = models.CharField(
        max_length=16, choices=Claim.choices, default=Claim.SELF_DECLARED
    )
    claim_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="When the creator asked for their claim to be verified."
    )
    claim_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claim_decided_at = models.DateTimeField(null=True, blank=True)
    claim_reason = models.TextField(blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["owner", "status", "-created_at"]),
            models.Index(fields=["owner", "title"]),
            # Equality (title matching); not db_index, which on PostgreSQL adds a LIKE 'x%'
            # index that search's '%x%' cannot use.
            models.Index(fields=["title_folded"], name="work_title_folded"),
            models.Index(
                fields=["claim_requested_at"],
                condition=Q(claim_state="self_declared", claim_requested_at__isnull=False),
                name="work_claim_queue",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(claim_state="self_declared") | Q(claim_decided_at__isnull=False),
                name="work_claim_decision_has_time",
            )
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("works:detail", args=[self.public_id])

    def get_public_url(self):
        return reverse("works:public", args=[self.public_id])

    def clean(self):
        this_year = timezone.now().year
        if self.year is not None and not (1000 <= self.year <= this_year + 1):
            raise ValidationError({"year": f"Give a year between 1000 and {this_year + 1}."})
        if self.title and not self.title.strip():
            raise ValidationError({"title": "Give the work a title."})

    @property
    def is_archived(self) -> bool:
        return self.status == self.Status.ARCHIVED

    @property
    def claim_pending(self) -> bool:
        return self.claim_state == self.Claim.SELF_DECLARED and self.claim_requested_at is not None


class WorkIdentifier(models.Model):
    class Scheme(models.TextChoices):
        ISBN = "isbn", "ISBN"
        ISRC = "isrc", "ISRC"
        ISWC = "iswc", "ISWC"
        DOI = "doi", "DOI"
        URL = "url", "URL"

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="identifiers")
    scheme = models.CharField(max_length=8, choices=Scheme.choices)
    value = models.CharField(max_length=2000, help_text="Normalised (see works/identifiers.py).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scheme", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["work", "scheme", "value"], name="identifier_once_per_work"
            )
        ]
        indexes = [models.Index(fields=["scheme", "value"])]

    def __str__(self):
        return f"{self.get_scheme_display()} {self.display}"

    @property
    def display(self) -> str:
        from .identifiers import display

        return display(self.scheme, self.value)


def _private_path(prefix: str, instance, filename: str) -> str:
    # Never the uploader's file name: a random name under the owner's folder, with the
    # extension of the type we detected from the content.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"{prefix}/{instance.work.owner_id}/{uuid.uuid4().hex}.{ext}"


def original_path(instance, filename):
    return _private_path("originals", instance, filename)


def thumbnail_path(instance, filename):
    return _private_path("thumbnails", instance, filename)


def evidence_path(instance, filename):
    return _private_path("evidence", instance, filename)


class WorkFile(models.Model):
    """The uploaded file of a work. Originals are private: only the owner and the staff
    verifying their claim download them, through an access-checked view."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Refused"

    work = models.OneToOneField(Work, on_delete=models.CASCADE, related_name="file")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROCESSING)
    original = models.FileField(upload_to=original_path, max_length=300, blank=True)
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    family = models.CharField(max_length=8)
    format = models.CharField(max_length=8)
    mime = models.CharField(max_length=100)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    phash = models.BigIntegerField(
        null=True, blank=True, help_text="64-bit DCT perceptual hash, stored signed."
    )
    # The same hash in 5 indexed blocks (see PHASH_BLOCK_BITS below): the near-match index.
    phash_b0 = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    phash_b1 = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    phash_b2 = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    phash_b3 = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    phash_b4 = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    thumbnail = models.FileField(upload_to=thumbnail_path, max_length=300, blank=True)
    error = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["uploaded_at"], condition=Q(status="processing"), name="workfile_processing"
            )
        ]

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def is_image(self) -> bool:
        return self.family == "image"


class ClaimEvidence(models.Model):
    """What a creator shows to have their claim verified: a file, a link, or a statement."""

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, max_length=300, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file_mime = models.CharField(max_length=100, blank=True)
    file_size = models.BigIntegerField(default=0, help_text="Bytes, counted in their quota.")
    url = models.URLField(max_length=2000, blank=True)
    statement = models.TextField(blank=True, max_length=5000)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(file="") | ~Q(url="") | ~Q(statement=""),
                name="evidence_not_empty",
            )
        ]

    def __str__(self):
        return self.file_name or self.url or self.statement[:60]


# --- Perceptual-hash block index ----------------------------------------------------------------
# Two 64-bit hashes within Hamming distance 4 agree on at least one of any 5 disjoint blocks of
# their bits (pigeonhole: 4 differing bits touch at most 4 blocks). So each stored hash is also
# kept as 5 blocks (13, 13, 13, 13 and 12 bits), each indexed: candidates are the rows sharing a
# block, and only they have their distance computed. See works/conflicts.py.
PHASH_BLOCK_BITS = (13, 13, 13, 13, 12)


def phash_blocks(phash_unsigned: int) -> tuple[int, ...]:
    blocks, shift = [], 64
    for bits in PHASH_BLOCK_BITS:
        shift -= bits
        blocks.append((phash_unsigned >> shift) & ((1 << bits) - 1))
    return tuple(blocks)


class ImportJob(models.Model):
    """A catalogue import (CSV of metadata, or ZIP of files with optional metadata), run by the
    worker in batches; its progress and per-row errors are kept for the creator to follow."""

    class Kind(models.TextChoices):
        CSV = "csv", "CSV of works"
        ZIP = "zip", "ZIP of files"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Finished"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs"
    )
    kind = models.CharField(max_length=4, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    source = models.FileField(upload_to="imports/%Y/%m/", max_length=300, blank=True)
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(
        default=0, help_text="Rows that matched a work already registered (nothing duplicated)."
    )
    error_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the whole import failed, if it did.")
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["queued", "running"]),
                name="importjob_unfinished",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.original_name} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(100 * self.processed_rows / self.total_rows))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ImportRowError(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField(help_text="Row number in the file (the header is row 1).")
    column = models.CharField(max_length=100, blank=True)
    message = models.TextField()

    class Meta:
        ordering = ["row", "pk"]
        indexes = [models.Index(fields=["job", "row"])]

    def __str__(self):
        return f"row {self.row} {self.column}: {self.message}"


class Conflict(models.Model):
    """Two creators' works that look like the same work: a shared identifier, URL or file
    (SHA-256), or images within ``PHASH_MAX_DISTANCE``. ``work_a`` is the earlier registration."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class Resolution(models.TextChoices):
        A_STANDS = "a_stands", "The first claim stands"
        B_STANDS = "b_stands", "The second claim stands"
        BOTH_STAND = "both_stand", "Both claims stand"
        NOT_A_CONFLICT = "not_a_conflict", "Not the same work"

    work_a = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="conflicts_as_a")
    work_b = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="conflicts_as_b")
    matches = models.JSONField(
        default=list, help_text='What matched, e.g. [{"kind": "isbn", "value": "978…"}].'
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    reason = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    block_lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    block_lifted_at = models.DateTimeField(null=True, blank=True)
    block_lift_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["work_a", "work_b"], name="one_conflict_per_pair"),
            models.CheckConstraint(
                condition=~Q(work_a=models.F("work_b")), name="conflict_two_works"
            ),
            models.CheckConstraint(
                condition=Q(status="open", resolution="")
                | Q(status="resolved") & ~Q(resolution=""),
                name="conflict_resolution_when_resolved",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"Conflict {self.pk}: {self.work_a_id} ~ {self.work_b_id}"


def new_pending_token() -> str:
    return secrets.token_urlsafe(32)


def pending_path(instance, filename):
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"pending/{instance.owner_id}/{uuid.uuid4().hex}.{ext}"


class PendingUpload(models.Model):
    """A file chosen on "Register a work" when the form failed on another field (or named a
    possible duplicate): vetted by its content, then kept for its owner alone, so that sending
    the form again without choosing it again registers the work with it. It is the owner's for
    ``WORKS_PENDING_UPLOAD_MAX_AGE`` seconds; the works sweep deletes older ones
    (works/pending.py)."""

    token = models.CharField(max_length=64, unique=True, default=new_pending_token, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(upload_to=pending_path, max_length=300)
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    mime = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Pending upload {self.original_name} of user {self.owner_id}"
