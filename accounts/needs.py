"""One item of a dashboard's "Needs you" panel (issue 20): something waiting on the person who
reads it, with how many, how long it has waited or when it is due, and the one page where it is
acted on. The selectors that find them live with each dashboard (``portal.needs`` for creators,
guild staff and administrators; ``notices.needs`` for an AI developer's people); the panel is
``templates/includes/needs_panel.html``. Nothing here reads another app."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.timesince import timesince, timeuntil


@dataclass(frozen=True)
class Need:
    """``key`` names the kind of item (``question``, ``membership-claims``…: tests and CSS read
    it); ``text`` is the link's words and ``url`` where it leads; ``when`` says in words how old
    or how due it is, about the moment ``at`` (for a ``<time>`` element); ``urgent`` marks what
    is already late."""

    key: str
    text: str
    url: str
    count: int | None = None
    when: str = ""
    at: datetime | None = None
    urgent: bool = False


def age_words(since: datetime, now: datetime | None = None) -> str:
    """How long ago ``since`` was, in its largest unit: "3 days", "2 weeks", "less than a day"."""
    now = now or timezone.now()
    if now - since < timedelta(days=1):
        return "less than a day"
    return timesince(since, now, depth=1)


def due_words(due: datetime, now: datetime | None = None) -> str:
    """A deadline in words: "due 12 January 2027 (in 29 days)", "was due 3 January 2027 (9 days
    ago)"."""
    now = now or timezone.now()
    day = f"{timezone.localtime(due):%-d %B %Y}"
    if due > now:
        left = "less than a day" if due - now < timedelta(days=1) else None
        return f"due {day} (in {left or timeuntil(due, now, depth=1)})"
    return f"was due {day} ({age_words(due, now)} ago)"
