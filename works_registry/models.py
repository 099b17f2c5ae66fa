"""Creators' sites (docs/sites.md): a web address whose pages are the creator's, counted once
control of it is proven, and conflicts between two creators' sites."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from works.models import new_public_id

# The change feed's log and the developers' exports live in their own modules (changes.py,
# export.py); imported here so that Django registers them with the app.
from .changes_models import Change, TransactionId  # noqa: F401
from .export_models import RegistryExport  # noqa: F401

TOKEN_PREFIX = "creator-consent-"


def new_site_token() -> str:
    """What the creator publishes on the site: a fixed prefix (so it is recognisable in a
    file among others) and 160 random bits."""
    return TOKEN_PREFIX + secrets.token_hex(20)


class Site(models.Model):
    """``pending`` (declared, no proof yet) → ``verified`` (the token was found) → ``suspended``
    (a re-check kept failing past the grace week; a new check can verify it again) or
    ``removed`` (by its owner, or by staff resolving a conflict; final — it may be declared anew).
    Each change of status has one service in ``sites_services``."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for proof"
        VERIFIED = "verified", "Verified"
        SUSPENDED = "suspended", "Suspended"
        REMOVED = "removed", "Removed"

    class Method(models.TextChoices):
        FILE = "file", "File /.well-known/creator-consent.txt"
        META = "meta", "Meta tag on the home page"

    LIVE = (Status.PENDING, Status.VERIFIED, Status.SUSPENDED)

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sites"
    )
    url = models.CharField(max_length=600, help_text="The home page, as fetched.")
    host = models.CharField(max_length=300, help_text="Lower-case, www. folded, port if any.")
    path = models.CharField(max_length=600, blank=True, help_text='"" or "/art", no final /.')
    token = models.CharField(max_length=64, unique=True, default=new_site_token, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    method = models.CharField(max_length=4, choices=Method.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    removed_reason = models.TextField(blank=True)
    # The last check: when, whether the token was found, and what happened in plain words.
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True, blank=True)
    last_check_message = models.TextField(blank=True)
    # The owner asked for a check ("check now") and it has not ended yet.
    check_requested_at = models.DateTimeField(null=True, blank=True)
    # The first failed check of a verified site: the grace week runs from here.
    failing_since = models.DateTimeField(null=True, blank=True)
    # When the worker checks it next (the sweep's queue); a worker's claim moves it a lease on.
    next_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "host", "path"],
                condition=~Q(status="removed"),
                name="one_live_site_per_owner_and_address",
            ),
            models.CheckConstraint(
                condition=~Q(status="verified") | Q(verified_at__isnull=False),
                name="site_verified_has_verified_at",
            ),
        ]
        indexes = [
            models.Index(fields=["host", "status"]),
            models.Index(fields=["next_check_at"]),
        ]

    def __str__(self):
        return f"Site {self.pk}: {self.url}"

    def get_absolute_url(self):
        return reverse("sites:detail", args=[self.public_id])

    def get_public_url(self):
        return reverse("sites:public", args=[self.public_id])

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE

    @property
    def checking(self) -> bool:
        return self.check_requested_at is not None

    @property
    def address(self) -> str:
        """The site as people read it: host and path, without scheme."""
        return self.url.split("://", 1)[-1].rstrip("/")


class SiteConflict(models.Model):
    """Two creators' verified sites that overlap: the same site, or one inside the other.
    ``site_a`` is the one verified first. Routed like conflicts between works
    (``works.access.route_between``)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class Resolution(models.TextChoices):
        A_STANDS = "a_stands", "The first site stands"
        B_STANDS = "b_stands", "The second site stands"
        BOTH_STAND = "both_stand", "Both sites stand"
        NOT_A_CONFLICT = "not_a_conflict", "Not a conflict"

    site_a = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="conflicts_as_a")
    site_b = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="conflicts_as_b")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    reason = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["site_a", "site_b"], name="one_site_conflict_per_pair"),
            models.CheckConstraint(
                condition=~Q(site_a=models.F("site_b")), name="site_conflict_two_sites"
            ),
            models.CheckConstraint(
                condition=Q(status="open", resolution="")
                | Q(status="resolved") & ~Q(resolution=""),
                name="site_conflict_resolution_when_resolved",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"Site conflict {self.pk}: {self.site_a_id} ~ {self.site_b_id}"
