"""The works registry's tasks: thin, each loads by id and calls a service (docs/sites.md)."""

from celery import shared_task
from django.conf import settings

from . import export, sites_services


@shared_task(ignore_result=True)
def site_check(site_id: int) -> None:
    sites_services.site_check(site_id=site_id)


@shared_task(ignore_result=True)
def sites_recheck() -> None:
    sites_services.sites_recheck()


# --- Registry exports (export.py) ----------------------------------------------------------------


@shared_task(ignore_result=True, time_limit=settings.WORKS_REGISTRY_EXPORT_TIME_LIMIT)
def registry_export_build(export_id: int) -> None:
    export.export_build(export_id=export_id)


@shared_task(ignore_result=True)
def registry_exports_sweep() -> None:
    export.exports_sweep()
