import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _heartbeat_when_ready(**kwargs):
    """A worker that has just started is alive: say so without waiting a whole beat period.
    From then on beat's ``portal.tasks.heartbeat`` keeps the timestamp fresh."""
    from portal.health import heartbeat_write

    heartbeat_write()
