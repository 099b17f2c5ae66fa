from celery import shared_task
from django.conf import settings

from . import matching, notify, services


# A run stops after DISCLOSURE_TIME_LIMIT s (10,000,000 rows take well under that); the sweep
# takes it over from the last batch written once its lease ends.
@shared_task(
    soft_time_limit=settings.DISCLOSURE_TIME_LIMIT,
    time_limit=settings.DISCLOSURE_TIME_LIMIT + 60,
)
def disclosure_match(disclosure_id: int) -> None:
    matching.disclosure_run(disclosure_id=disclosure_id)


@shared_task(
    soft_time_limit=settings.DISCLOSURE_TIME_LIMIT,
    time_limit=settings.DISCLOSURE_TIME_LIMIT + 60,
)
def disclosure_rematch(disclosure_id: int) -> None:
    matching.disclosure_rematch(disclosure_id=disclosure_id)


@shared_task
def disclosures_sweep() -> None:
    matching.disclosures_sweep()
    matching.disclosures_rematch()
    notify.findings_announce_due()


@shared_task
def disclosure_manifests_expire() -> None:
    services.manifests_expire()
