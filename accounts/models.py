import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.urls import reverse

from .folding import FOLDED_MAX, fold
from .pronouns import (
    PRONOUNS_MAX,
    Pronouns,
    normalise_pronouns,
    pronouns_or_they,
    validate_pronouns,
)
from .validators import normalise_isni, validate_isni


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in with an email address.

    Roles in the portal are not Django's ``is_staff``: guild staff are users with an active
    ``GuildStaffAppointment``; registry managers have ``is_registry_manager``.
    """

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    ref = models.UUIDField(
        "opaque reference",
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="Names the person in records that outlive the account (the consent ledger).",
    )
    is_registry_manager = models.BooleanField(
        default=False,
        help_text="May create and edit AI developers and their notice contacts.",
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email

    @property
    def label(self) -> str:
        """How the user is named to others: the profile's display name, else the email."""
        profile = getattr(self, "creator_profile", None)
        if profile and profile.display_name:
            return profile.display_name
        return self.email

    @property
    def can_manage_registry(self) -> bool:
        return self.is_active and (self.is_superuser or self.is_registry_manager)


class CreatorProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="creator_profile"
    )
    display_name = models.CharField(max_length=120, blank=True)
    credit_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="Exactly how you want to be credited, e.g. “Ada Lovelace” or “A. A. Lovelace”.",
    )
    pseudonyms = models.TextField(
        blank=True, help_text="Other names you publish under, one per line."
    )
    pronouns = models.CharField(
        max_length=PRONOUNS_MAX,
        blank=True,
        validators=[validate_pronouns],
        help_text=(
            "Optional, e.g. “they/them”, “she/her”, “he/him” or “ze/zir”. Letters to AI "
            "developers use them; left empty, they use your name and “they”."
        ),
    )
    isni = models.CharField(
        "ISNI",
        max_length=16,
        blank=True,
        validators=[validate_isni],
        help_text=(
            "Your International Standard Name Identifier: 16 characters, e.g. 0000 0001 2103 2683."
        ),
    )
    website = models.URLField(blank=True, max_length=500)
    bio = models.TextField("short bio", blank=True, max_length=2000)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.display_name or str(self.user)

    @property
    def pseudonym_list(self) -> list[str]:
        return [line.strip() for line in self.pseudonyms.splitlines() if line.strip()]

    @property
    def isni_display(self) -> str:
        if not self.isni:
            return ""
        return " ".join(self.isni[i : i + 4] for i in range(0, 16, 4))

    @property
    def names_folded(self) -> set[str]:
        """Every name the creator publishes under, folded: credit name, display name, pseudonyms."""
        names = [self.credit_name, self.display_name, *self.pseudonym_list]
        return {folded for folded in map(fold, names) if folded}

    @property
    def pronoun_set(self) -> Pronouns:
        """The pronouns the portal's words use for this creator (neutral "they" unless a
        recognised set is given)."""
        return pronouns_or_they(self.pronouns)

    def clean(self):
        if self.isni:
            self.isni = normalise_isni(self.isni)
        self.pronouns = normalise_pronouns(self.pronouns)


class CreatorName(models.Model):
    """One of a creator's names folded (``CreatorProfile.names_folded``), indexed: what a
    disclosure's author column is compared with. Written only by
    ``services.profile_names_sync``, from every service that changes the creator's names."""

    profile = models.ForeignKey(
        CreatorProfile, on_delete=models.CASCADE, related_name="folded_names"
    )
    name_folded = models.CharField(max_length=FOLDED_MAX)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "name_folded"], name="creator_name_once_per_profile"
            )
        ]
        indexes = [models.Index(fields=["name_folded", "profile"], name="creator_name_folded")]

    def __str__(self):
        return self.name_folded


class Guild(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    website = models.URLField(blank=True, max_length=500)
    contact_email = models.EmailField(
        blank=True, help_text="Where AI developers' replies about this guild's notices go."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("accounts:guild-detail", args=[self.slug])


class GuildMembership(models.Model):
    class Status(models.TextChoices):
        CLAIMED = "claimed", "Awaiting verification"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    guild = models.ForeignKey(Guild, on_delete=models.PROTECT, related_name="memberships")
    membership_number = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CLAIMED)
    claimed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="membership_decisions",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["claimed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "guild"], name="one_membership_per_guild"),
            models.CheckConstraint(
                condition=Q(status="claimed") | Q(decided_at__isnull=False),
                name="membership_decision_has_time",
            ),
        ]
        indexes = [models.Index(fields=["guild", "status", "claimed_at"])]

    def __str__(self):
        return f"{self.user} in {self.guild} ({self.get_status_display()})"


class GuildStaffAppointmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class GuildStaffAppointment(models.Model):
    """A user appointed to act as staff of a guild. Revoking keeps the row, for the record."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_appointments"
    )
    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="staff_appointments")
    appointed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    appointed_at = models.DateTimeField(auto_now_add=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = GuildStaffAppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["-appointed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "guild"],
                condition=Q(revoked_at__isnull=True),
                name="one_active_appointment_per_guild",
            )
        ]

    def __str__(self):
        return f"{self.user} staff of {self.guild}"


class AuditEvent(models.Model):
    """One recorded administrative action: who did what to what, with before and after.

    The actor is kept as an id *and* a label so the record survives the account's deletion.
    Rows are only ever inserted (see ``accounts.services.audit_record``).
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    object_label = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id", "created_at"])]

    def __str__(self):
        return f"{self.actor_label} {self.action} {self.object_type}:{self.object_id}"


class MandateQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class Mandate(models.Model):
    """A creator lets their guild's staff change their consent preferences on their behalf. Granted
    and revoked by them alone; revoking keeps the row, for the record."""

    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mandates"
    )
    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="mandates")
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = MandateQuerySet.as_manager()

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["creator", "guild"],
                condition=Q(revoked_at__isnull=True),
                name="one_active_mandate_per_guild",
            )
        ]

    def __str__(self):
        return f"{self.creator} → {self.guild}"


class OutboundEmail(models.Model):
    """One email to a person (account, creator or staff), kept until it is sent: written in
    the transaction of the change it tells of, claimed and sent by a worker, retried from here
    (see ``accounts.mail``). ``message_id`` is set when it is queued, so every copy a retry
    sends is recognisably the same message."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    message_id = models.CharField(max_length=255, unique=True)
    to = models.TextField()  # the recipients, comma-separated (for operators; sent from payload)
    subject = models.CharField(max_length=300)
    payload = models.JSONField()  # the message (emptied once sent: it may hold sign-in links)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbound_email_due")]

    def __str__(self):
        return f"{self.subject} → {self.to} ({self.status})"
