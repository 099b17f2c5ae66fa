"""Digest periods: a UTC day (``2026-11-25``) or an ISO week, Monday to Monday UTC
(``2026-W47``)."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from notices.models import AIDeveloper


@dataclass(frozen=True)
class Period:
    frequency: str  # "daily" or "weekly"
    label: str  # "2026-11-25" or "2026-W47"
    start: datetime  # aware, UTC, included
    end: datetime  # aware, UTC, excluded

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def period_of_day(day: date) -> Period:
    return Period("daily", day.isoformat(), _midnight(day), _midnight(day + timedelta(days=1)))


def period_of_week(year: int, week: int) -> Period:
    monday = date.fromisocalendar(year, week, 1)
    return Period(
        "weekly", f"{year}-W{week:02d}", _midnight(monday), _midnight(monday + timedelta(days=7))
    )


def period_latest(frequency: str, now: datetime) -> Period:
    """The latest complete period at ``now``: the previous UTC day, or the previous ISO week
    (Monday 00:00 to Monday 00:00 UTC)."""
    today = now.astimezone(UTC).date()
    if frequency == AIDeveloper.DigestFrequency.DAILY:
        return period_of_day(today - timedelta(days=1))
    if frequency == AIDeveloper.DigestFrequency.WEEKLY:
        iso = (today - timedelta(days=today.weekday() + 7)).isocalendar()
        return period_of_week(iso.year, iso.week)
    raise ValueError(f"no digest period for frequency {frequency!r}")


_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")


def period_parse(label: str) -> Period | None:
    """The period a label names (``2026-11-25`` or ``2026-W47``), or None."""
    try:
        if match := _DAY.fullmatch(label):
            return period_of_day(date(*map(int, match.groups())))
        if match := _WEEK.fullmatch(label):
            return period_of_week(int(match[1]), int(match[2]))
    except ValueError:
        pass
    return None


def local_day_before(instant: datetime) -> date:
    """The portal's local date just before ``instant`` — the date licence grants are judged on
    (as ``decisions`` does with ``timezone.localdate()``)."""
    return timezone.localdate(
        instant - timedelta(microseconds=1), timezone=timezone.get_default_timezone()
    )
