"""A site's life against a real local server: declared, checked on their request by the worker
(eager here), verified; re-checked monthly by the beat's sweep; a failed re-check starts a
grace week (emailed), after which the site is suspended (emailed — durable email rows); a
success ends the grace. Time moves by the services' ``now`` argument, never by sleeping."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import AuditEvent, OutboundEmail
from works_registry import sites_services
from works_registry.lookup import lookup
from works_registry.models import Site

from .test_sites_proof import serving

T0 = timezone.now().replace(microsecond=0) + timedelta(days=1)
DAY = timedelta(days=1)


def _emails(user, words: str) -> list[OutboundEmail]:
    return [e for e in OutboundEmail.objects.filter(to=user.email) if words in e.subject]


def _site_answer(url: str) -> list[str]:
    [result] = lookup([{"url": url}])
    return [entry["site"]["public_id"] for entry in result.get("sites", ())]


@pytest.fixture
def site_server(settings):
    with serving(settings) as server:
        yield server


@pytest.fixture
def verified(creator, site_server):
    """Their site at the local server, verified by a check at T0 (the token in the file)."""
    site = sites_services.site_declare(actor=creator, address=site_server.url + "/")
    site_server.publish_file(site.token)
    Site.objects.filter(pk=site.pk).update(next_check_at=T0)
    site = sites_services.site_check(site_id=site.pk, now=T0)
    assert site.status == Site.Status.VERIFIED
    return site


def test_check_now_has_the_worker_verify_the_site(
    creator,
    site_server,
    django_capture_on_commit_callbacks,
):
    site = sites_services.site_declare(actor=creator, address=site_server.url)
    assert site.status == Site.Status.PENDING and site.url == site_server.url + "/"
    site_server.publish_meta(site.token)
    with django_capture_on_commit_callbacks(execute=True):
        sites_services.site_check_request(actor=creator, site=site)
    site.refresh_from_db()
    assert site.status == Site.Status.VERIFIED
    assert site.method == Site.Method.META and site.verified_at is not None
    assert site.last_check_ok is True and site.check_requested_at is None
    assert site.next_check_at - site.last_checked_at == timedelta(days=30)
    assert AuditEvent.objects.filter(action="site.verify", object_id=str(site.pk)).exists()
    assert _site_answer(site_server.url + "/any/page") == [site.public_id]


def test_a_failed_first_check_leaves_the_site_pending_with_what_was_seen(
    creator,
    site_server,
    django_capture_on_commit_callbacks,
):
    site = sites_services.site_declare(actor=creator, address=site_server.url)
    with django_capture_on_commit_callbacks(execute=True):
        sites_services.site_check_request(actor=creator, site=site)
    site.refresh_from_db()
    assert site.status == Site.Status.PENDING and site.last_check_ok is False
    assert "answered HTTP 404" in site.last_check_message
    assert site.next_check_at is None  # checked again when they ask
    assert _site_answer(site_server.url + "/") == []
    assert not OutboundEmail.objects.filter(to=creator.email).exists()


def test_check_now_is_refused_while_a_check_runs_and_just_after_one(creator, site_server):
    site = sites_services.site_declare(actor=creator, address=site_server.url)
    sites_services.site_check_request(actor=creator, site=site, now=T0)  # not run: no commit
    with pytest.raises(ValidationError, match="already under way"):
        sites_services.site_check_request(actor=creator, site=site, now=T0 + timedelta(seconds=5))
    # Its message was lost: once the lease is over, they may ask again.
    sites_services.site_check_request(actor=creator, site=site, now=T0 + timedelta(minutes=5))
    done = T0 + timedelta(minutes=6)
    sites_services.site_check(site_id=site.pk, now=done)
    with pytest.raises(ValidationError, match="check it again in 20 seconds"):
        sites_services.site_check_request(
            actor=creator, site=site, now=done + timedelta(seconds=10)
        )
    sites_services.site_check_request(actor=creator, site=site, now=done + timedelta(seconds=30))


def test_the_monthly_recheck_then_the_grace_week_then_suspension(creator, verified, site_server):
    site = verified
    assert sites_services.sites_due(now=T0 + 29 * DAY) == []
    assert sites_services.sites_due(now=T0 + 30 * DAY) == [site.pk]

    site_server.pages.clear()  # they took the token down
    day30 = T0 + 30 * DAY
    site = sites_services.site_check(site_id=site.pk, now=day30)
    assert site.status == Site.Status.VERIFIED and site.failing_since == day30
    assert site.next_check_at == day30 + DAY  # daily during the grace
    [warning] = _emails(creator, "could not find the token")
    assert warning.status == OutboundEmail.Status.QUEUED
    assert "will be suspended" in warning.payload["body"]
    assert _site_answer(site_server.url + "/") == [site.public_id]  # still counts

    site = sites_services.site_check(site_id=site.pk, now=day30 + 3 * DAY)
    assert site.status == Site.Status.VERIFIED
    assert len(_emails(creator, "could not find the token")) == 1  # one warning, not daily

    assert sites_services.site_check(site_id=site.pk, now=day30 + 6 * DAY).status == "verified"
    site = sites_services.site_check(site_id=site.pk, now=day30 + 7 * DAY)
    assert site.status == Site.Status.SUSPENDED and site.suspended_at == day30 + 7 * DAY
    assert site.next_check_at is None
    [suspended] = _emails(creator, "is suspended")
    assert suspended.status == OutboundEmail.Status.QUEUED
    assert site.address in suspended.payload["body"]
    assert AuditEvent.objects.filter(action="site.suspend", object_id=str(site.pk)).exists()
    assert _site_answer(site_server.url + "/") == []
    assert sites_services.sites_due(now=day30 + 60 * DAY) == []  # only when they ask

    # They publish the token again and check: the site counts again.
    site_server.publish_file(site.token)
    later = day30 + 9 * DAY
    sites_services.site_check_request(actor=creator, site=site, now=later)
    site = sites_services.site_check(site_id=site.pk, now=later)
    assert site.status == Site.Status.VERIFIED and site.verified_at == later
    assert site.suspended_at is None and site.failing_since is None
    assert _site_answer(site_server.url + "/") == [site.public_id]


def test_a_success_during_the_grace_ends_it(creator, verified, site_server):
    token = verified.token
    site_server.pages.clear()
    day30 = T0 + 30 * DAY
    sites_services.site_check(site_id=verified.pk, now=day30)
    site_server.publish_file(token)
    site = sites_services.site_check(site_id=verified.pk, now=day30 + 2 * DAY)
    assert site.status == Site.Status.VERIFIED and site.failing_since is None
    assert site.next_check_at == day30 + 32 * DAY
    site_server.pages.clear()
    site = sites_services.site_check(site_id=verified.pk, now=day30 + 32 * DAY)
    assert site.status == Site.Status.VERIFIED and site.failing_since == day30 + 32 * DAY
    assert len(_emails(creator, "could not find the token")) == 2  # a new grace, a new warning
    assert not _emails(creator, "is suspended")


def test_a_check_that_is_not_due_or_already_claimed_does_nothing(verified, site_server):
    requests = len(site_server.requests)
    assert sites_services.site_check(site_id=verified.pk, now=T0 + DAY) is None  # not due
    day30 = T0 + 30 * DAY
    assert sites_services._claim(verified.pk, day30)  # another worker took it
    assert sites_services.site_check(site_id=verified.pk, now=day30) is None
    assert len(site_server.requests) == requests
    verified.refresh_from_db()  # its lease ends: due again for the sweep
    assert verified.next_check_at == day30 + timedelta(seconds=300)
    assert sites_services.sites_due(now=day30 + timedelta(seconds=301)) == [verified.pk]


def test_the_sweep_wakes_the_worker_for_due_sites_in_batches(
    creator,
    other_creator,
    verified,
    site_server,
    settings,
):
    now = timezone.now()
    pending = sites_services.site_declare(actor=other_creator, address="https://bob.example/")
    removed = sites_services.site_declare(actor=other_creator, address="https://gone.example/")
    sites_services.site_remove(actor=other_creator, site=removed)
    Site.objects.filter(pk=verified.pk).update(next_check_at=now - 2 * DAY)
    Site.objects.filter(pk=pending.pk).update(next_check_at=now - DAY)  # a lost "check now"
    Site.objects.filter(pk=removed.pk).update(next_check_at=now - 3 * DAY)
    settings.SITES_SWEEP_BATCH = 1
    assert sites_services.sites_due(now=now) == [verified.pk]
    settings.SITES_SWEEP_BATCH = 200
    assert sites_services.sites_due(now=now) == [verified.pk, pending.pk]

    # The beat's task, with the worker eager: the verified site's check really runs.
    from works_registry.tasks import sites_recheck

    Site.objects.filter(pk=pending.pk).update(next_check_at=None)
    sites_recheck.delay()
    verified.refresh_from_db()
    assert verified.last_checked_at >= now and verified.last_check_ok
    assert verified.next_check_at > now + 29 * DAY


def test_a_creator_removes_their_site_and_it_stops_counting(
    creator, other_creator, verified, site_server
):
    with pytest.raises(Exception, match="not yours"):
        sites_services.site_remove(actor=other_creator, site=verified)
    site = sites_services.site_remove(actor=creator, site=verified)
    assert site.status == Site.Status.REMOVED and site.removed_by == creator
    assert _site_answer(site_server.url + "/") == []
    # They may declare it again: a new site, a new token.
    again = sites_services.site_declare(actor=creator, address=site_server.url + "/")
    assert again.pk != site.pk and again.token != site.token and again.status == "pending"


def test_each_change_of_status_tells_the_listeners_in_its_transaction(
    creator, site_server, monkeypatch
):
    heard = []
    monkeypatch.setattr(sites_services, "_status_listeners", [])
    sites_services.register_status_listener(
        lambda site, before: heard.append((before, site.status))
    )
    site = sites_services.site_declare(actor=creator, address=site_server.url)
    site_server.publish_file(site.token)
    Site.objects.filter(pk=site.pk).update(next_check_at=T0)
    sites_services.site_check(site_id=site.pk, now=T0)
    site_server.pages.clear()
    sites_services.site_check(site_id=site.pk, now=T0 + 30 * DAY)
    sites_services.site_check(site_id=site.pk, now=T0 + 37 * DAY)
    sites_services.site_remove(actor=creator, site=site)
    assert heard == [("pending", "verified"), ("verified", "suspended"), ("suspended", "removed")]


@pytest.fixture
def worker_reaches_loopback(monkeypatch):
    """The worker process reads its settings from the environment: let it reach this machine."""
    monkeypatch.setenv("NOTICES_WEBHOOK_ALLOW_LOOPBACK", "1")
    monkeypatch.setenv("SITES_CHECK_TIMEOUT", "5")


@pytest.mark.worker
def test_a_real_worker_process_checks_the_site(
    worker_reaches_loopback, site_server, celery_worker, client, creator
):
    from django.urls import reverse

    from tests.services import wait_for

    site = sites_services.site_declare(actor=creator, address=site_server.url)
    site_server.publish_file(site.token)
    client.force_login(creator)
    response = client.post(reverse("sites:check", args=[site.public_id]))
    assert response.status_code == 302  # the request does not wait for the check

    def checked():
        site.refresh_from_db()
        return site.last_checked_at is not None

    try:
        wait_for(checked, timeout=30, what="the worker to check the site")
    except AssertionError:
        raise AssertionError(celery_worker.log().decode(errors="replace")[-3000:]) from None
    assert site.status == Site.Status.VERIFIED and site.method == Site.Method.FILE
    assert site_server.requests[0][0] == "/.well-known/creator-consent.txt"
