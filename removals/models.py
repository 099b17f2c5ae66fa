"""Removal requests: a creator asks AI developers to stop using their works, their guild checks the
claim, and the notice engine carries one notice per developer to an answer.

The lifecycle (``RemovalRequest.Status``)::

    draft → submitted → in_review → approved → closed
                ↑  ↓         ↓    ↘ rejected      ↘ retracted
              needs_info ←───┘
    draft / submitted / needs_info → withdrawn (by them, before a decision)
    approved ⇄ contested (the creator contests a developer's "complied" within
                          ``REMOVALS_CONTEST_DAYS``; the guild's staff ask that developer again)

Every transition is a ``RemovalEvent`` row (who, when, why): the creator's timeline.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class Ask(models.TextChoices):
    CEASE = "cease", "Stop using the works"
    DATASETS = "datasets", "Remove them from training datasets"
    MODELS = "models", "Remove them from trained models and models derived from them"
    INFERENCE = "inference", "Stop using them at inference or retrieval"
    CREDIT = "credit", "Credit the creator"
    COMPENSATION = "compensation", "Pay for the use made"


class RemovalRequest(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        IN_REVIEW = "in_review", "In review"
        NEEDS_INFO = "needs_info", "More information asked"
        APPROVED = "approved", "Approved — notices sent"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        RETRACTED = "retracted", "Retracted"
        CLOSED = "closed", "Closed"
        # The creator contested a developer's "complied": back with their guild's staff.
        CONTESTED = "contested", "Contested"

    OPEN_FOR_REVIEW = (Status.SUBMITTED, Status.IN_REVIEW)
    EDITABLE = (Status.DRAFT, Status.NEEDS_INFO)

    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="removal_requests"
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The creator, or guild staff filing under their mandate.",
    )
    mandate = models.ForeignKey(
        "accounts.Mandate", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(
        max_length=200, blank=True, help_text="Their own name for the request (optional)."
    )
    works = models.ManyToManyField("works.Work", related_name="removal_requests", blank=True)
    all_developers = models.BooleanField(
        default=False, help_text="Every registered developer active when the request is approved."
    )
    developers = models.ManyToManyField(
        "notices.AIDeveloper", related_name="removal_requests", blank=True
    )
    asks = models.JSONField(default=list, blank=True, help_text="Codes of ``Ask``.")
    where_used = models.TextField(
        blank=True, help_text="Where they believe the works were used (free text, URLs)."
    )
    good_faith = models.BooleanField(default=False)
    accurate = models.BooleanField(default=False)
    notify_steps = models.JSONField(
        default=list,
        blank=True,
        help_text="Steps they are emailed at (``RemovalEvent.Action`` values).",
    )
    answer_due_days = models.PositiveSmallIntegerField(default=30)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The moderation queue: submitted requests, oldest first.
            models.Index(
                fields=["submitted_at", "id"],
                condition=Q(status__in=["submitted", "in_review"]),
                name="removal_queue",
            ),
            models.Index(fields=["creator", "-created_at"], name="removal_creator"),
            models.Index(fields=["status", "created_at"], name="removal_status"),
        ]

    def __str__(self):
        return self.title or f"Removal request {self.pk}"

    def get_absolute_url(self):
        return reverse("removals:detail", args=[self.pk])

    @property
    def topic(self) -> str:
        return f"removal:{self.pk}"

    @property
    def ask_labels(self) -> list[str]:
        return [Ask(code).label for code in self.asks if code in Ask.values]


def evidence_path(instance, filename):
    return f"removals/{instance.request_id}/{instance.sha256[:16]}/{filename}"


class RemovalEvidence(models.Model):
    """A file they attach to show where their works were used (a screenshot, a model card)."""

    request = models.ForeignKey(RemovalRequest, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    note = models.CharField(max_length=300, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.filename


class RemovalEvent(models.Model):
    """One step of a request's life: its timeline, and the record of who decided what."""

    class Action(models.TextChoices):
        CREATED = "created", "Draft started"
        SUBMITTED = "submitted", "Submitted"
        WITHDRAWN = "withdrawn", "Withdrawn"
        REVIEW_STARTED = "review_started", "Review started"
        INFO_REQUESTED = "info_requested", "More information asked"
        INFO_GIVEN = "info_given", "Information given"
        CLAIM_VERIFIED = "claim_verified", "Claim verified"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SENT = "sent", "Notice sent"
        ANSWERED = "answered", "Developer answered"
        OVERDUE = "overdue", "Answer overdue"
        RETRACTED = "retracted", "Retracted"
        CLOSED = "closed", "Closed"
        CONTESTED = "contested", "Compliance contested"
        ACCEPTED = "accepted", "Compliance accepted"
        ASKED_AGAIN = "asked_again", "Developer asked again"
        CONTEST_WINDOW_PASSED = "contest_window_passed", "Time to contest passed"

    request = models.ForeignKey(RemovalRequest, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=30, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    developer = models.ForeignKey(
        "notices.AIDeveloper", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notice = models.ForeignKey(
        "notices.Notice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["request", "at"], name="removal_event_request")]

    def __str__(self):
        return f"{self.get_action_display()} ({self.request_id})"


class ComplianceContest(models.Model):
    """A developer's "complied" on a removal notice, which the creator may accept or contest
    until ``window_ends_at`` (``REMOVALS_CONTEST_DAYS`` after the answer). Contested, the
    request goes back to their guild's staff, who may ask the developer again: a follow-up
    notice (``follow_up``) tracked like the first. Unanswered by the creator, it lapses when
    the window passes (``services.contest_windows_sweep``)."""

    class State(models.TextChoices):
        OPEN = "open", "Waiting for the creator"
        ACCEPTED = "accepted", "Accepted"
        CONTESTED = "contested", "Contested"
        ASKED_AGAIN = "asked_again", "Contested — developer asked again"
        LAPSED = "lapsed", "Time to contest passed"
        SUPERSEDED = "superseded", "Replaced by a later answer"

    SETTLED = (State.ACCEPTED, State.LAPSED)

    request = models.ForeignKey(
        RemovalRequest, on_delete=models.CASCADE, related_name="compliance_contests"
    )
    developer = models.ForeignKey("notices.AIDeveloper", on_delete=models.PROTECT, related_name="+")
    notice = models.ForeignKey("notices.Notice", on_delete=models.PROTECT, related_name="+")
    answer = models.OneToOneField(
        "notices.NoticeAnswer", on_delete=models.PROTECT, related_name="compliance_contest"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    window_ends_at = models.DateTimeField()
    reason = models.TextField(blank=True, help_text="Why the creator contests it (plain text).")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    follow_up = models.ForeignKey(
        "notices.Notice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    asked_again_at = models.DateTimeField(null=True, blank=True)
    asked_again_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # The sweep: open windows, the earliest ending first.
            models.Index(
                fields=["window_ends_at"],
                condition=Q(state="open"),
                name="removal_contest_window",
            ),
        ]

    def __str__(self):
        return f"{self.get_state_display()} ({self.request_id}, {self.developer_id})"

    @property
    def badge(self) -> str:
        """Its state's badge class (portal.css)."""
        return {
            self.State.OPEN: "warning",
            self.State.ACCEPTED: "success",
            self.State.CONTESTED: "danger",
            self.State.ASKED_AGAIN: "primary",
            self.State.LAPSED: "success",
        }.get(self.state, "secondary")

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN and self.window_ends_at > timezone.now()


class LetterTemplate(models.Model):
    """The legal wording of removal notices: the portal's default (``guild`` empty), edited by
    superusers, and optionally a guild's own for letters it sends as its member's agent."""

    guild = models.OneToOneField(
        "accounts.Guild",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="letter_template",
    )
    scope = models.CharField(
        max_length=80, unique=True, help_text="“default”, or “guild:<id>” for a guild's own."
    )
    legal_basis = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self):
        return f"Letter wording ({self.guild or 'portal default'})"


class CreatorUpdate(models.Model):
    """One thing to tell the creator about their request by email (a decision, a question, a
    developer's answer…), kept in the database until the email carrying it is queued. The
    updates of one request that fall within ``REMOVALS_UPDATES_WINDOW`` seconds of the first
    pending one leave together, as one email listing each in order (``removals.updates``).

    ``subject``, ``text`` and ``html`` are rendered when the update is recorded: the email says
    what was true then. ``email`` is the outbox row that carried it (``accounts.mail``)."""

    request = models.ForeignKey(RemovalRequest, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=40, help_text="The template: removals/email/<kind>_…")
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(help_text="When the email carrying it is sent at the latest.")
    sent_at = models.DateTimeField(null=True, blank=True)
    email = models.ForeignKey(
        "accounts.OutboundEmail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(sent_at__isnull=True),
                name="removal_update_due",
            ),
            models.Index(fields=["request", "created_at"], name="removal_update_request"),
        ]

    def __str__(self):
        return f"{self.subject} ({self.request_id})"
