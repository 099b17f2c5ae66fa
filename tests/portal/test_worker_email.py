"""Account emails leave through a real Celery worker process, after the transaction commits."""

import re
from urllib.parse import urlparse

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from tests.services import wait_for

pytestmark = pytest.mark.worker


def test_worker_sends_the_verification_email_that_confirms_the_address(
    celery_worker, smtp_server, client
):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "newcomer@example.org",
            "password1": "a long pass phrase 2026",
            "password2": "a long pass phrase 2026",
        },
    )
    assert response.status_code == 302

    messages = wait_for(lambda: smtp_server.messages, timeout=30, what="the verification email")
    assert len(messages) == 1
    message = messages[0]
    assert message["To"] == "newcomer@example.org"
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", body).group(0)

    # The link confirms nothing by GET (mail scanners fetch links); the page's button POSTs.
    assert client.get(urlparse(link).path).status_code == 200
    assert not EmailAddress.objects.get(email="newcomer@example.org").verified
    client.post(urlparse(link).path)
    assert EmailAddress.objects.get(email="newcomer@example.org").verified


def test_worker_runs_the_heartbeat_that_healthz_reads(celery_worker, client):
    from django.core.cache import cache

    from portal.health import HEARTBEAT_KEY
    from portal.tasks import heartbeat

    # A worker says it is alive as soon as it is ready…
    assert client.get("/healthz").status_code == 200
    # …and from then on through beat's periodic task, which it runs.
    cache.delete(HEARTBEAT_KEY)
    assert client.get("/healthz").json()["worker"]["ok"] is False
    heartbeat.delay()
    wait_for(lambda: client.get("/healthz").json()["worker"]["ok"], timeout=30, what="a heartbeat")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["ok"] is True
