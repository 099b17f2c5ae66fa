"""The works registry's tasks: thin, each loads by id and calls a service (docs/sites.md)."""

from celery import shared_task

from . import sites_services


@shared_task(ignore_result=True)
def site_check(site_id: int) -> None:
    sites_services.site_check(site_id=site_id)


@shared_task(ignore_result=True)
def sites_recheck() -> None:
    sites_services.sites_recheck()

