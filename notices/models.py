from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse


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
